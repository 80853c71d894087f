/**
 * `deltalog stats --watch`: a log's head, rates and writer seen live from another process,
 * refreshed every `--interval` ms until SIGINT or SIGTERM (exit code 0) or `--count` reports.
 * Each refresh opens the log anew to read only — a read-only open shows the log as it was when
 * it opened — and counts the commits and entries written since the last refresh from their
 * commit records (not the whole log, as `stats` does). On PostgreSQL it also reads the writer
 * epoch and the writer's and followers' sessions (postgres/activity.ts). What only the writer's
 * process knows (pending appends, latencies, backpressure) is named as not seen: `log.metrics()`
 * in that process shows it.
 */
import * as E from 'fp-ts/lib/Either.js'
import * as O from 'fp-ts/lib/Option.js'
import { decodeCommit, encodeCommitKey } from '../../codec/commit.js'
import { decodeTruncation, truncationKey } from '../../codec/truncation.js'
import type { DeltalogErrorValue } from '../../errors.js'
import { iterate, type Storage } from '../../storage/port.js'
import type { StatsArgs } from '../args.js'
import type { Outcome } from '../outcome.js'
import { sizeOnDisk, write } from '../output.js'
import { interruptSignal, pause } from '../signals.js'
import { activityOf, isPostgresUrl, shown, withLog, type TableActivity } from '../store.js'

/** How often the report is refreshed without `--interval`, in ms. */
export const WATCH_INTERVAL_MS = 1000

/** What a refresh reads of the log. */
interface Sample {
  /** When the read ended, in ms since the epoch. */
  readonly at: number
  readonly nextSequence: number
  readonly durableSequence: number
  readonly truncatedBefore: number
  /** Commits and entries written since the sample before; null for the first. */
  readonly written: { readonly commits: number; readonly entries: number } | null
  readonly sizeOnDisk: number | null
  readonly activity: TableActivity | null
}

/** What another process cannot see, by storage. */
const UNSEEN = {
  postgresql:
    "pending appends, commit and sync latencies, backpressure: log.metrics() in the writer's process",
  rocksdb:
    "pending appends, commit and sync latencies, backpressure, followers, whether a writer has the directory open: log.metrics() in the writer's process",
} as const

/** One refresh of `--watch`, as `--json` prints it (one line each). */
export interface WatchReport {
  readonly at: string
  readonly storage: 'rocksdb' | 'postgresql'
  readonly nextSequence: number
  readonly durableSequence: number
  readonly truncatedBefore: number
  /** Ms since the refresh before; null for the first, and so are the figures over it. */
  readonly intervalMs: number | null
  readonly commits: number | null
  readonly entries: number | null
  readonly commitsPerSecond: number | null
  readonly entriesPerSecond: number | null
  /** Bytes of the directory; null on PostgreSQL. */
  readonly sizeOnDisk: number | null
  /** PostgreSQL's: the writer epoch, and its sessions; alive when it has one. Null on RocksDB. */
  readonly writer: {
    readonly epoch: string | null
    readonly alive: boolean
    readonly sessions: TableActivity['writers']
  } | null
  /** PostgreSQL's: the sessions listening for commits. Null on RocksDB. */
  readonly listeners: TableActivity['listeners'] | null
  /** PostgreSQL's: sessions of the database whose statements this role may not see. */
  readonly hiddenSessions: number | null
  /** What this report cannot show from another process, and where to look instead. */
  readonly notSeen: string
}

// -------------------------------------------------------------------------------------
// the loop
// -------------------------------------------------------------------------------------

/** Runs `stats --watch` until a signal, or `--count` refreshes. */
export const watchStats = async (args: StatsArgs): Promise<Outcome> => {
  const signal = interruptSignal()
  const interval = args.interval ?? WATCH_INTERVAL_MS
  let previous: Sample | undefined
  let printed = 0
  for (let n = 0; args.count === undefined || n < args.count; n++) {
    if (n > 0) await pause(interval, signal)
    if (signal.aborted) break
    const sample = await sampleOf(args, previous)
    if (E.isLeft(sample)) return sample
    const report = reportOf(isPostgresUrl(args.db), previous, sample.right)
    previous = sample.right
    printed = await print(args, report, printed)
  }
  return E.right(0)
}

/**
 * Prints a report: a JSON line with `--json`; else its text, drawn over the one before on a
 * terminal, and after it, with a blank line between, otherwise. Resolves with its lines.
 */
const print = async (args: StatsArgs, report: WatchReport, above: number): Promise<number> => {
  if (args.json === true) {
    await write(`${JSON.stringify(report)}\n`)
    return 1
  }
  const lines = watchText(shown(args), report)
  const redraw = process.stdout.isTTY && above > 0 ? `\x1b[${above}A\x1b[J` : ''
  const gap = !process.stdout.isTTY && above > 0 ? '\n' : ''
  await write(`${redraw}${gap}${lines.join('\n')}\n`)
  return lines.length
}

// -------------------------------------------------------------------------------------
// a refresh
// -------------------------------------------------------------------------------------

