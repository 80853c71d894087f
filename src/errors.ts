/**
 * Errors as values. Every failure deltalog can report is a plain readonly object whose `code`
 * is a stable string catalogued in docs/errors.md; pure modules return them in an `Either`,
 * effectful ones in a `TaskEither`. Nothing in the core throws.
 */
import type { Either } from 'fp-ts/lib/Either.js'
import type { TaskEither } from 'fp-ts/lib/TaskEither.js'

// The event store's own errors are declared beside it (eventstore/errors.ts); this catalogue
// counts them among every code and hands them on, so that one import names any error.
import type {
  AppendConditionFailedError,
  DecodeFailedError,
  EventIdConflictError,
  HandlerFailedError,
  WrongExpectedRevisionError,
} from './eventstore/errors.js'
export type {
  AppendConditionFailedError,
  DecodeFailedError,
  EventIdConflictError,
  ExpectedRevision,
  HandlerFailedError,
  WrongExpectedRevisionError,
} from './eventstore/errors.js'
export { handlerFailed } from './eventstore/errors.js'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** Stored bytes could not be decoded: the database holds something deltalog never wrote. */
export interface CorruptionError {
  readonly code: 'CORRUPTION'
  readonly message: string
  readonly cause?: unknown
}

/** A sequence number would leave the range of safe JavaScript integers (2^53 − 1). */
export interface SequenceOverflowError {
  readonly code: 'SEQUENCE_OVERFLOW'
  readonly message: string
}

/** A caller passed a value outside what the operation accepts; `field` names it. */
export interface InvalidArgumentError {
  readonly code: 'INVALID_ARGUMENT'
  readonly field: string
  readonly message: string
  readonly cause?: unknown
}

/** The storage failed to do what was asked; `cause` keeps the underlying error. */
export interface IoError {
  readonly code: 'IO_ERROR'
  readonly message: string
  readonly cause: unknown
  /**
   * Set when a store on a server lost its connection (a restart, a terminated session, a
   * refused connection): the same call may succeed once the server is back.
   */
  readonly lostConnection?: true
  /**
   * Set when a store on a server waited too long: what waited (`connect`: a new connection,
   * `pool`: a free one, `query`: a statement's answer, whose outcome is then unknown) and the
   * limit, in milliseconds. Such an error also has `lostConnection`.
   */
  readonly timeout?: { readonly waited: 'connect' | 'pool' | 'query'; readonly ms: number }
}

/** Another open handle — in this process or another — holds the store's lock. */
export interface LockedError {
  readonly code: 'LOCKED'
  readonly message: string
  readonly cause?: unknown
}

/**
 * The location is not a deltalog log and cannot become one without changing what is there: a
 * directory holding other files, or a RocksDB database that deltalog did not write. Nothing in
 * it was created, changed or deleted.
 */
export interface NotALogError {
  readonly code: 'NOT_A_LOG'
  readonly message: string
}

/**
 * The store cannot be written because its file system or directory is read-only (or not
 * writable by this user); `cause` keeps the underlying error.
 */
export interface ReadOnlyError {
  readonly code: 'READ_ONLY'
  readonly message: string
  readonly cause: unknown
}

/**
 * The store holds a log in an older on-disk format, which this version reads only to convert
 * it: `deltalog migrate --db DIR` (or `migrateLog` on a storage) converts it in place. Nothing
 * was changed.
 */
export interface MigrationNeededError {
  readonly code: 'MIGRATION_NEEDED'
  readonly message: string
}

/**
 * Another writer took the log over (a later open of the same shared store raised its writer
 * epoch), so this handle's write was refused and nothing of it landed. The log stops like
 * `WRITER_FAILED`; the writer that took over goes on from above every number this one handed
 * out.
 */
export interface FencedError {
  readonly code: 'FENCED'
  readonly message: string
}

/** The store or log was closed; no further calls are accepted. */
export interface ClosedError {
  readonly code: 'CLOSED'
  readonly message: string
}

/**
 * A storage write failed earlier, so the log stopped accepting appends: the allocator may not
 * hand out numbers whose block it could not persist. Reads keep working; reopen to recover.
 */
export interface WriterFailedError {
  readonly code: 'WRITER_FAILED'
  readonly message: string
  readonly cause: unknown
}

/**
 * The caller's `signal` aborted a bounded read (`scan`, `keys`, `count`, `readStream`,
 * `readAll`, `aggregateStream`, `verifyStorage`) before it finished. Nothing was changed. Live
 * reads (`follow`, the subscriptions) end quietly on abort instead: aborting is how they are
 * stopped.
 */
export interface AbortedError {
  readonly code: 'ABORTED'
  readonly message: string
  readonly cause?: unknown
}

/** `append` waited longer than `appendTimeoutMs` for room among the pending appends. */
export interface BackpressureError {
  readonly code: 'BACKPRESSURE'
  readonly message: string
}

/** An operation that needs an empty log found one that already holds entries or numbers. */
export interface NotEmptyError {
  readonly code: 'NOT_EMPTY'
  readonly message: string
}

/** Every error the pure core can produce. */
export type CoreError = CorruptionError | SequenceOverflowError | InvalidArgumentError

/** The stable codes of {@link CoreError}. */
export type CoreErrorCode = CoreError['code']

