/**
 * The RocksDB Storage adapter. It opens a directory only after reading what it holds (see
 * directory.ts): a new store goes only into an empty or missing directory, which it makes
 * private to its owner; an existing one must carry deltalog's mark, or be recognised as a log
 * written before marks existed; anything else is refused before a file is touched. It writes
 * batches atomically (`sync: true` fsyncs RocksDB's write-ahead log) and iterates a snapshot in
 * chunks of up to 1000 pairs per native round trip.
 *
 * The addon crashes the process if it is called after its database closed, so this adapter
 * guards every call: it counts calls in flight, refuses new ones with `CLOSED` once `close()`
 * starts, and closes the native handle only after the last one has returned.
 */
import * as E from 'fp-ts/lib/Either.js'
import * as O from 'fp-ts/lib/Option.js'
import type * as TE from 'fp-ts/lib/TaskEither.js'
import {
  closed,
  corruption,
  invalidArgument,
  ioError,
  locked,
  notALog,
  readOnly,
  type StorageError,
} from '../errors.js'
import {
  BINDING_PACKAGE,
  loadBinding,
  type Callback,
  type NativeHandle,
  type NativeIteratorOptions,
  type NativeOp,
  type RocksBinding,
} from './binding.js'
import {
  claim,
  inspect,
  type DirectoryState,
  MARKER_FILE,
  PRIVATE_MODE,
  prepareDirectory,
  writeMarker,
} from './directory.js'
import { makeCallGuard } from './guard.js'
import {
  validateBatch,
  validateIterateOptions,
  validateKey,
  validateKeys,
  type KeyValue,
  type Storage,
  type StorageIterator,
} from './port.js'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** Options for opening a RocksDB store. */
export interface RocksStorageOptions {
  /** Create a store when the directory is missing or empty (default true). */
  readonly createIfMissing?: boolean
  /**
   * The mode of a directory this call creates a store in (default 0o700: its owner's alone),
   * applied whatever the umask. An existing store's directory keeps the mode it has.
   */
  readonly directoryMode?: number
  /**
   * Tells whether a RocksDB database without deltalog's mark is one of yours, given a read-only
   * view of it; a recognised one is marked and opened, any other is `NOT_A_LOG`. Without it,
   * every unmarked database is refused.
   */
  readonly recognise?: (view: Storage) => TE.TaskEither<StorageError, boolean>
  /**
   * Open an existing store to read only, without the writer's lock (default false): any number
   * of read-only opens, in this process or others, go with one writer. It sees the store as it
   * was when it opened (RocksDB's read-only open reads the write-ahead log once); writes are
   * `READ_ONLY`. Nothing in the directory is created or changed, a mark included.
   */
  readonly readOnly?: boolean
}

// Bytes the binding may gather into one chunk; it also stops at 1000 pairs.
const HIGH_WATER_MARK = 1 << 20
// The addon reads an iterator's limit as a 32-bit integer; -1 means no limit.
const MAX_NATIVE_LIMIT = 0x7fffffff

// Deleting the empty key is how an empty synced batch reaches the WAL: the port rejects empty
// keys, so no user of the store can ever have written it.
const SYNC_ONLY: ReadonlyArray<NativeOp> = [{ type: 'del', key: Buffer.alloc(0) }]

// RocksDB's own words for a lock another handle holds (env/fs_posix.cc, LockFile): fcntl says
// EAGAIN or EACCES when another process holds it; "lock hold by current process" when this one
// does. Nothing else is a lock conflict; a read-only file system fails earlier, in open().
const LOCK_CONFLICT =
  /^IO error: (lock hold by current process|While lock file: .*: (Resource temporarily unavailable|Permission denied))/
const READ_ONLY_FAILURE = /: (Read-only file system|Permission denied)$/

