/**
 * The single writer: a queue of appends, flushes, placements and truncations, drained one step
 * at a time by the shared pump (pump.ts), with group commit. While one commit is in flight, new
 * requests queue; the next commit takes the queued appends (up to a bound, group.ts) as ONE
 * Delta — one atomic batch, one fsync — and still gives each caller its own contiguous range. The
 * steps are in commit.ts, the backpressure in admission.ts.
 *
 * When a write fails, its requests are rejected with the cause and the writer stops
 * (`WRITER_FAILED`): see commit.ts.
 */
import * as E from 'fp-ts/lib/Either.js'
import * as O from 'fp-ts/lib/Option.js'
import type { ChainLink } from '../codec/commit.js'
import type { AppendRange, Entry, Records } from '../delta/delta.js'
import { closed, writerFailed, type DeltalogErrorValue } from '../errors.js'
import type { AllocatorState } from '../sequence/allocator.js'
import { makeAdmission, type AdmissionLoad } from './admission.js'
import {
  markDurable,
  takeStep,
  type Request,
  type Settle,
  type StepConfig,
  type WriterCore,
  type WriterState,
} from './commit.js'
import { makePump, type Pump } from './pump.js'
import type { Truncation } from '../codec/truncation.js'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

export interface WriterConfig extends StepConfig {
  readonly maxPendingBytes: number
  readonly appendTimeoutMs: number | undefined
  readonly syncIntervalMs: number | undefined
}

export interface WriterStart {
  readonly allocator: AllocatorState
  readonly truncation: Truncation
  /** The chain's end: the link of the last commit record. */
  readonly link: ChainLink
}

/** The writer's view for readers: watermarks and the truncation point. */
export interface Writer {
  /** The next sequence the allocator hands out. */
  readonly nextSequence: () => number
  /** Every sequence below this is durable. */
  readonly durableSequence: () => number
  /** Entries below this were removed by `truncateBefore`. */
  readonly truncatedBefore: () => number
  /** The link of the last durable commit: the chain's end as a power loss would leave it. */
  readonly head: () => ChainLink
  readonly append: (
    records: Records,
    bytes: number,
  ) => Promise<E.Either<DeltalogErrorValue, AppendRange>>
  readonly flush: () => Promise<E.Either<DeltalogErrorValue, void>>
  readonly truncateBefore: (before: number) => Promise<E.Either<DeltalogErrorValue, number>>
  /** Writes entries at the sequences they carry, ascending and above every one handed out. */
  readonly appendAt: (entries: ReadonlyArray<Entry>) => Promise<E.Either<DeltalogErrorValue, void>>
  /** Commits everything already queued, syncs, and refuses new requests with `CLOSED`. */
  readonly close: () => Promise<E.Either<DeltalogErrorValue, void>>
  /** What is pending and what waited for room, for `log.metrics()`. */
  readonly load: () => AdmissionLoad
}

// Each pending record counts its bytes plus this, so that many empty records still add up.
export const RECORD_OVERHEAD_BYTES = 32

/** The writer with its drain loop and its lifecycle. */
interface Running extends WriterCore {
  readonly pump: Pump
  /** Resolved when the queue and the appends waiting for room are both empty. */
  readonly idle: Array<() => void>
  isClosed: boolean
}

// -------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------

export const makeWriter = (config: WriterConfig, start: WriterStart): Writer => {
  const w = run(config, start)
  const { state } = w
  // Requests that go through the queue, refused at once when the writer is closed or stopped.
  const queued =
    <A>(make: (settle: Settle<A>) => Request) =>
    (): Promise<E.Either<DeltalogErrorValue, A>> => {
      const refused = refusal(w)
      return O.isSome(refused) ? Promise.resolve(E.left(refused.value)) : enqueue(w, make)
    }
  const timer = syncEvery(w, config.syncIntervalMs)
  return {
    nextSequence: () => state.allocator.nextSequence,
    durableSequence: () => state.durableEnd,
    truncatedBefore: () => state.truncation.before,
    head: () => state.durableLink,
    append: (records, bytes) => append(w, records, bytes),
    flush: queued<void>((settle) => ({ kind: 'flush', settle })),
    truncateBefore: (before) =>
      queued<number>((settle) => ({ kind: 'truncate', before, settle }))(),
    appendAt: (entries) => queued<void>((settle) => ({ kind: 'place', entries, settle }))(),
    close: () => {
      if (timer !== undefined) clearInterval(timer)
      return close(w)
    },
    load: w.admission.load,
  }
}

