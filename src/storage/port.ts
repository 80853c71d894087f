/**
 * The Storage port: the few primitives the engine needs from an ordered key-value store, so that
 * the engine never knows which store it runs on. Adapters (memory, RocksDB, crash-simulating)
 * implement the `Storage` interface; everything else here — validation, the async-iterable view
 * of an iteration — is written once and shared by all of them.
 */
import * as E from 'fp-ts/lib/Either.js'
import * as O from 'fp-ts/lib/Option.js'
import type * as TE from 'fp-ts/lib/TaskEither.js'
import {
  invalidArgument,
  toDeltalogError,
  toPromise,
  type InvalidArgumentError,
} from '../errors.js'
import type { StorageError } from '../errors.js'
import type { Batch } from '../delta/batch.js'

export type { StorageError } from '../errors.js'
// The batch types belong to the pure core, which builds batches; adapters apply them.
export type { Batch, BatchOp, DelOp, PutOp } from '../delta/batch.js'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** A stored pair, as iteration yields it. */
export interface KeyValue {
  readonly key: Uint8Array
  readonly value: Uint8Array
}

/**
 * `sync: true` makes this write, and every write before it, durable before the write resolves
 * (prefix order, like RocksDB's write-ahead log). An empty batch with `sync: true` only syncs.
 */
export interface WriteOptions {
  readonly sync: boolean
}

/**
 * A range of keys and how to walk it. Bounds compare raw bytes; omitted bounds are open.
 * `limit` caps the number of pairs (no cap when omitted).
 */
export interface IterateOptions {
  readonly gt?: Uint8Array
  readonly gte?: Uint8Array
  readonly lt?: Uint8Array
  readonly lte?: Uint8Array
  readonly reverse?: boolean
  readonly limit?: number
}

/** What an adapter offers, so tests and the engine can adapt. */
export interface Capabilities {
  /** Data survives `close()` and a new open of the same location. */
  readonly persistent: boolean
  /** `sync: true` really reaches stable storage (an fsync). */
  readonly sync: boolean
}

/**
 * One open iteration. It reads a consistent view taken when it was created: a batch written
 * later is invisible to it, never half-visible. Pairs come in chunks so that a native store
 * needs one round trip per chunk, not per pair.
 */
export interface StorageIterator {
  /** The next chunk in order (never empty), or `none` at the end of the range. */
  readonly next: () => TE.TaskEither<StorageError, O.Option<ReadonlyArray<KeyValue>>>
  /** Releases the iteration; idempotent, and never fails. */
  readonly close: () => Promise<void>
}

/** An ordered key-value store. After `close()` every call fails with `CLOSED`. */
export interface Storage {
  readonly capabilities: Capabilities
  /**
   * Where the store keeps its data, as the log's tracing channels name it: a directory, a
   * PostgreSQL table, or `memory`.
   */
  readonly location?: string
  /** The value under `key`, or `none`. */
  readonly get: (key: Uint8Array) => TE.TaskEither<StorageError, O.Option<Uint8Array>>
  /** The values under several keys, in the order asked, `none` where missing. */
  readonly getMany: (
    keys: ReadonlyArray<Uint8Array>,
  ) => TE.TaskEither<StorageError, ReadonlyArray<O.Option<Uint8Array>>>
  /** Applies `batch` atomically. An invalid operation anywhere fails the whole batch. */
  readonly write: (batch: Batch, options: WriteOptions) => TE.TaskEither<StorageError, void>
  /** Opens an iteration over a consistent view of the store as it is now. */
  readonly iterator: (options: IterateOptions) => E.Either<StorageError, StorageIterator>
  /**
   * Offered by stores that other processes write: calls `listener` whenever the store may have
   * changed — after each commit of any writer, and after the store lost and regained its way
   * of telling (a reconnect), since commits may have gone unseen meanwhile. Resolves once it
   * listens, so nothing committed after that goes untold; the function it resolves with stops
   * it. Readers in other processes follow a log with it instead of polling.
   */
  readonly watch?: (listener: () => void) => TE.TaskEither<StorageError, () => Promise<void>>
  /**
   * Offered by stores that keep their data in files with checksums: reads every file and checks
   * it, trusting no earlier check, so that damage done since the store opened — or since an
   * earlier open checked a file — is found; a damaged file is `CORRUPTION`. `verifyStorage`
   * calls it before it reads. Once `signal` aborts it stops between files, without an error:
   * the caller, whose signal it is, says so.
   */
  readonly checkFiles?: (signal?: AbortSignal) => TE.TaskEither<StorageError, void>
  /**
   * How many iterations hold resources right now: a diagnostic for leak checks in tests.
   * Optional: the engine never calls it, and a custom store need not offer it.
   */
  readonly openIterators?: () => number
  /** Waits for calls in flight, releases every resource; closing twice is harmless. */
  readonly close: () => TE.TaskEither<StorageError, void>
}

/**
 * A Storage that `await using` closes: what every opener deltalog ships resolves with. Its
 * `[Symbol.asyncDispose]()` does what `close()` does, and rejects with `DeltalogError` where
 * `close()` fails. The port does not require it: a Storage written by hand works with
 * `openLog({ storage })` without it.
 */
export interface DisposableStorage extends Storage, AsyncDisposable {
  readonly [Symbol.asyncDispose]: () => Promise<void>
}

/** The `[Symbol.asyncDispose]` of a storage: its `close()`, rejecting with `DeltalogError`. */
export const disposeBy =
  (close: Storage['close']): (() => Promise<void>) =>
  () =>
    toPromise(close())

// -------------------------------------------------------------------------------------
// validation (shared by every adapter)
// -------------------------------------------------------------------------------------

const isBytes = (u: unknown): u is Uint8Array => u instanceof Uint8Array