/** Reads the log at `args.db` once: its watermarks, what was written since `previous`, its writer. */
const sampleOf = async (
  args: StatsArgs,
  previous: Sample | undefined,
): Promise<E.Either<DeltalogErrorValue, Sample>> => {
  let sample: Omit<Sample, 'at' | 'sizeOnDisk' | 'activity'> | undefined
  const read = await withLog(args, 'read', async (log, storage) => {
    const truncation = await truncatedBefore(storage)
    if (E.isLeft(truncation)) return truncation
    const nextSequence = log.nextSequence()
    const written =
      previous === undefined
        ? null
        : await writtenBetween(storage, previous.nextSequence, nextSequence)
    sample = {
      nextSequence,
      durableSequence: log.durableSequence(),
      truncatedBefore: truncation.right,
      written,
    }
    return E.right(0)
  })
  if (E.isLeft(read)) return read
  const postgres = isPostgresUrl(args.db)
  const activity = postgres ? await activityOf(args) : E.right(null)
  if (E.isLeft(activity)) return activity
  return E.right({
    ...(sample as NonNullable<typeof sample>),
    at: Date.now(),
    sizeOnDisk: postgres ? null : await sizeOnDisk(args.db),
    activity: activity.right,
  })
}

/** Where the log is cut: 0 when it never was. */
const truncatedBefore = async (storage: Storage): Promise<E.Either<DeltalogErrorValue, number>> => {
  const stored = await storage.get(truncationKey)()
  if (E.isLeft(stored)) return stored
  if (O.isNone(stored.right)) return E.right(0)
  return E.map((t: { readonly before: number }) => t.before)(decodeTruncation(stored.right.value))
}

/**
 * The commits whose first sequence lies in `[from, to)`, and their entries, counted from their
 * commit records: what was written between two refreshes.
 */
const writtenBetween = async (
  storage: Storage,
  from: number,
  to: number,
): Promise<{ readonly commits: number; readonly entries: number }> => {
  let commits = 0
  let entries = 0
  if (to <= from) return { commits, entries }
  for await (const { key, value } of iterate(storage, {
    gte: encodeCommitKey(from),
    lt: encodeCommitKey(to),
  })) {
    const commit = decodeCommit(key, value)
    commits++
    if (E.isRight(commit)) entries += commit.right.end - commit.right.firstSequence
  }
  return { commits, entries }
}

// -------------------------------------------------------------------------------------
// the report
// -------------------------------------------------------------------------------------

const perSecond = (count: number, ms: number): number =>
  ms > 0 ? Math.round((count * 1000 * 10) / ms) / 10 : 0

/** The report of `sample`, with the rates over the time since `previous`. */
export const reportOf = (
  postgres: boolean,
  previous: Sample | undefined,
  sample: Sample,
): WatchReport => {
  const ms = previous === undefined ? null : sample.at - previous.at
  const { written, activity } = sample
  return {
    at: new Date(sample.at).toISOString(),
    storage: postgres ? 'postgresql' : 'rocksdb',
    nextSequence: sample.nextSequence,
    durableSequence: sample.durableSequence,
    truncatedBefore: sample.truncatedBefore,
    intervalMs: ms,
    commits: written?.commits ?? null,
    entries: written?.entries ?? null,
    commitsPerSecond: written === null || ms === null ? null : perSecond(written.commits, ms),
    entriesPerSecond: written === null || ms === null ? null : perSecond(written.entries, ms),
    sizeOnDisk: sample.sizeOnDisk,
    writer:
      activity === null
        ? null
        : { epoch: activity.epoch, alive: activity.writers.length > 0, sessions: activity.writers },
    listeners: activity?.listeners ?? null,
    hiddenSessions: activity?.hidden ?? null,
    notSeen: UNSEEN[postgres ? 'postgresql' : 'rocksdb'],
  }
}

/** The report as `stats --watch` prints it without `--json`, a line each. */
const watchText = (where: string, r: WatchReport): ReadonlyArray<string> => {
  const rates =
    r.intervalMs === null
      ? '(rates from the next refresh)'
      : `(${r.entriesPerSecond} entries/s, ${r.commitsPerSecond} commits/s over ${r.intervalMs} ms)`
  const pids = (sessions: ReadonlyArray<{ readonly pid: number }>): string =>
    sessions.length === 0 ? '' : ` (pid ${sessions.map((s) => s.pid).join(', ')})`
  return [
    `${where} at ${r.at}`,
    `next sequence     ${r.nextSequence} ${rates}`,
    `durable sequence  ${r.durableSequence}`,
    `truncated before  ${r.truncatedBefore}`,
    ...(r.sizeOnDisk === null ? [] : [`size on disk      ${r.sizeOnDisk} bytes`]),
    ...(r.writer === null
      ? []
      : [
          `writer            epoch ${r.writer.epoch ?? 'none'}, ${r.writer.alive ? `alive: ${r.writer.sessions.length} session(s) last wrote${pids(r.writer.sessions)}` : 'no session seen (none wrote since its pool closed idle connections)'}`,
          `followers         ${r.listeners?.length ?? 0} listening${pids(r.listeners ?? [])}`,
          ...(r.hiddenSessions === 0
            ? []
            : [
                `hidden sessions   ${r.hiddenSessions} of other roles (pg_read_all_stats shows them)`,
              ]),
        ]),
    `not seen here     ${r.notSeen}`,
  ]
}
