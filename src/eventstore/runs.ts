/**
 * What consumers (consumer.ts) and projections (projection.ts) share: the events they read, a
 * batch at a time from bounded reads (so catching up reads pages, not one event per wake); the
 * wait for the log's next commit when there is nothing to read; the registry that lets one run
 * per name go at once in a store; and the handle a caller stops and watches a run with.
 */
import * as E from 'fp-ts/lib/Either.js'
import * as t from 'io-ts'
import {
  aborted,
  closed,
  errorValueOf,
  invalidArgument,
  orThrow,
  toDeltalogError,
} from '../errors.js'
import type { Log } from '../openLog.js'
import { AbortSignalLike, decodeStrict, Natural, Positive } from '../log/options.js'
import { validateId } from './envelope.js'
import type { ReadEvent } from './model.js'
import { ReadAllFilter } from './options.js'
import { read } from './queries.js'
import { validateQuery, type Query } from './query.js'
import { readAll, type ReadContext } from './reads.js'
import type { Request } from './requests.js'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** How far a run is behind the log. */
export interface Lag {
  /** The last position the run has handled and saved; -1 before its first. */
  readonly position: number
  /** The log's next sequence: every position the run may yet handle lies below it. */
  readonly head: number
  /**
   * Log positions between what the run has handled or read past and the head — events it has
   * yet to handle, and the log's records that are no events (a checkpoint, a commit of
   * documents): 0 once it has caught up and the log is still.
   */
  readonly positions: number
  /** How long ago the oldest event read but not yet handled was recorded; 0 when none is. */
  readonly ms: number
}

/** A running consumer or projection. */
export interface Run {
  readonly name: string
  /**
   * Resolves when the run stops by `stop()`, its signal or the store's close; rejects with the
   * error that stopped it (`HANDLER_FAILED`, or the store's: `FENCED`, `CLOSED`, …).
   */
  readonly done: Promise<void>
  readonly lag: () => Lag
  /**
   * Resolves once the run has handled and saved every event of its source below the log's head
   * as it is now; rejects if the run stops first.
   */
  readonly caughtUp: () => Promise<void>
  /** Stops the run after the batch in hand is handled and saved; resolves when it has stopped. */
  readonly stop: () => Promise<void>
  readonly [Symbol.asyncDispose]: () => Promise<void>
}

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
}

/** The runs of one store, one per name and kind: a second run of a name is refused. */
export interface Runs {
  /** Starts `body` under `key`; its signal aborts on `stop()`, on `signal`, or on the store's close. */
  readonly start: (
    key: string,
    name: string,
    signal: AbortSignal | undefined,
    body: (signal: AbortSignal) => Promise<void>,
    meter: LagMeter,
  ) => Run
  /**
   * Counts `run`, registered in another store's runs (its `into`), among this store's for
   * `stopAll`: the run reads this store, whose close must wait for the batch in hand.
   */
  readonly adopt: (run: Run) => void
  /** Stops every run, and refuses new ones (`CLOSED`); resolves when they have stopped. */
  readonly stopAll: () => Promise<void>
}

export const makeRuns = (): Runs => {
  const running = new Map<string, Run>()
  const adopted = new Set<Run>()
  let stopping = false
  return {
    start: (key, name, signal, body, meter) => {
      // A run that finished starting after its store began to close would outlive the close.
      if (stopping) throw toDeltalogError(closed('event store'))
      if (running.has(key)) {
        throw toDeltalogError(
          invalidArgument('name', `${key} is already running in this store: one run at a time`),
        )
      }
      const stopper = new AbortController()
      const joined =
        signal === undefined ? stopper.signal : AbortSignal.any([signal, stopper.signal])
      const done = (async () => {
        try {
          await body(joined)
        } catch (error) {
          throw toDeltalogError(errorValueOf(error))
        } finally {
          running.delete(key)
        }
      })()
      // A caller that never looks at `done` must not crash the process when the run fails.
      done.catch(() => undefined)
      const stop = async (): Promise<void> => {
        stopper.abort()
        await done.catch(() => undefined)
      }
      const run: Run = {
        name,
        done,
        lag: meter.lag,
        caughtUp: () => meter.caughtUp(done),
        stop,
        [Symbol.asyncDispose]: stop,
      }
      running.set(key, run)
      return run
    },
    adopt: (run) => {
      if (stopping) {
        void run.stop()
        return
      }
      adopted.add(run)
      void run.done.catch(() => undefined).finally(() => adopted.delete(run))
    },
    stopAll: async () => {
      stopping = true
      await Promise.all([...running.values(), ...adopted].map((r) => r.stop()))
    },
  }
}

/** Tracks a run's lag: what it has saved, read past, and the oldest event it holds unhandled. */
export interface LagMeter {
  readonly lag: () => Lag
  /** The run saved events through `position`: none is in hand any more. */
  readonly saved: (position: number) => void
  /** A read found every event of the source below `to`; `first` is the first it returned, in hand. */
  readonly read: (to: number, first: ReadEvent | undefined) => void
  /** Resolves once nothing is in hand and every event below the log's present head was read. */
  readonly caughtUp: (ended: Promise<void>) => Promise<void>
}

export const makeLagMeter = (log: Log, start: number): LagMeter => {
  let position = start
  let readTo = start + 1
  let oldest: number | undefined
  let waiting: Array<{ readonly head: number; readonly resolve: () => void }> = []
  const check = (): void => {
    if (oldest !== undefined) return
    const [reached, rest] = [
      waiting.filter((w) => readTo >= w.head),
      waiting.filter((w) => readTo < w.head),
    ]
    waiting = rest
    for (const w of reached) w.resolve()
  }
  return {
    lag: () => {
      const head = log.nextSequence()
      return {
        position,
        head,
        positions: Math.max(0, head - Math.max(readTo, position + 1)),
        ms: oldest === undefined ? 0 : Math.max(0, Date.now() - oldest),
      }
    },
    saved: (p) => {
      position = Math.max(position, p)
      oldest = undefined
      check()
    },
    read: (to, first) => {
      readTo = Math.max(readTo, to)
      if (first !== undefined) oldest ??= first.recordedAt.getTime()
      check()
    },
    caughtUp: (ended) =>
      new Promise<void>((resolve, reject) => {
        waiting.push({ head: log.nextSequence(), resolve })
        check()
        const stopped = (): void =>
          reject(toDeltalogError(aborted('the run', 'it stopped before it caught up')))
        ended.then(stopped, reject)
      }),
  }
}
