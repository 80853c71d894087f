/**
 * The log's public model: the Promise API (`Log`), the engine it is derived from (`LogTE`), what
 * they return, and the documented defaults of the open options.
 */
import type * as TE from 'fp-ts/lib/TaskEither.js'
import type { AppendRange } from '../delta/delta.js'
import type { DeltalogErrorValue } from '../errors.js'
import type {
  AppendRecord,
  CountOptions,
  Durability,
  FollowOptions,
  KeysOptions,
  ScanOptions,
} from './options.js'
import type { LogMetrics } from './metrics.js'
import type { LogEntry } from './read.js'

/** The end of a log's commit chain: see `Log.head`. */
export interface LogHead {
  readonly sequence: number
  /** SHA-256, as 64 lowercase hex digits. */
  readonly checksum: string
}

/** Documented defaults of the open options. */
export const DEFAULTS = {
  durability: 'sync' as Durability,
  blockSize: 4096,
  maxKeyBytes: 4 * 1024,
  maxValueBytes: 16 * 1024 * 1024,
  maxPendingBytes: 64 * 1024 * 1024,
} as const

/** A record with the sequence it must get, for `appendAt`. */
export interface PlacedRecord extends AppendRecord {
  readonly sequence: number
}

/** What `append` resolves to: the contiguous range `[startSequence, startSequence + count)`. */
export type AppendResult = AppendRange

/** The engine, every effect a TaskEither or an async iterable that throws `DeltalogError`. */
export interface LogTE {
  readonly append: (records: unknown) => TE.TaskEither<DeltalogErrorValue, AppendResult>
  readonly appendAt: (entries: unknown) => TE.TaskEither<DeltalogErrorValue, void>
  readonly flush: () => TE.TaskEither<DeltalogErrorValue, void>
  readonly nextSequence: () => number
  readonly durableSequence: () => number
  readonly head: () => LogHead
  readonly scan: (options?: unknown) => AsyncIterableIterator<LogEntry>
  readonly count: (options?: unknown) => TE.TaskEither<DeltalogErrorValue, number>
  readonly follow: (options?: unknown) => AsyncIterableIterator<LogEntry>
  readonly keys: (options?: unknown) => AsyncIterableIterator<Uint8Array>
  readonly truncateBefore: (sequence: unknown) => TE.TaskEither<DeltalogErrorValue, void>
  readonly close: () => TE.TaskEither<DeltalogErrorValue, void>
  readonly metrics: () => LogMetrics
}

/** An open log. Every rejection is a `DeltalogError` carrying a stable `code`. */
export interface Log extends AsyncDisposable {
  /** Appends records as one commit; resolves with their contiguous range of sequences. */
  readonly append: (records: ReadonlyArray<AppendRecord>) => Promise<AppendResult>
  /**
   * Writes records at the sequences they carry, as one commit: what an import that reproduces
   * another log needs. The sequences must strictly ascend and lie at or above `nextSequence()`;
   * gaps are allowed, and the allocator goes on after the last one.
   */
  readonly appendAt: (entries: ReadonlyArray<PlacedRecord>) => Promise<void>
  /** Resolves when every earlier append is durable. */
  readonly flush: () => Promise<void>
  /**
   * The next sequence the allocator will hand out; in a log opened read-only, one past its last
   * entry.
   */
  readonly nextSequence: () => number
  /** Exclusive watermark: every sequence below it is durable. */
  readonly durableSequence: () => number
  /**
   * The end of the commit chain as a power loss would leave it: one past the last durable
   * commit's last sequence, and the SHA-256 chained over every commit up to it. Keep it
   * elsewhere, and `verifyStorage(storage, { head })` (or `deltalog verify --head`) later proves
   * that the log still passes through it: nothing before it was lost, changed or rewritten.
   */
  readonly head: () => LogHead
  /**
   * Entries of one key, or of all keys in global order, between `from` (inclusive) or `after`
   * (exclusive) and `to` (exclusive); `reverse` changes the order, not the range. When `signal`
   * aborts, the next `next()` rejects with `ABORTED` and the read lets go of the store at once.
   */
  readonly scan: (options?: ScanOptions) => AsyncIterableIterator<LogEntry>
  /** The exact number of entries in a range, given as for `scan`; `signal` as for `scan`. */
  readonly count: (options?: CountOptions) => Promise<number>
  /**
   * Existing entries from `from` (inclusive) or `after` (exclusive) — by default the current
   * end — then new ones as they commit, until `signal` aborts (the follow then ends quietly).
   */
  readonly follow: (options?: FollowOptions) => AsyncIterableIterator<LogEntry>
  /** The distinct keys with entries, in byte order; `signal` as for `scan`. */
  readonly keys: (options?: KeysOptions) => AsyncIterableIterator<Uint8Array>
  /** Removes every entry below `sequence`, atomically and durably. */
  readonly truncateBefore: (sequence: number) => Promise<void>
  /**
   * Commits what is queued, syncs, releases the store. Idempotent: a second call while a close
   * runs gets the same promise, and one after it resolves at once.
   */
  readonly close: () => Promise<void>
  /**
   * A snapshot for health checks and dashboards: pending appends and bytes, the last commit,
   * commit and sync latency histograms since the log opened, the durable watermark's lag, the
   * followers and their lag, backpressure waits. Always kept, and cheap to take; see
   * docs/observability.md. A log opened read-only reports its watermarks and followers, and
   * nothing pending, committed or synced.
   */
  readonly metrics: () => LogMetrics
  /** What `close()` does, for `await using log = await openLog(…)`. */
  readonly [Symbol.asyncDispose]: () => Promise<void>
}
