/**
 * The RocksDB Storage adapter — the only module that loads the native binding. It opens (and
 * creates) a directory, writes batches atomically (`sync: true` fsyncs RocksDB's write-ahead
 * log), and iterates a snapshot in chunks of up to 1000 pairs per native round trip.
 *
 * The binding crashes the process if it is called after its database closed, so this adapter
 * guards every call: it counts calls in flight, refuses new ones with `CLOSED` once `close()`
 * starts, and closes the native handle only after the last one has returned.
 */
import { mkdir } from 'node:fs/promises'
import { createRequire } from 'node:module'
import * as E from 'fp-ts/lib/Either.js'
import * as O from 'fp-ts/lib/Option.js'
import type * as TE from 'fp-ts/lib/TaskEither.js'
import {
  closed,
  corruption,
  invalidArgument,
  ioError,
  locked,
  type StorageError,
} from '../errors.js'
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
// the binding, typed for the calls this adapter makes
// -------------------------------------------------------------------------------------

type Callback<A = void> = (error: Error | null | undefined, result?: A) => void

// The binding takes any Uint8Array where it documents a Buffer (it checks for an array buffer
// view) and copies keys and values into its write batch during the call.
interface NativeOp {
  readonly type: 'put' | 'del'
  readonly key: Uint8Array
  readonly value?: Uint8Array
}

interface NativeIterator {
  readonly context: unknown
  end(callback: Callback): void
}

interface NativeDb {
  readonly context: unknown
  open(options: Record<string, unknown>, callback: Callback): void
  close(callback: Callback): void
  getMany(
    keys: ReadonlyArray<Buffer>,
    options: Record<string, unknown>,
    callback: Callback<ReadonlyArray<Buffer | undefined>>,
  ): void
  iterator(options: Record<string, unknown>): NativeIterator
  getProperty(property: string): string
}

interface Binding {
  batch_do(
    context: unknown,
    ops: ReadonlyArray<NativeOp>,
    options: Record<string, unknown>,
    callback: Callback,
  ): void
  iterator_next(
    context: unknown,
    callback: (error: Error | null, array: Buffer[], finished: boolean) => void,
  ): void
}

const require = createRequire(import.meta.url)
const rocksdb = require('rocksdb') as (location: string) => NativeDb
const binding = require('rocksdb/binding.js') as Binding

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** Options for opening a RocksDB store. */
export interface RocksStorageOptions {
  /** Create the directory and database when missing (default true). */
  readonly createIfMissing?: boolean
}

// Bytes the binding may gather into one chunk; it also stops at 1000 pairs.
const HIGH_WATER_MARK = 1 << 20

// Deleting the empty key is how an empty synced batch reaches the WAL: the port rejects empty
// keys, so no user of the store can ever have written it.
const SYNC_ONLY: ReadonlyArray<NativeOp> = [{ type: 'del', key: Buffer.alloc(0) }]

const toBuffer = (bytes: Uint8Array): Buffer =>
  Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)

/** Maps a native error to a storage error, keeping it as the cause. */
const fromNative = (what: string, error: Error): StorageError => {
  const message = `${what}: ${error.message}`
  if (/^IO error: .*lock/i.test(error.message)) return locked(message, error)
  if (error.message.startsWith('Corruption')) return { ...corruption(message), cause: error }
  if (error.message.startsWith('Invalid argument')) {
    return { ...invalidArgument(what, error.message), cause: error }
  }
  return ioError(message, error)
}

const call = <A>(
  what: string,
  run: (callback: Callback<A>) => void,
): Promise<E.Either<StorageError, A | undefined>> =>
  new Promise((resolve) => {
    try {
      run((error, result) => resolve(error ? E.left(fromNative(what, error)) : E.right(result)))
    } catch (error) {
      resolve(E.left(fromNative(what, error instanceof Error ? error : new Error(String(error)))))
    }
  })

// -------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------

/**
 * Opens the RocksDB database in directory `path`, creating it unless told not to. A second open
 * of the same directory while this one is open — in this process or another — fails with
 * `LOCKED`.
 */
export const openRocksStorage = (
  path: string,
  options: RocksStorageOptions = {},
): TE.TaskEither<StorageError, Storage> => {
  const createIfMissing = options.createIfMissing ?? true
  return async () => {
    if (typeof path !== 'string' || path.length === 0) {
      return E.left(invalidArgument('path', 'must be a non-empty string'))
    }
    if (createIfMissing) {
      try {
        await mkdir(path, { recursive: true })
      } catch (error) {
        return E.left(ioError(`cannot create ${path}`, error))
      }
    }
    const db = rocksdb(path)
    const opened = await call(`open ${path}`, (cb) =>
      db.open({ createIfMissing, errorIfExists: false }, cb),
    )
    return E.map(() => makeStorage(db, path))(opened)
  }
}