/** Maps a native error to a storage error, keeping it as the cause. */
const fromNative = (what: string, error: Error): StorageError => {
  const message = `${what}: ${error.message}`
  if (LOCK_CONFLICT.test(error.message)) return locked(message, error)
  if (error.message.startsWith('IO error') && READ_ONLY_FAILURE.test(error.message)) {
    return readOnly(message, error)
  }
  if (error.message.startsWith('Corruption')) return { ...corruption(message), cause: error }
  if (error.message.startsWith('Invalid argument')) {
    return { ...invalidArgument(what, error.message), cause: error }
  }
  return ioError(message, error)
}

const asError = (error: unknown): Error =>
  error instanceof Error ? error : new Error(String(error))

const call = <A>(
  what: string,
  run: (callback: Callback<A>) => void,
): Promise<E.Either<StorageError, A | undefined>> =>
  new Promise((resolve) => {
    try {
      run((error, result) => resolve(error ? E.left(fromNative(what, error)) : E.right(result)))
    } catch (error) {
      resolve(E.left(fromNative(what, asError(error))))
    }
  })

// -------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------

/**
 * Opens the RocksDB store in directory `path`. A missing or empty directory gets a new store
 * (unless `createIfMissing` is false); a directory that holds anything else than a deltalog
 * store is refused with `NOT_A_LOG` or `CORRUPTION`, untouched. A second open of the same
 * directory while this one is open — in this process under any spelling of the path, or in
 * another process — fails with `LOCKED`.
 */
export const openRocksStorage = (
  path: string,
  options: RocksStorageOptions = {},
): TE.TaskEither<StorageError, Storage> => openRocksStorageWith(loadBinding, path, options)

/** `openRocksStorage` on a given binding: how tests stand in for the addon. */
export const openRocksStorageWith =
  (
    load: () => RocksBinding,
    path: string,
    options: RocksStorageOptions = {},
  ): TE.TaskEither<StorageError, Storage> =>
  async () => {
    if (typeof path !== 'string' || path.length === 0) {
      return E.left(invalidArgument('path', 'must be a non-empty string'))
    }
    const mode = options.directoryMode ?? PRIVATE_MODE
    if (!Number.isInteger(mode) || mode < 0 || mode > 0o777) {
      return E.left(invalidArgument('directoryMode', 'must be a file mode from 0 to 0o777'))
    }
    const create = options.createIfMissing ?? true
    let binding: RocksBinding
    try {
      binding = load()
    } catch (error) {
      return E.left(
        ioError(
          `cannot load the RocksDB binding (${BINDING_PACKAGE}) for ${process.platform}-${process.arch}: ${asError(error).message}`,
          error,
        ),
      )
    }
    const before = await inspect(path)
    if (E.isLeft(before)) return before
    if (options.readOnly === true) return openReadOnly(binding, path, before.right.kind, options)
    if (before.right.kind === 'missing') {
      if (!create) return E.left(notALog(`${path} does not exist`))
      const made = await prepareDirectory(path, mode)
      if (E.isLeft(made)) return made
    }
    const claimed = await claim(path)
    if (E.isLeft(claimed)) return claimed
    const release = claimed.right
    // Looked at again under the claim: another open in this process may have come first.
    const state = await inspect(path)
    const opened = E.isLeft(state)
      ? state
      : state.right.kind === 'marked'
        ? await openNative(binding, path, { create: false, release })
        : state.right.kind === 'unmarked'
          ? await adopt(binding, path, options, release)
          : !create
            ? E.left(notALog(`${path} holds no deltalog log`))
            : await createStore(binding, path, mode, release)
    if (E.isLeft(opened)) release()
    return opened
  }

