/**
 * `log.metrics()`: a snapshot of a running log for health checks and dashboards — what waits to
 * be written, the last commit, commit and sync latency since the log opened, how far the durable
 * watermark lags, the followers and backpressure. Its figures are counters the writer keeps
 * anyway or a few additions per commit (the `Meter`), so they are kept whether or not anyone
 * reads them; a snapshot is a plain readonly value, built only when asked for.
 */
import { makeHistogram, type Histogram, type HistogramSnapshot } from '../diagnostics/histogram.js'
import type { AdmissionLoad } from './admission.js'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** The last commit of the writer: its appends, as one batch. */
export interface CommitMetrics {
  readonly appends: number
  readonly records: number
  /** The appends' bytes, as counted against `maxPendingBytes`. */
  readonly bytes: number
  /** When its batch was written (milliseconds since the epoch). */
  readonly at: number
}

/** One follower of the log and how far behind the head it is. */
export interface FollowerMetrics {
  /** The next sequence it will look at. */
  readonly position: number
  /** `nextSequence()` minus its position: how many sequences it has yet to see (0 or more). */
  readonly lag: number
}

/** A snapshot of a log: see `Log.metrics`. */
export interface LogMetrics {
  /** Appends queued or being written, and appends waiting for room (`maxPendingBytes`). */
  readonly pending: { readonly appends: number; readonly bytes: number }
  /** The last commit that wrote appends; undefined before the first. */
  readonly lastCommit: CommitMetrics | undefined
  /** How long each commit took, from taking its appends off the queue to settling them (ms). */
  readonly commitLatency: HistogramSnapshot
  /** How long each synced write to storage took, with data or without (ms). */
  readonly syncLatency: HistogramSnapshot
  /** How far the durable watermark is behind the log's end. */
  readonly durability: {
    readonly nextSequence: number
    readonly durableSequence: number
    /** `nextSequence − durableSequence`: sequences handed out and not yet durable. */
    readonly lag: number
    /** How long the oldest commit that is not yet durable has waited for a sync (ms); 0 if none. */
    readonly lagMs: number
  }
  /** The log's live followers (`follow`) that have started reading. */
  readonly followers: { readonly count: number; readonly each: ReadonlyArray<FollowerMetrics> }
  /** Appends that had to wait for room: see `maxPendingBytes`. */
  readonly backpressure: {
    /** How many had to wait since the log opened, including those waiting now. */
    readonly waits: number
    /** How long those that no longer wait waited, in total (ms). */
    readonly totalMs: number
    /** How many wait now. */
    readonly waiting: number
  }
}

/** Where a follower stands, kept current by its loop (follow.ts). */
export interface FollowerCursor {
  position: number
}

/** What the writer records as it goes, for `log.metrics()`. */
export interface Meter {
  readonly commitLatency: Histogram
  readonly syncLatency: Histogram
  lastCommit: CommitMetrics | undefined
  /** When the oldest commit not yet durable was written (`performance.now()`), if there is one. */
  nonDurableSince: number | undefined
  /** The followers reading now. */
  readonly followers: Set<FollowerCursor>
}

/** What a snapshot is read from besides the meter. */
export interface MeteredLog {
  readonly meter: Meter
  readonly nextSequence: () => number
  readonly durableSequence: () => number
  readonly load: () => AdmissionLoad
}

// -------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------

/** A meter with nothing recorded. */
export const makeMeter = (): Meter => ({
  commitLatency: makeHistogram(),
  syncLatency: makeHistogram(),
  lastCommit: undefined,
  nonDurableSince: undefined,
  followers: new Set(),
})

/** Nothing pending and no wait: the load of a log that writes nothing (opened read-only). */
export const NO_LOAD: AdmissionLoad = {
  pendingAppends: 0,
  pendingBytes: 0,
  waits: 0,
  waitedMs: 0,
  waiting: 0,
}

// -------------------------------------------------------------------------------------
// destructors
// -------------------------------------------------------------------------------------

/** The snapshot of a log now. */
export const readMetrics = (log: MeteredLog): LogMetrics => {
  const { meter } = log
  const nextSequence = log.nextSequence()
  const durableSequence = log.durableSequence()
  const lag = Math.max(0, nextSequence - durableSequence)
  const since = meter.nonDurableSince
  const load = log.load()
  const each = [...meter.followers].map((f) => ({
    position: f.position,
    lag: Math.max(0, nextSequence - f.position),
  }))
  return {
    pending: { appends: load.pendingAppends, bytes: load.pendingBytes },
    lastCommit: meter.lastCommit,
    commitLatency: meter.commitLatency.snapshot(),
    syncLatency: meter.syncLatency.snapshot(),
    durability: {
      nextSequence,
      durableSequence,
      lag,
      lagMs: lag === 0 || since === undefined ? 0 : performance.now() - since,
    },
    followers: { count: each.length, each },
    backpressure: { waits: load.waits, totalMs: load.waitedMs, waiting: load.waiting },
  }
}