/** The state, queue, admission and pump of a new writer. */
const run = (config: WriterConfig, start: WriterStart): Running => {
  const queue: Request[] = []
  const admission = makeAdmission(config.maxPendingBytes, config.appendTimeoutMs)
  const idle: Array<() => void> = []
  const state: WriterState = {
    allocator: start.allocator,
    link: start.link,
    durableEnd: start.allocator.nextSequence,
    durableLink: start.link,
    truncation: start.truncation,
    failure: O.none,
  }
  const core: WriterCore = { config, state, queue, admission }
  const pump = makePump({
    hasWork: () => queue.length > 0 && O.isNone(state.failure),
    step: () => takeStep(core),
    onIdle: () => {
      if (queue.length === 0 && admission.waiting() === 0) {
        for (const done of idle.splice(0)) done()
      }
    },
  })
  return { ...core, pump, idle, isClosed: false }
}

/** Why the writer takes no more requests, if it does not. */
const refusal = (w: Running): O.Option<DeltalogErrorValue> =>
  w.isClosed ? O.some(closed('log')) : O.map(writerFailed)(w.state.failure)

/** Queues a request and starts the drain. REQUIRES: `refusal(w)` is none. */
const enqueue = <A>(
  w: Running,
  make: (settle: Settle<A>) => Request,
): Promise<E.Either<DeltalogErrorValue, A>> =>
  new Promise((resolve) => {
    w.queue.push(make(resolve))
    w.pump.kick()
  })

/** Queues an append once there is room for its bytes (see admission.ts). */
const append = (
  w: Running,
  records: Records,
  bytes: number,
): Promise<E.Either<DeltalogErrorValue, AppendRange>> =>
  new Promise((resolve) => {
    const refused = refusal(w)
    if (O.isSome(refused)) return resolve(E.left(refused.value))
    w.admission.request(
      bytes,
      () => {
        w.queue.push({ kind: 'append', records, bytes, settle: resolve })
        w.pump.kick()
      },
      (error) => resolve(E.left(error)),
    )
  })

/** In buffered mode, a flush every `ms` while something is not yet durable. */
const syncEvery = (
  w: Running,
  ms: number | undefined,
): ReturnType<typeof setInterval> | undefined => {
  if (ms === undefined) return undefined
  const timer = setInterval(() => {
    if (O.isNone(refusal(w)) && w.state.durableEnd < w.state.allocator.nextSequence) {
      void enqueue<void>(w, (settle) => ({ kind: 'flush', settle }))
    }
  }, ms)
  timer.unref()
  return timer
}

/**
 * Refuses new requests, waits until everything already queued (or waiting for room) was
 * written, and syncs what is not yet durable. A second call resolves at once.
 */
const close = async (w: Running): Promise<E.Either<DeltalogErrorValue, void>> => {
  if (w.isClosed) return E.right(undefined)
  w.isClosed = true
  const { state } = w
  if (w.pump.running() || w.queue.length > 0 || w.admission.waiting() > 0) {
    await new Promise<void>((resolve) => w.idle.push(resolve))
  }
  if (O.isNone(state.failure) && state.durableEnd < state.allocator.nextSequence) {
    const synced = await w.config.storage.write([], { sync: true })()
    if (E.isLeft(synced)) return synced
    markDurable(state, state.allocator.nextSequence, state.link)
  }
  return E.right(undefined)
}