/** Opens an existing store to read only: no claim, no mark, no file created or changed. */
const openReadOnly = async (
  binding: RocksBinding,
  path: string,
  kind: DirectoryState['kind'],
  options: RocksStorageOptions,
): Promise<E.Either<StorageError, Storage>> => {
  if (kind === 'marked') return openNative(binding, path, { create: false, readOnly: true })
  if (kind === 'missing') return E.left(notALog(`${path} does not exist`))
  if (kind !== 'unmarked') return E.left(notALog(`${path} holds no deltalog log`))
  const refused = notALog(
    `${path} holds a RocksDB database that is not a deltalog log (it has no ${MARKER_FILE} mark and no deltalog records)`,
  )
  if (options.recognise === undefined) return E.left(refused)
  const view = await openNative(binding, path, { create: false, readOnly: true })
  if (E.isLeft(view)) return view
  const recognised = await options.recognise(view.right)()
  if (E.isRight(recognised) && recognised.right) return view
  await view.right.close()()
  return E.isLeft(recognised) ? recognised : E.left(refused)
}

const createStore = async (
  binding: RocksBinding,
  path: string,
  mode: number,
  release: () => void,
): Promise<E.Either<StorageError, Storage>> => {
  const prepared = await prepareDirectory(path, mode)
  if (E.isLeft(prepared)) return prepared
  const marked = await writeMarker(path)
  if (E.isLeft(marked)) return marked
  return openNative(binding, path, { create: true, release })
}

/** Opens an unmarked database only if `recognise` says it is a log, and marks it. */
const adopt = async (
  binding: RocksBinding,
  path: string,
  options: RocksStorageOptions,
  release: () => void,
): Promise<E.Either<StorageError, Storage>> => {
  const refused = notALog(
    `${path} holds a RocksDB database that is not a deltalog log (it has no ${MARKER_FILE} mark and no deltalog records); nothing was changed`,
  )
  if (options.recognise === undefined) return E.left(refused)
  const view = await openNative(binding, path, { create: false, readOnly: true })
  if (E.isLeft(view)) return view
  const recognised = await options.recognise(view.right)()
  const closedView = await view.right.close()()
  if (E.isLeft(recognised)) return recognised
  if (E.isLeft(closedView)) return closedView
  if (!recognised.right) return E.left(refused)
  const opened = await openNative(binding, path, { create: false, release })
  if (E.isLeft(opened)) return opened
  const marked = await writeMarker(path)
  if (E.isLeft(marked)) {
    await opened.right.close()()
    return marked
  }
  return opened
}

const openNative = async (
  binding: RocksBinding,
  path: string,
  how: { readonly create: boolean; readonly readOnly?: boolean; readonly release?: () => void },
): Promise<E.Either<StorageError, Storage>> => {
  let db: NativeHandle
  try {
    db = binding.db_init()
  } catch (error) {
    return E.left(fromNative(`open ${path}`, asError(error)))
  }
  const opened = await call(`open ${path}`, (cb) =>
    binding.db_open(
      db,
      path,
      { createIfMissing: how.create, errorIfExists: false, readOnly: how.readOnly ?? false },
      cb,
    ),
  )
  return E.map(() =>
    makeStorage(binding, db, path, how.release ?? (() => undefined), how.readOnly ?? false),
  )(opened)
}