/** Every error a storage adapter can produce. */
export type StorageError =
  | IoError
  | CorruptionError
  | LockedError
  | ClosedError
  | InvalidArgumentError
  | NotALogError
  | ReadOnlyError
  | FencedError

/** Errors of the log engine itself. */
export type LogError =
  WriterFailedError | BackpressureError | NotEmptyError | MigrationNeededError | AbortedError

/** Errors of the event store. */
export type EventStoreError =
  | WrongExpectedRevisionError
  | EventIdConflictError
  | AppendConditionFailedError
  | DecodeFailedError
  | HandlerFailedError

/** Every error value deltalog reports, whatever layer it comes from. */
export type DeltalogErrorValue = CoreError | StorageError | LogError | EventStoreError

/** The stable string codes, as catalogued in docs/errors.md. */
export type ErrorCode = DeltalogErrorValue['code']

// -------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------

export const corruption = (message: string): CorruptionError => ({ code: 'CORRUPTION', message })

export const sequenceOverflow = (message: string): SequenceOverflowError => ({
  code: 'SEQUENCE_OVERFLOW',
  message,
})

export const invalidArgument = (field: string, message: string): InvalidArgumentError => ({
  code: 'INVALID_ARGUMENT',
  field,
  message: `${field}: ${message}`,
})

export const ioError = (message: string, cause: unknown): IoError => ({
  code: 'IO_ERROR',
  message,
  cause,
})

export const locked = (message: string, cause?: unknown): LockedError =>
  cause === undefined ? { code: 'LOCKED', message } : { code: 'LOCKED', message, cause }

export const notALog = (message: string): NotALogError => ({ code: 'NOT_A_LOG', message })

export const readOnly = (message: string, cause: unknown): ReadOnlyError => ({
  code: 'READ_ONLY',
  message,
  cause,
})

export const writerFailed = (cause: DeltalogErrorValue): WriterFailedError => ({
  code: 'WRITER_FAILED',
  message: `the log stopped accepting appends after a failed write (${cause.code}: ${cause.message}); reopen it to recover`,
  cause,
})

export const backpressure = (waitedMs: number): BackpressureError => ({
  code: 'BACKPRESSURE',
  message: `append waited ${waitedMs} ms for room among pending appends`,
})

export const notEmpty = (message: string): NotEmptyError => ({ code: 'NOT_EMPTY', message })

export const migrationNeeded = (message: string): MigrationNeededError => ({
  code: 'MIGRATION_NEEDED',
  message,
})

export const fenced = (message: string): FencedError => ({ code: 'FENCED', message })

/** A read stopped by the caller's signal; the signal's reason, if any, is kept as the cause. */
export const aborted = (what: string, reason?: unknown): AbortedError =>
  reason === undefined
    ? { code: 'ABORTED', message: `${what} was aborted` }
    : { code: 'ABORTED', message: `${what} was aborted`, cause: reason }

export const closed = (what: string): ClosedError => ({
  code: 'CLOSED',
  message: `${what} is closed`,
})

// -------------------------------------------------------------------------------------
// Promise boundary
// -------------------------------------------------------------------------------------

/**
 * The one error class deltalog throws or rejects with, at the Promise boundary only. `code` is
 * the stable code of the error value it carries (see docs/errors.md); `error` is that value.
 */
export class DeltalogError extends Error {
  readonly code: ErrorCode
  readonly error: DeltalogErrorValue

  constructor(error: DeltalogErrorValue) {
    super(
      error.message,
      'cause' in error && error.cause !== undefined ? { cause: error.cause } : undefined,
    )
    this.name = 'DeltalogError'
    this.code = error.code
    this.error = error
  }
}

/**
 * The error value behind anything thrown: the value a `DeltalogError` carries, or an
 * `IO_ERROR` that keeps whatever else was thrown as its cause.
 */
export const errorValueOf = (thrown: unknown): DeltalogErrorValue =>
  thrown instanceof DeltalogError
    ? thrown.error
    : ioError(thrown instanceof Error ? thrown.message : String(thrown), thrown)

/** Turns an error value into the exception the Promise API rejects with. */
export const toDeltalogError = (error: DeltalogErrorValue): DeltalogError =>
  new DeltalogError(error)

/**
 * Throws `ABORTED` for `what` if `signal` has aborted: for the steps of a bounded read between
 * its iterators, and for verification.
 */
export const stopIfAborted = (signal: AbortSignal | undefined, what: string): void => {
  if (signal?.aborted === true) throw toDeltalogError(aborted(what, signal.reason))
}

/**
 * How a result crosses the Promise boundary: its value, or its error thrown as a
 * `DeltalogError`. Inside an async function or generator the throw is the rejection, so a
 * TaskEither becomes a Promise with `orThrow(await task())`. The one such helper: use it, do
 * not write another.
 */
export const orThrow = <A>(result: Either<DeltalogErrorValue, A>): A => {
  if (result._tag === 'Left') throw toDeltalogError(result.left)
  return result.right
}

/** A TaskEither run as a Promise that rejects with `DeltalogError`: `orThrow` after the task. */
export const toPromise = async <A>(task: TaskEither<DeltalogErrorValue, A>): Promise<A> =>
  orThrow(await task())
