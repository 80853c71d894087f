/**
 * Validation of everything a caller hands the log: open options, records, and the options of
 * scan, count, follow and keys. io-ts describes each shape; unknown fields are refused rather
 * than ignored, and every failure is an `INVALID_ARGUMENT` value that names the field.
 */
import * as E from 'fp-ts/lib/Either.js'
import { pipe } from 'fp-ts/lib/function.js'
import * as t from 'io-ts'
import { isWellFormed } from '../codec/keys.js'
import { invalidArgument, type InvalidArgumentError } from '../errors.js'
import type { Storage } from '../storage/port.js'

// -------------------------------------------------------------------------------------
// codecs
// -------------------------------------------------------------------------------------

/** An io-ts codec for values a type guard accepts as they are. */
export const fromGuard = <A>(name: string, is: (u: unknown) => u is A): t.Type<A, A, unknown> =>
  new t.Type<A, A, unknown>(
    name,
    is,
    (u, c) => (is(u) ? t.success(u) : t.failure(u, c)),
    t.identity,
  )

/** A non-negative safe integer: a sequence, a count, a size. */
export const Natural = fromGuard(
  'non-negative safe integer',
  (u): u is number => typeof u === 'number' && Number.isSafeInteger(u) && u >= 0,
)

/** A positive safe integer. */
export const Positive = fromGuard(
  'positive safe integer',
  (u): u is number => Natural.is(u) && u > 0,
)

/** A POSIX file mode of permission bits, 0 to 0o777. */
export const FileMode = fromGuard(
  'file mode from 0 to 0o777',
  (u): u is number => Natural.is(u) && u <= 0o777,
)

/** Bytes, or a string meaning its UTF-8 bytes. */
export const BytesLike = fromGuard(
  'string | Uint8Array',
  (u): u is string | Uint8Array => typeof u === 'string' || u instanceof Uint8Array,
)

/**
 * A key: bytes, or a string meaning its UTF-8 bytes. A string must be well-formed UTF-16: one
 * with a lone surrogate has no UTF-8 bytes and would name the same key as another string.
 */
export const KeyLike = fromGuard(
  'a Uint8Array or a well-formed string (no lone surrogate)',
  (u): u is string | Uint8Array =>
    u instanceof Uint8Array || (typeof u === 'string' && isWellFormed(u)),
)

/** The error for a string that is not well-formed UTF-16, naming its field. */
export const notWellFormed = (field: string): InvalidArgumentError =>
  invalidArgument(
    field,
    'is not well-formed UTF-16: it holds a lone surrogate, which has no UTF-8 encoding',
  )

/** A non-empty string. */
export const NonEmptyString = fromGuard(
  'non-empty string',
  (u): u is string => typeof u === 'string' && u.length > 0,
)

/** An AbortSignal. */
export const AbortSignalLike = fromGuard(
  'AbortSignal',
  (u): u is AbortSignal => u instanceof AbortSignal,
)

// The methods every Storage has; `watch` and `openIterators` are optional.
const isStorage = (u: unknown): u is Storage =>
  typeof u === 'object' &&
  u !== null &&
  ['get', 'getMany', 'write', 'iterator', 'close'].every(
    (m) => typeof (u as Record<string, unknown>)[m] === 'function',
  )

const StorageLike = fromGuard('Storage', isStorage)

export const Durability = t.keyof({ sync: null, buffered: null })
export type Durability = t.TypeOf<typeof Durability>

export const Visibility = t.keyof({ all: null, durable: null })
export type Visibility = t.TypeOf<typeof Visibility>

/** How to open a log. Exactly one of `path` and `storage`. */
export const OpenOptions = t.partial({
  /**
   * A directory for the log's RocksDB database. A missing or empty one gets a new log; one that
   * holds anything but a deltalog log is refused with `NOT_A_LOG` or `CORRUPTION`, untouched.
   */
  path: t.string,
  /**
   * The mode of a directory a new log is created in (default 0o700, its owner's alone, whatever
   * the umask); for example 0o750 lets the owner's group read it.
   */
  directoryMode: FileMode,
  /** Any Storage adapter instead of a directory. */
  storage: StorageLike,
  /**
   * Open to read only (default false): scan, count, keys, head and follow work; append,
   * appendAt, flush and truncateBefore reject with `READ_ONLY`, and nothing is written, not
   * even on open. With `path` the directory is opened without the writer's lock, so a log that
   * another process writes to can be read, and that process can always open its log; the
   * reader sees the log as it was when it opened.
   */
  readOnly: t.boolean,
  /** `sync` (default): appends resolve after fsync. `buffered`: after the write. */
  durability: Durability,
  /** In buffered mode, sync in the background at this interval. */
  syncIntervalMs: Positive,
  /** Sequence numbers reserved per SeqBlock record (default 4096). */
  blockSize: Positive,
  /** Largest key in bytes (default 4 KiB). */
  maxKeyBytes: Positive,
  /** Largest value in bytes (default 16 MiB). */
  maxValueBytes: Positive,
  /** Bytes of appends that may wait for a commit before `append` waits (default 64 MiB). */
  maxPendingBytes: Positive,
  /** How long `append` may wait for room before it rejects with `BACKPRESSURE`. */
  appendTimeoutMs: Positive,
})
export type OpenOptions = t.TypeOf<typeof OpenOptions>