const makeStorage = (
  binding: RocksBinding,
  db: NativeHandle,
  path: string,
  release: () => void,
  readOnlyStore: boolean,
): Storage => {
  const what = `rocksdb storage at ${path}`
  const calls = makeCallGuard(what)
  let closing: Promise<E.Either<StorageError, void>> | undefined
  const iterators = new Set<() => Promise<void>>()

  const guarded = calls.guarded

  /** One key's value; the addon reports a missing key as a `NotFound` error. */
  const getOne = (key: Uint8Array): Promise<E.Either<StorageError, O.Option<Uint8Array>>> =>
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

  const openIterator = (native: NativeHandle): StorageIterator => {
    let finished = false
    let ended: Promise<void> | undefined
    const close = (): Promise<void> => {
      finished = true
      ended ??= new Promise<void>((resolve) => {
        iterators.delete(close)
        binding.iterator_end(native, () => resolve())
      })
      return ended
    }
    iterators.add(close)
    return {
      next: () => () =>
        ended !== undefined
          ? Promise.resolve(E.left(closed('iterator')))
          : guarded(
              () =>
                new Promise<E.Either<StorageError, O.Option<ReadonlyArray<KeyValue>>>>(
                  (resolve) => {
                    if (finished) return resolve(E.right(O.none))
                    binding.iterator_next(native, (error, array, done) => {
                      if (error) return resolve(E.left(fromNative('iterate', error)))
                      finished = done
                      // The binding returns [value_n, key_n, …, value_1, key_1].
                      const chunk: KeyValue[] = []
                      for (let i = array.length - 1; i > 0; i -= 2) {
                        chunk.push({ key: array[i] as Buffer, value: array[i - 1] as Buffer })
                      }
                      resolve(E.right(chunk.length === 0 ? O.none : O.some(chunk)))
                    })
                  },
                ),
            ),
      close,
    }
  }

  return {
    capabilities: { persistent: true, sync: true },
    get: (key) => () =>
      guarded(async () => {
        const valid = validateKey(key)
        return E.isLeft(valid) ? valid : getOne(valid.right)
      }),
    // The addon has no multi-get: the reads run side by side on its thread pool.
    getMany: (keys) => () =>
      guarded(async () => {
        const valid = validateKeys(keys)
        if (E.isLeft(valid)) return valid
        const values = await Promise.all(valid.right.map(getOne))
        const failed = values.find(E.isLeft)
        return failed ?? E.right(values.map((v) => (E.isRight(v) ? v.right : O.none)))
      }),
    write: (batch, options) => () =>
      guarded(async () => {
        const valid = validateBatch(batch)
        if (E.isLeft(valid)) return valid
        if (readOnlyStore) return E.left(readOnly(`${what} is open read-only`, undefined))
        const sync = options.sync
        if (valid.right.length === 0 && !sync) return E.right(undefined)
        // Validated operations already have the shape the binding reads: no copy, no wrapping.
        const ops: ReadonlyArray<NativeOp> = valid.right.length === 0 ? SYNC_ONLY : valid.right
        const result = await call('write', (cb) => binding.batch_do(db, ops, { sync }, cb))
        return E.map(() => undefined)(result)
      }),
    iterator: (options) => {
      if (!calls.isOpen()) return E.left(closed(what))
      const valid = validateIterateOptions(options)
      if (E.isLeft(valid)) return valid
      const { gt, gte, lt, lte, reverse, limit } = valid.right
      const range: NativeIteratorOptions = {
        reverse: reverse ?? false,
        limit: limit === undefined || limit > MAX_NATIVE_LIMIT ? -1 : limit,
        keyAsBuffer: true,
        valueAsBuffer: true,
        fillCache: false,
        highWaterMark: HIGH_WATER_MARK,
        ...(gt === undefined ? {} : { gt }),
        ...(gte === undefined ? {} : { gte }),
        ...(lt === undefined ? {} : { lt }),
        ...(lte === undefined ? {} : { lte }),
      }
      // A limit of 0 must yield nothing; the binding reads 0 as "no limit" in some paths.
      if (limit === 0) {
        return E.right({
          next: () => () => Promise.resolve(E.right(O.none)),
          close: () => Promise.resolve(),
        })
      }
      try {
        return E.right(openIterator(binding.iterator_init(db, range)))
      } catch (error) {
        return E.left(fromNative('iterate', asError(error)))
      }
    },
    // Every native iterator holds a RocksDB snapshot until it is ended, so the number of live
    // snapshots is what the native side really holds, not just what this adapter tracks.
    openIterators: () =>
      calls.isClosed() ? 0 : Number(binding.db_get_property(db, 'rocksdb.num-snapshots')),
    close: () => () => {
      closing ??= (async () => {
        await calls.drain()
        await Promise.all([...iterators].map((end) => end()))
        const result = await call('close', (cb) => binding.db_close(db, cb))
        calls.finish()
        // The directory is free for another open once the native handle has let go of it.
        release()
        return E.map(() => undefined)(result)
      })()
      return closing
    },
  }
}