/** A key is a non-empty byte array. */
export const validateKey = (
  key: unknown,
  field = 'key',
): E.Either<InvalidArgumentError, Uint8Array> =>
  !isBytes(key)
    ? E.left(invalidArgument(field, 'must be a Uint8Array'))
    : key.length === 0
      ? E.left(invalidArgument(field, 'must not be empty'))
      : E.right(key)

/** Checks every key of a multi-get. */
export const validateKeys = (
  keys: unknown,
): E.Either<InvalidArgumentError, ReadonlyArray<Uint8Array>> => {
  if (!Array.isArray(keys)) return E.left(invalidArgument('keys', 'must be an array'))
  for (const [i, key] of (keys as ReadonlyArray<unknown>).entries()) {
    const valid = validateKey(key, `keys[${i}]`)
    if (E.isLeft(valid)) return valid
  }
  return E.right(keys as ReadonlyArray<Uint8Array>)
}

/** Checks every operation of a batch before any is applied. */
export const validateBatch = (batch: unknown): E.Either<InvalidArgumentError, Batch> => {
  if (!Array.isArray(batch)) return E.left(invalidArgument('batch', 'must be an array'))
  const ops = batch as ReadonlyArray<unknown>
  for (let i = 0; i < ops.length; i++) {
    const error = opError(ops[i], 'batch', i)
    if (O.isSome(error)) return E.left(error.value)
  }
  return E.right(batch as Batch)
}

/** The error of one batch operation, or `none` when it is well formed. */
export const validateOp = (op: unknown, field: string): O.Option<InvalidArgumentError> =>
  opError(op, field, -1)

// A commit passes every record through here: a well-formed operation costs no allocation, since
// garbage made per record makes V8 collect more often and so keep (promote) more of the records
// a commit holds while it is written.
const isWellFormedOp = (op: unknown): boolean => {
  if (typeof op !== 'object' || op === null) return false
  const { type, key, value, fresh } = op as Record<string, unknown>
  return (
    (type === 'put' || type === 'del') &&
    isBytes(key) &&
    key.length > 0 &&
    (type === 'del' || isBytes(value)) &&
    (fresh === undefined || typeof fresh === 'boolean')
  )
}

/** The error of the operation named `where` (`where[index]` for an index of 0 or more). */
const opError = (op: unknown, where: string, index: number): O.Option<InvalidArgumentError> => {
  if (isWellFormedOp(op)) return O.none
  const field = index < 0 ? where : `${where}[${index}]`
  if (typeof op !== 'object' || op === null) {
    return O.some(invalidArgument(field, 'must be an operation'))
  }
  const { type, key, value } = op as { type?: unknown; key?: unknown; value?: unknown }
  if (type !== 'put' && type !== 'del') {
    return O.some(invalidArgument(`${field}.type`, `must be 'put' or 'del'`))
  }
  const badKey = validateKey(key, `${field}.key`)
  if (E.isLeft(badKey)) return O.some(badKey.left)
  if (type === 'put' && !isBytes(value)) {
    return O.some(invalidArgument(`${field}.value`, 'must be a Uint8Array'))
  }
  const fresh = (op as { fresh?: unknown }).fresh
  if (fresh !== undefined && typeof fresh !== 'boolean') {
    return O.some(invalidArgument(`${field}.fresh`, 'must be a boolean'))
  }
  return O.none
}

/** Checks iteration bounds and limit. */
export const validateIterateOptions = (
  options: IterateOptions,
): E.Either<InvalidArgumentError, IterateOptions> => {
  for (const bound of ['gt', 'gte', 'lt', 'lte'] as const) {
    const value = options[bound]
    if (value !== undefined && !isBytes(value)) {
      return E.left(invalidArgument(bound, 'must be a Uint8Array'))
    }
  }
  if (options.gt !== undefined && options.gte !== undefined) {
    return E.left(invalidArgument('gt', 'cannot be combined with gte'))
  }
  if (options.lt !== undefined && options.lte !== undefined) {
    return E.left(invalidArgument('lt', 'cannot be combined with lte'))
  }
  const { limit } = options
  if (limit !== undefined && (!Number.isSafeInteger(limit) || limit < 0)) {
    return E.left(invalidArgument('limit', 'must be a non-negative safe integer'))
  }
  return E.right(options)
}

// -------------------------------------------------------------------------------------
// destructors
// -------------------------------------------------------------------------------------

/**
 * Walks a range as an async iterable of pairs. The consistent view is taken now, when `iterate`
 * is called, not at the first `next()`. Errors are thrown as `DeltalogError`; leaving the loop
 * early (`break`, `return`, a throw) releases the underlying iterator.
 */
export const iterate = (
  storage: Storage,
  options: IterateOptions = {},
): AsyncIterableIterator<KeyValue> => {
  const opened = storage.iterator(options)
  let chunk: ReadonlyArray<KeyValue> = []
  let at = 0
  let done = false
  const finish = async (): Promise<IteratorResult<KeyValue>> => {
    done = true
    if (E.isRight(opened)) await opened.right.close()
    return { done: true, value: undefined }
  }
  const self: AsyncIterableIterator<KeyValue> = {
    [Symbol.asyncIterator]: () => self,
    next: async () => {
      if (done) return { done: true, value: undefined }
      if (E.isLeft(opened)) {
        done = true
        throw toDeltalogError(opened.left)
      }
      if (at >= chunk.length) {
        const result = await opened.right.next()()
        if (E.isLeft(result)) {
          await finish()
          throw toDeltalogError(result.left)
        }
        if (O.isNone(result.right)) return finish()
        chunk = result.right.value
        at = 0
      }
      const value = chunk[at++]
      return value === undefined ? finish() : { done: false, value }
    },
    return: finish,
  }
  return self
}
