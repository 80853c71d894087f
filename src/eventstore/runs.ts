/**
 * What consumers (consumer.ts) and projections (projection.ts) share: their options, the events
 * they read, a batch at a time from bounded reads (so catching up reads pages, not one event per
 * wake), the wait for the log's next commit when there is nothing to read, and where a run keeps
 * what it writes (its `Target`). The registry of runs, their handles and lag are in running.ts.
 */
import * as E from 'fp-ts/lib/Either.js'
import * as t from 'io-ts'
import { invalidArgument, orThrow, toDeltalogError } from '../errors.js'
import type { Log } from '../openLog.js'
import { AbortSignalLike, decodeStrict, Natural, Positive } from '../log/options.js'
import { validateId } from './envelope.js'
import type { ReadEvent } from './model.js'
import { ReadAllFilter } from './options.js'
import { read } from './queries.js'
import { validateQuery, type Query } from './query.js'
import { readAll, type ReadContext } from './reads.js'
import type { Request } from './requests.js'
import type { Runs } from './running.js'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/**
 * The events a run reads: all of them (optionally filtered) or those matching a query — and of
 * those, with a partition, only the events of the streams whose `partitionOf` is its index.
 */
export type Source = (
  | { readonly kind: 'all'; readonly filter: ReadAllFilter | undefined }
  | { readonly kind: 'query'; readonly query: Query }
) & { readonly partition: Partition | undefined }

/** One of `count` parts of the streams: those whose `partitionOf(streamId, count)` is `index`. */
export interface Partition {
  readonly index: number
  readonly count: number
}

const PartitionOption = t.type({ index: Natural, count: Positive })

/** The options every run takes besides what it does with events. */
export const RunOptions = t.partial({
  filter: ReadAllFilter,
  query: t.unknown,
  partition: PartitionOption,
  batch: Positive,
  signal: AbortSignalLike,
  into: t.unknown,
})

/** The options of a consumer besides its handler. */
export const ConsumerRunOptions = t.partial({
  ...RunOptions.props,
  from: Natural,
  after: Natural,
  retry: t.partial({ attempts: Positive, delayMs: Natural, maxDelayMs: Natural }),
})

// -------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------

/** Checks a run's name and the source its options name (a query is checked by a first read). */
export const sourceOf = async (
  ctx: ReadContext,
  options: {
    readonly filter?: ReadAllFilter
    readonly query?: unknown
    readonly partition?: Partition
  },
): Promise<Source> => {
  if (options.filter !== undefined && options.query !== undefined) {
    throw toDeltalogError(invalidArgument('options.query', 'give a filter or a query, not both'))
  }
  const { partition } = options
  if (partition !== undefined && partition.index >= partition.count) {
    throw toDeltalogError(
      invalidArgument('options.partition.index', `must be below count (${partition.count})`),
    )
  }
  if (options.query !== undefined) {
    orThrow(E.map(() => undefined)(validateQuery(options.query, 'options.query', ctx.upcasters)))
  }
  const source: Source =
    options.query !== undefined
      ? { kind: 'query', query: options.query as Query, partition }
      : { kind: 'all', filter: options.filter, partition }
  // A first read checks what the read itself checks (the filter's event types, a query's names).
  await readBatch(ctx, source, -1, 0, 1)
  return source
}

/**
 * The partition of a stream among `count`: FNV-1a (32 bits) of its id's UTF-8 bytes, modulo
 * `count` — stable across processes, hosts and releases, so that a group of consumers each
 * running one partition handles every stream in exactly one of them.
 */
export const partitionOf = (streamId: string, count: number): number => {
  if (typeof streamId !== 'string') {
    throw toDeltalogError(invalidArgument('streamId', 'must be a string'))
  }
  if (!Positive.is(count)) {
    throw toDeltalogError(invalidArgument('count', 'must be a positive safe integer'))
  }
  return partitionIndex(streamId, count)
}