export const AppendRecord = t.type({ key: BytesLike, value: BytesLike })
export type AppendRecord = t.TypeOf<typeof AppendRecord>

// Every range of sequences (positions, revisions) is given the same way: `from` inclusive or
// `after` exclusive — the last one already handled, e.g. a checkpoint — and `to` exclusive.

export const ScanOptions = t.partial({
  key: KeyLike,
  from: Natural,
  after: Natural,
  to: Natural,
  limit: Natural,
  reverse: t.boolean,
  visibility: Visibility,
  /** Stops the scan: its next `next()` rejects with `ABORTED`. */
  signal: AbortSignalLike,
})
export type ScanOptions = t.TypeOf<typeof ScanOptions>

export const CountOptions = t.partial({
  key: KeyLike,
  from: Natural,
  after: Natural,
  to: Natural,
  /** Stops the count: it rejects with `ABORTED`. */
  signal: AbortSignalLike,
})
export type CountOptions = t.TypeOf<typeof CountOptions>

export const FollowOptions = t.partial({
  key: KeyLike,
  from: Natural,
  after: Natural,
  signal: AbortSignalLike,
  visibility: Visibility,
})
export type FollowOptions = t.TypeOf<typeof FollowOptions>

export const KeysOptions = t.partial({
  prefix: KeyLike,
  /** Stops the listing: its next `next()` rejects with `ABORTED`. */
  signal: AbortSignalLike,
})
export type KeysOptions = t.TypeOf<typeof KeysOptions>

// -------------------------------------------------------------------------------------
// destructors
// -------------------------------------------------------------------------------------

const describeFailure = (where: string, errors: t.Errors): InvalidArgumentError => {
  const first = errors[0]
  if (first === undefined) return invalidArgument(where, 'is invalid')
  const path = first.context
    .map((c) => c.key)
    .filter((k) => k !== '')
    .join('.')
  const expected = first.context[first.context.length - 1]?.type.name ?? 'a valid value'
  return invalidArgument(path === '' ? where : `${where}.${path}`, `must be ${expected}`)
}

/**
 * The first sequence a range includes: `from` as it is, or the one after `after`; undefined
 * when neither is given. Both at once is an `INVALID_ARGUMENT` naming `after`.
 */
export const lowerBound = (
  o: { readonly from?: number | undefined; readonly after?: number | undefined },
  where = 'options',
): E.Either<InvalidArgumentError, number | undefined> =>
  o.after === undefined
    ? E.right(o.from)
    : o.from === undefined
      ? E.right(o.after + 1)
      : E.left(
          invalidArgument(`${where}.after`, 'give from (inclusive) or after (exclusive), not both'),
        )

/** The options with `from` (inclusive) or `after` (exclusive) turned into `from`. */
export const withLowerBound = <O extends { readonly from?: number; readonly after?: number }>(
  decoded: E.Either<InvalidArgumentError, O>,
): E.Either<InvalidArgumentError, O> =>
  E.chain((o: O) => E.map((from: number | undefined) => ({ ...o, from }))(lowerBound(o)))(decoded)

/**
 * Decodes `input` with a codec of known fields, refusing fields it does not know. `where` names
 * the argument in error messages (e.g. `options`).
 */
export const decodeStrict = <A>(
  codec: t.Decoder<unknown, A> & { readonly props: Record<string, unknown> },
  where: string,
  input: unknown,
): E.Either<InvalidArgumentError, A> => {
  const given: unknown = input ?? {}
  if (typeof given !== 'object' || given === null || Array.isArray(given)) {
    return E.left(invalidArgument(where, 'must be an object'))
  }
  const unknownField = Object.keys(given).find((k) => !(k in codec.props))
  if (unknownField !== undefined) {
    return E.left(invalidArgument(`${where}.${unknownField}`, 'is not a known option'))
  }
  // An explicit `undefined` means "not given", as with any optional argument.
  const defined = Object.fromEntries(Object.entries(given).filter(([, v]) => v !== undefined))
  return pipe(
    codec.decode(defined),
    E.mapLeft((errors) => describeFailure(where, errors)),
  )
}