const makeStorage = (db: NativeDb, path: string): Storage => {
  const what = `rocksdb storage at ${path}`
  let state: 'open' | 'closing' | 'closed' = 'open'
  let inFlight = 0
  let drained: (() => void) | undefined
  let closing: Promise<E.Either<StorageError, void>> | undefined
  const iterators = new Set<() => Promise<void>>()

  /** Runs a native call unless closing, counting it until it returns. */
  const guarded = async <A>(
    run: () => Promise<E.Either<StorageError, A>>,
  ): Promise<E.Either<StorageError, A>> => {
    if (state !== 'open') return E.left(closed(what))
    inFlight++
    try {
      return await run()
    } finally {
      if (--inFlight === 0) drained?.()
    }
  }

  const openIterator = (native: NativeIterator): StorageIterator => {
    let finished = false
    let ended: Promise<void> | undefined
    const close = (): Promise<void> => {
      finished = true
      ended ??= new Promise<void>((resolve) => {
        iterators.delete(close)
        native.end(() => resolve())
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
                    binding.iterator_next(native.context, (error, array, done) => {
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
        if (E.isLeft(valid)) return valid
        const result = await call<ReadonlyArray<Buffer | undefined>>('get', (cb) =>
          db.getMany([toBuffer(valid.right)], { asBuffer: true, fillCache: true }, cb),
        )
        return E.map((values: ReadonlyArray<Buffer | undefined> | undefined) =>
          O.fromNullable(values?.[0]),
        )(result)
      }),
    getMany: (keys) => () =>
      guarded(async () => {
        const valid = validateKeys(keys)
        if (E.isLeft(valid)) return valid
        if (valid.right.length === 0) return E.right([])
        const result = await call<ReadonlyArray<Buffer | undefined>>('getMany', (cb) =>
          db.getMany(valid.right.map(toBuffer), { asBuffer: true, fillCache: true }, cb),
        )
        return E.map((values: ReadonlyArray<Buffer | undefined> | undefined) =>
          valid.right.map((_, i) => O.fromNullable(values?.[i])),
        )(result)
      }),
    write: (batch, options) => () =>
      guarded(async () => {
        const valid = validateBatch(batch)
        if (E.isLeft(valid)) return valid
        const sync = options.sync
        if (valid.right.length === 0 && !sync) return E.right(undefined)
        // Validated operations already have the shape the binding reads: no copy, no wrapping.
        const ops: ReadonlyArray<NativeOp> = valid.right.length === 0 ? SYNC_ONLY : valid.right
        const result = await call('write', (cb) => binding.batch_do(db.context, ops, { sync }, cb))
        return E.map(() => undefined)(result)
      }),
    iterator: (options) => {
      if (state !== 'open') return E.left(closed(what))
      const valid = validateIterateOptions(options)
      if (E.isLeft(valid)) return valid
      const { gt, gte, lt, lte, reverse, limit } = valid.right
      const range: Record<string, unknown> = {
        reverse: reverse ?? false,
        limit: limit ?? -1,
        keyAsBuffer: true,
        valueAsBuffer: true,
        fillCache: false,
        highWaterMark: HIGH_WATER_MARK,
      }
      if (gt !== undefined) range['gt'] = toBuffer(gt)
      if (gte !== undefined) range['gte'] = toBuffer(gte)
      if (lt !== undefined) range['lt'] = toBuffer(lt)
      if (lte !== undefined) range['lte'] = toBuffer(lte)
      // A limit of 0 must yield nothing; the binding reads 0 as "no limit" in some paths.
      if (limit === 0) {
        return E.right({
          next: () => () => Promise.resolve(E.right(O.none)),
          close: () => Promise.resolve(),
        })
      }
      try {
        return E.right(openIterator(db.iterator(range)))
      } catch (error) {
        return E.left(
          fromNative('iterate', error instanceof Error ? error : new Error(String(error))),
        )
      }
    },
    // Every native iterator holds a RocksDB snapshot until it is ended, so the number of live
    // snapshots is what the native side really holds, not just what this adapter tracks.
    openIterators: () => (state === 'closed' ? 0 : Number(db.getProperty('rocksdb.num-snapshots'))),
    close: () => () => {
      closing ??= (async () => {
        state = 'closing'
        if (inFlight > 0) await new Promise<void>((resolve) => (drained = resolve))
        await Promise.all([...iterators].map((end) => end()))
        const result = await call('close', (cb) => db.close(cb))
        state = 'closed'
        return E.map(() => undefined)(result)
      })()
      return closing
    },
  }
}