/** `partitionOf` without its checks, for the reads of a run, whose options were checked. */
const partitionIndex = (streamId: string, count: number): number => {
  let hash = 0x811c9dc5
  for (const byte of UTF8.encode(streamId)) {
    hash ^= byte
    hash = Math.imul(hash, 0x01000193) >>> 0
  }
  return hash % count
}

const UTF8 = new TextEncoder()

/** A run's name, checked as an id. */
export const checkName = (name: unknown): string => orThrow(validateId(name, 'name'))

/** Checks a run's options against `codec`, naming the first bad field. */
export const checkOptions = <A>(
  codec: t.Decoder<unknown, A> & { readonly props: Record<string, unknown> },
  input: unknown,
): A => orThrow(decodeStrict(codec, 'options', input))

/** Checks that `f` is a function: `field` names it. */
export const checkFunction = (f: unknown, field: string): void => {
  if (typeof f !== 'function') throw toDeltalogError(invalidArgument(field, 'must be a function'))
}

/** A batch of a source's events, and the first position the read has not looked at. */
export interface Batch {
  readonly events: ReadonlyArray<ReadEvent>
  /** Every event of the source below it and above the read's start is in `events`. */
  readonly through: number
}

/**
 * Events of `source` above `after` and below `to`, in position order: the matches among the
 * first `limit` events the read finds (fewer when a partition drops some).
 */
export const readBatch = async (
  ctx: ReadContext,
  source: Source,
  after: number,
  to: number,
  limit: number,
): Promise<Batch> => {
  const end = Math.max(to, after + 1)
  const range = { ...(after < 0 ? { from: 0 } : { after }), to: end, limit }
  const found =
    source.kind === 'query'
      ? read(ctx, source.query, range)
      : readAll(ctx, {
          ...range,
          ...(source.filter === undefined ? {} : { filter: source.filter }),
        })
  const { partition } = source
  const events: ReadEvent[] = []
  let count = 0
  let last = after
  for await (const event of found) {
    count++
    last = event.position
    if (
      partition === undefined ||
      partitionIndex(event.streamId, partition.count) === partition.index
    ) {
      events.push(event)
    }
  }
  return { events, through: count < limit ? end : last + 1 }
}

/**
 * Resolves once the log holds an entry at or above `from` (at once if it does), or `signal`
 * aborts. The log's writer wakes it on commit (on PostgreSQL, a reader's NOTIFY does).
 */
export const nextCommit = async (log: Log, from: number, signal: AbortSignal): Promise<void> => {
  if (signal.aborted) return
  const follow = log.follow({ from, signal })
  try {
    await follow.next()
  } catch (error) {
    if (!signal.aborted) throw error
  } finally {
    await follow.return?.(undefined).catch(() => undefined)
  }
}

/** Resolves in a later turn of the event loop, after the I/O and timers due by then. */
export const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

/** Waits `ms`, or less if `signal` aborts. */
export const pause = (ms: number, signal: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    if (signal.aborted) return resolve()
    const timer = setTimeout(done, ms)
    function done(): void {
      clearTimeout(timer)
      signal.removeEventListener('abort', done)
      resolve()
    }
    signal.addEventListener('abort', done, { once: true })
  })

/**
 * Where a run keeps what it writes — a consumer's checkpoint, a projection's documents and
 * state: its own store's log, or another store's (the run's `into`), whose writer then writes
 * them and whose runs it counts among.
 */
export interface Target {
  readonly log: Log
  readonly runs: Runs
  readonly submit: (request: Request) => Promise<unknown>
  /**
   * Whether the target's log is the one the events are read from, so that a saved position is
   * checked against its head; another log's head says nothing of the events' positions.
   */
  readonly sameLog: boolean
}

/** What a run needs of the store it reads and the store it writes to. */
export interface RunContext {
  readonly reads: () => ReadContext
  /** Aborts when the store the events are read from closes. */
  readonly closing: AbortSignal
  readonly target: Target
  /** The log the events are read from, as spans name it (tracing.ts). */
  readonly logName: string
}
