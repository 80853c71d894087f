/**
 * Durable consumers: a named run that hands the events of a source (all, filtered, or a query)
 * to a handler in position order, a batch at a time, and saves the consumer's checkpoint (the
 * checkpoint of its name, `checkpoints.load(name)`) after the handler resolves. A restart
 * resumes after the checkpoint, so every event is handled at least once: a crash between the
 * handler's work and the save hands that batch over again. A failing handler is retried with
 * a doubling delay up to `retry.attempts` times; then the consumer stops with `HANDLER_FAILED`,
 * its checkpoint before the batch — no event is skipped.
 */
import { handlerFailed, invalidArgument, toDeltalogError } from '../errors.js'
import type { ReadEvent } from './model.js'
import type { ReadAllFilter } from './options.js'
import type { Query } from './query.js'
import {
  checkFunction,
  checkName,
  checkOptions,
  ConsumerRunOptions,
  nextCommit,
  nextTurn,
  pause,
  readBatch,
  sourceOf,
  type Partition,
  type RunContext,
} from './runs.js'
import { makeLagMeter, type Run } from './running.js'
import { loadCheckpoint } from './checkpoints.js'
import { checkpointKey, encodeCheckpoint } from './envelope.js'
import type { Request } from './requests.js'
import { delivering } from './tracing.js'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** How a failing handler is retried. */
export interface RetryOptions {
  /** How many times a batch is tried in all before the consumer stops (default 5). */
  readonly attempts?: number
  /** The wait before the first retry, doubling for each later one (default 100 ms). */
  readonly delayMs?: number
  /** The longest wait between two tries (default 5000 ms). */
  readonly maxDelayMs?: number
}

/** The options of `consumer`. */
export interface ConsumerOptions {
  /** Handles a batch of events, in position order; the checkpoint is saved once it resolves. */
  readonly handler: (events: ReadonlyArray<ReadEvent>) => unknown
  /** Which events it gets (as `readAll`'s filter); or give `query`, not both. */
  readonly filter?: ReadAllFilter
  readonly query?: Query
  /**
   * Only the events of the streams whose `partitionOf(streamId, count)` is `index`: one of
   * `count` consumers (each of its own name) that share the streams between them.
   */
  readonly partition?: Partition
  /** Where a consumer with no checkpoint starts: `from` (inclusive) or `after`; default 0. */
  readonly from?: number
  readonly after?: number
  /** The most events handed over at once (default 100). */
  readonly batch?: number
  readonly retry?: RetryOptions
  /** Aborting it stops the consumer, as `stop()` does. */
  readonly signal?: AbortSignal
  /**
   * The store that keeps the checkpoint, if not this one: the events are read from this store
   * (which may then be read-only, in another process), the checkpoint saved in `into`.
   */
  readonly into?: unknown
}

/** A running consumer. */
export type Consumer = Run

const DEFAULT_BATCH = 100
const DEFAULT_RETRY = { attempts: 5, delayMs: 100, maxDelayMs: 5000 }

// -------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------

/** Starts the consumer `name`; resolves once it has loaded its checkpoint and runs. */
export const startConsumer = async (
  store: RunContext,
  name: unknown,
  options: ConsumerOptions,
): Promise<Consumer> => {
  const n = checkName(name)
  const given = (options ?? {}) as Partial<ConsumerOptions>
  const { handler, ...rest } = given
  checkFunction(handler, 'options.handler')
  const o = checkOptions(ConsumerRunOptions, rest)
  if (o.from !== undefined && o.after !== undefined) {
    throw toDeltalogError(invalidArgument('options.after', 'give from or after, not both'))
  }
  const ctx = store.reads()
  const source = await sourceOf(ctx, o)
  const { target } = store
  const saved = await loadCheckpoint(target.log, n)
  const start = saved ?? o.after ?? (o.from ?? 0) - 1
  const retry = {
    attempts: o.retry?.attempts ?? DEFAULT_RETRY.attempts,
    delayMs: o.retry?.delayMs ?? DEFAULT_RETRY.delayMs,
    maxDelayMs: o.retry?.maxDelayMs ?? DEFAULT_RETRY.maxDelayMs,
  }
  const batch = o.batch ?? DEFAULT_BATCH
  const meter = makeLagMeter(ctx.log, start)
  const handle = handler as ConsumerOptions['handler']
  return target.runs.start(
    `consumer ${n}`,
    n,
    o.signal === undefined ? store.closing : AbortSignal.any([o.signal, store.closing]),
    async (signal) => {
      let position = start
      let readTo = start + 1
      while (!signal.aborted) {
        const reads = store.reads()
        const end = reads.log.nextSequence()
        const after = Math.max(position, readTo - 1)
        const { events, through } = await readBatch(reads, source, after, end, batch)
        meter.read(through, events[0])
        readTo = through
        // Stopped during the read: what it found is not handed over.
        if (signal.aborted) return
        const last = events.at(-1)
        if (last === undefined) {
          // Read to the end: wait for a commit. Else a partition dropped all it read: read on.
          if (through >= end) await nextCommit(reads.log, end, signal)
        } else {
          const attempts = await delivering(
            { log: store.logName, subscriber: 'consumer', name: n },
            events,
            async () => {
              const tries = await handleWithRetries(n, events, handle, retry, signal)
              if (tries > 0) await target.submit(checkpointRequest(target.sameLog, n, last))
              return tries
            },
            {},
            (ctx, tries) => (ctx.attempts = tries),
          )
          // Stopped while waiting to retry: the checkpoint stays before the batch.
          if (attempts === 0) return
          position = last.position
          meter.saved(position)
        }
        // Reads of memory, or of the hot tail, resolve without I/O: a run that catches up lets
        // the process's other work (timers, sockets) go between two batches.
        await nextTurn()
      }
    },
    meter,
  )
}

/** The request that saves a consumer's checkpoint after `last`, in its own store or another's. */
const checkpointRequest = (sameLog: boolean, name: string, last: ReadEvent): Request =>
  sameLog
    ? { kind: 'checkpoint', name, position: last.position }
    : {
        kind: 'records',
        records: [{ key: checkpointKey(name), value: encodeCheckpoint(last.position) }],
      }

/**
 * Hands `events` to the handler until it resolves, retrying with a doubling delay; resolves
 * with the calls it took, or 0 when an abort during a delay gave up; throws `HANDLER_FAILED`
 * after the last attempt.
 */
const handleWithRetries = async (
  name: string,
  events: ReadonlyArray<ReadEvent>,
  handler: ConsumerOptions['handler'],
  retry: Required<RetryOptions>,
  signal: AbortSignal,
): Promise<number> => {
  let delay = Math.min(retry.delayMs, retry.maxDelayMs)
  for (let attempt = 1; ; attempt++) {
    try {
      await handler(events)
      return attempt
    } catch (cause) {
      const first = events[0]?.position ?? -1
      const through = events.at(-1)?.position ?? -1
      if (attempt >= retry.attempts) {
        throw toDeltalogError(handlerFailed(name, first, through, attempt, cause))
      }
      await pause(delay, signal)
      if (signal.aborted) return 0
      delay = Math.min(retry.maxDelayMs, delay * 2)
    }
  }
}
