/**
 * Write batches: the value a Delta becomes on its way to storage. An ordered list of puts and
 * deletes that a store applies all together or not at all. The types live in the pure core,
 * which builds batches; the Storage port (src/storage/port.ts) re-exports them for adapters,
 * which apply them.
 */

/** Store `value` under `key`. */
export interface PutOp {
  readonly type: 'put'
  readonly key: Uint8Array
  readonly value: Uint8Array
  /**
   * The writer knows that `key` holds nothing: it is a record of the commit being written,
   * keyed by sequence numbers never handed out before. A store may then add it without looking
   * for a value to replace (PostgreSQL inserts it instead of upserting); should the key hold
   * one after all, such a store fails the whole batch rather than replace it. Others ignore it.
   */
  readonly fresh?: boolean
}

/** Remove `key` if present. */
export interface DelOp {
  readonly type: 'del'
  readonly key: Uint8Array
}

/** One operation of an atomic batch. */
export type BatchOp = PutOp | DelOp

/**
 * An ordered list of operations that a store applies all together or not at all; operations on
 * the same key take effect in list order.
 */
export type Batch = ReadonlyArray<BatchOp>
