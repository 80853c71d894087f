/**
 * The RocksDB adapter on an open database handle: the Storage port's calls, each through the
 * addon. Batches are written atomically (`sync: true` fsyncs RocksDB's write-ahead log).
 *
 * The addon crashes the process if it is called after its database closed, so every call is
 * guarded: calls in flight are counted, new ones are refused with `CLOSED` once `close()`
 * starts, and the native handle is closed only after the last one has returned.
 */
import * as E from 'fp-ts/lib/Either.js'
import * as O from 'fp-ts/lib/Option.js'
import type * as TE from 'fp-ts/lib/TaskEither.js'
import { closed, readOnly, type StorageError } from '../errors.js'
import type { NativeHandle, NativeOp, RocksBinding } from './binding.js'
import { makeCallGuard, type CallGuard } from './guard.js'
import type { Release } from './directory.js'
import {
  disposeBy,
  validateBatch,
  validateIterateOptions,
  validateKey,
  validateKeys,
  type Batch,
  type DisposableStorage,
  type IterateOptions,
  type StorageIterator,
  type WriteOptions,
} from './port.js'
import { asError, call, fromNative } from './rocksdbErrors.js'
import {
  emptyIterator,
  nativeRange,
  openNativeIterator,
  type OpenIterations,
} from './rocksdbIterator.js'
import { park } from './rocksdbStranded.js'

// Deleting the empty key is how an empty synced batch reaches the WAL: the port rejects empty
// keys, so no user of the store can ever have written it.
const SYNC_ONLY: ReadonlyArray<NativeOp> = [{ type: 'del', key: Buffer.alloc(0) }]

/** An open database and what the adapter keeps beside it. */
interface Handle {
  readonly binding: RocksBinding
  readonly db: NativeHandle
  readonly what: string
  readonly calls: CallGuard
  readonly iterators: OpenIterations
  readonly readOnly: boolean
  /** Frees the directory for another open (the claim of directory.ts). */
  readonly release: Release
  /** Runs once the native handle closed, before the directory is freed. */
  readonly closed: () => Promise<void>
}

/**
 * The Storage port on database `db`, open at `path`; `release` is called once the native
 * handle has let go of the directory, and `files.checkFiles` checks the database's files;
 * `files.closed`, if given, runs once the native handle has closed, before `release`.
 * REQUIRES: `db` was opened by `binding.db_open` (read-only when `readOnlyStore`).
 */
export const makeRocksStore = (
  binding: RocksBinding,
  db: NativeHandle,
  path: string,
  release: Release,
  readOnlyStore: boolean,
  files: {
    readonly checkFiles: (signal?: AbortSignal) => Promise<E.Either<StorageError, void>>
    readonly closed?: () => Promise<void>
  },
): DisposableStorage => {
  const what = `rocksdb storage at ${path}`
  const handle: Handle = {
    binding,
    db,
    what,
    calls: makeCallGuard(what),
    iterators: new Set(),
    readOnly: readOnlyStore,
    release,
    closed: files.closed ?? (() => Promise.resolve()),
  }
  const { guarded } = handle.calls
  let closing: Promise<E.Either<StorageError, void>> | undefined
  const close = (): TE.TaskEither<StorageError, void> => () => (closing ??= closeStore(handle))
  return {
    capabilities: { persistent: true, sync: true },
    location: path,
    get: (key) => () =>
      guarded(async () => {
        const valid = validateKey(key)
        return E.isLeft(valid) ? valid : getOne(handle, valid.right)
      }),
    // The addon has no multi-get: the reads run side by side on its thread pool.
    getMany: (keys) => () =>
      guarded(async () => {
        const valid = validateKeys(keys)
        if (E.isLeft(valid)) return valid
        const values = await Promise.all(valid.right.map((key) => getOne(handle, key)))
        const failed = values.find(E.isLeft)
        return failed ?? E.right(values.map((v) => (E.isRight(v) ? v.right : O.none)))
      }),
    write: (batch, options) => () => guarded(() => write(handle, batch, options)),
    iterator: (options) => iterator(handle, options),
    checkFiles: (signal) => () => guarded(() => files.checkFiles(signal)),
    // Every native iterator holds a RocksDB snapshot until it is ended, so the number of live
    // snapshots is what the native side really holds, not just what this adapter tracks.
    openIterators: () =>
      handle.calls.isClosed() ? 0 : Number(binding.db_get_property(db, 'rocksdb.num-snapshots')),
    close,
    [Symbol.asyncDispose]: disposeBy(close),
  }
}

