/**
 * The Storage port: the few primitives the engine needs from a key-value store. This module
 * holds only the port's data types; adapters implement them.
 */

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** Store `value` under `key`. */
export interface PutOp {
  readonly type: 'put'
  readonly key: Uint8Array
  readonly value: Uint8Array
}

/** Remove `key` if present. */
export interface DelOp {
  readonly type: 'del'
  readonly key: Uint8Array
}

/** One operation of an atomic batch. */
export type BatchOp = PutOp | DelOp

/** An ordered list of operations that a store applies all together or not at all. */
export type Batch = ReadonlyArray<BatchOp>
