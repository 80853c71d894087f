/**
 * The native RocksDB binding — the only module that loads it. deltalog uses
 * `@salto-io/rocksdb`: the same N-API addon and RocksDB 6.17.3 as the discontinued `rocksdb`
 * package (so logs written by deltalog 0.1 open unchanged), rebuilt so that it loads on every
 * supported Node.js line, with prebuilt binaries for linux-x64, darwin-x64, darwin-arm64 and
 * win32-x64. docs/storage.md says why it was chosen over the alternatives.
 *
 * The adapter calls the addon's functions directly, not through its abstract-leveldown wrapper:
 * the wrapper adds a callback layer per call and lacks nothing deltalog needs. `RocksBinding`
 * types exactly the calls the adapter makes, so that a test can stand in for the addon.
 */
import { createRequire } from 'node:module'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

export type Callback<A = void> = (error: Error | null | undefined, result?: A) => void

/** An opaque handle the addon returns for a database or an iterator. */
export type NativeHandle = object

// The addon takes any Uint8Array where it documents a Buffer (it checks for an array buffer
// view) and copies keys and values into its write batch during the call.
export interface NativeOp {
  readonly type: 'put' | 'del'
  readonly key: Uint8Array
  readonly value?: Uint8Array
}

/** What `db_open` reads; every field the adapter sets is named here. */
export interface NativeOpenOptions {
  readonly createIfMissing: boolean
  readonly errorIfExists: boolean
  readonly readOnly: boolean
}

/** What `iterator_init` reads. */
export interface NativeIteratorOptions {
  readonly reverse: boolean
  readonly limit: number
  readonly keyAsBuffer: true
  readonly valueAsBuffer: true
  readonly fillCache: boolean
  readonly highWaterMark: number
  readonly gt?: Uint8Array
  readonly gte?: Uint8Array
  readonly lt?: Uint8Array
  readonly lte?: Uint8Array
}

/** The addon's functions that the RocksDB adapter calls. */
export interface RocksBinding {
  readonly db_init: () => NativeHandle
  readonly db_open: (
    db: NativeHandle,
    location: string,
    options: NativeOpenOptions,
    callback: Callback,
  ) => void
  readonly db_close: (db: NativeHandle, callback: Callback) => void
  readonly db_get: (
    db: NativeHandle,
    key: Uint8Array,
    options: { readonly asBuffer: true; readonly fillCache: boolean },
    callback: Callback<Buffer>,
  ) => void
  readonly db_get_property: (db: NativeHandle, property: string) => string
  readonly batch_do: (
    db: NativeHandle,
    ops: ReadonlyArray<NativeOp>,
    options: { readonly sync: boolean },
    callback: Callback,
  ) => void
  readonly iterator_init: (db: NativeHandle, options: NativeIteratorOptions) => NativeHandle
  /** The chunk comes as `[value_n, key_n, …, value_1, key_1]`. */
  readonly iterator_next: (
    iterator: NativeHandle,
    callback: (error: Error | null, array: Buffer[], finished: boolean) => void,
  ) => void
  readonly iterator_end: (iterator: NativeHandle, callback: Callback) => void
  /**
   * Moves the iterator to the first key at or after `target` (before it, reversed), on the
   * calling thread. It throws once the iterator has ended, and calls RocksDB's `Next` without
   * checking that the iterator is valid when `target` is out of the iterator's range or past
   * every key (an abort with RocksDB's assertions on): only a key the iterator has yielded is a
   * safe target.
   */
  readonly iterator_seek: (iterator: NativeHandle, target: Uint8Array) => void
}

/** The name of the npm package that provides the addon, for messages and docs. */
export const BINDING_PACKAGE = '@salto-io/rocksdb'

let loaded: RocksBinding | undefined

/**
 * The addon, loaded on first use (so that importing deltalog costs nothing until a RocksDB
 * store is opened). `node-gyp-build` picks the prebuilt binary for this platform, or a local
 * build where the package's install script compiled one.
 */
export const loadBinding = (): RocksBinding => {
  if (loaded === undefined) {
    const require = createRequire(import.meta.url)
    loaded = require(`${BINDING_PACKAGE}/binding.js`) as RocksBinding
  }
  return loaded
}