/** One key's value; the addon reports a missing key as a `NotFound` error. */
const getOne = (
  { binding, db }: Handle,
  key: Uint8Array,
): Promise<E.Either<StorageError, O.Option<Uint8Array>>> =>
  new Promise((resolve) => {
    try {
      binding.db_get(db, key, { asBuffer: true, fillCache: true }, (error, value) =>
        resolve(
          !error
            ? E.right(O.fromNullable(value))
            : error.message.startsWith('NotFound')
              ? E.right(O.none)
              : E.left(fromNative('get', error)),
        ),
      )
    } catch (error) {
      resolve(E.left(fromNative('get', asError(error))))
    }
  })

/** Writes a batch. REQUIRES: called under the store's call guard. */
const write = async (
  { binding, db, what, readOnly: readOnlyStore }: Handle,
  batch: Batch,
  options: WriteOptions,
): Promise<E.Either<StorageError, void>> => {
  const valid = validateBatch(batch)
  if (E.isLeft(valid)) return valid
  if (readOnlyStore) return E.left(readOnly(`${what} is open read-only`, undefined))
  const sync = options.sync
  if (valid.right.length === 0 && !sync) return E.right(undefined)
  // Validated operations already have the shape the binding reads: no copy, no wrapping.
  const ops: ReadonlyArray<NativeOp> = valid.right.length === 0 ? SYNC_ONLY : valid.right
  const result = await call('write', (cb) => binding.batch_do(db, ops, { sync }, cb))
  return E.map(() => undefined)(result)
}

/** Opens an iteration over a snapshot of the store as it is now. */
const iterator = (
  { binding, db, what, calls, iterators }: Handle,
  options: IterateOptions,
): E.Either<StorageError, StorageIterator> => {
  if (!calls.isOpen()) return E.left(closed(what))
  const valid = validateIterateOptions(options)
  if (E.isLeft(valid)) return valid
  // A limit of 0 must yield nothing; the binding reads 0 as "no limit" in some paths.
  if (valid.right.limit === 0) return E.right(emptyIterator)
  try {
    const native = binding.iterator_init(db, nativeRange(valid.right))
    return E.right(openNativeIterator(binding, native, calls, iterators))
  } catch (error) {
    return E.left(fromNative('iterate', asError(error)))
  }
}

/**
 * Closes the store: waits for the calls in flight, ends every iteration, closes the native
 * handle, then frees the directory. When an iteration is stranded on a damaged table (see
 * rocksdbIterator.ts), the native close would wait for it forever and deleting the database
 * under it aborts the process: the handle stays open, parked until the process exits.
 * REQUIRES: called once per store (its `close` keeps the promise).
 */
const closeStore = async ({
  binding,
  db,
  calls,
  iterators,
  release,
  closed,
}: Handle): Promise<E.Either<StorageError, void>> => {
  await calls.drain()
  const released = await Promise.all([...iterators].map((end) => end()))
  if (released.includes(false)) {
    park(db)
    calls.finish()
    // A writer's lock goes with the handle: no writer can open the directory until then.
    release(
      'a read of a damaged table stranded the native handle of its last store, which stays open (and locked) until the process exits',
    )
    return E.right(undefined)
  }
  const result = await call('close', (cb) => binding.db_close(db, cb))
  calls.finish()
  if (E.isRight(result)) await closed()
  // The directory is free for another open once the native handle has let go of it.
  release()
  return E.map(() => undefined)(result)
}
