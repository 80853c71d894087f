// The cost of tracing: append throughput with one subscriber on every tracing channel
// (src/diagnostics/channels.ts) against the same appends with none. The span-like subscriber
// does what a span would: it notes the start time and the context's attributes, the failure's
// code, and the duration into a histogram at the end. A subscriber whose handlers do nothing
// measures what the engine itself spends publishing (building contexts, publishing, one more
// promise per traced call), apart from what a subscriber does with the messages. Both subscribe
// by name, so they measure whatever the engine publishes. With no subscriber the engine only
// asks each channel whether anyone listens; a build without those checks is not in this run,
// so that cost is not measured here.
import dc from 'node:diagnostics_channel'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { openEventStore, openLog } from '../../src/index.js'
import { CHANNEL_NAMES } from '../../src/diagnostics/channels.js'
import { figure, inDir, paired, producers, target, valueOf, type CaseResult } from '../measure.js'

export interface TracingSizes {
  /** How long each side appends per round. */
  readonly ms: number
  readonly rounds: number
}

const PRODUCERS = 256
const VALUE_BYTES = 100

interface Span {
  readonly start: number
  readonly attributes: Record<string, unknown>
  code?: unknown
}

/** What the subscriber saw: spans ended, by channel name. */
export type Seen = Record<string, number>

/**
 * Subscribes a span-like handler to every event of every channel; returns what it has seen so
 * far and how to unsubscribe.
 */
export const subscribeAll = (): { readonly seen: Seen; readonly unsubscribe: () => void } => {
  const seen: Seen = {}
  // Durations in powers of two of microseconds, as a histogram instrument buckets them.
  const buckets = new Array<number>(32).fill(0)
  const spans = new WeakMap<object, Span>()
  const undo = Object.values(CHANNEL_NAMES).map((name) => {
    const handlers = {
      start: (ctx: unknown) => {
        const c = ctx as object
        spans.set(c, { start: performance.now(), attributes: { ...c } })
      },
      end: () => undefined,
      asyncStart: () => undefined,
      asyncEnd: (ctx: unknown) => {
        const span = spans.get(ctx as object)
        if (span === undefined) return
        const micros = (performance.now() - span.start) * 1000
        const bucket = Math.min(31, Math.max(0, Math.ceil(Math.log2(micros + 1))))
        buckets[bucket] = (buckets[bucket] ?? 0) + 1
        seen[name] = (seen[name] ?? 0) + 1
        spans.delete(ctx as object)
      },
      error: (ctx: unknown) => {
        const span = spans.get(ctx as object)
        if (span !== undefined) span.code = (ctx as { code?: unknown }).code
      },
    }
    const channel = dc.tracingChannel(name)
    channel.subscribe(handlers)
    return () => channel.unsubscribe(handlers)
  })
  return { seen, unsubscribe: () => undo.forEach((u) => u()) }
}

/** A subscriber on every channel whose handlers do nothing; returns how to unsubscribe. */
export const subscribeNoop = (): (() => void) => {
  const handlers = {
    start: () => undefined,
    end: () => undefined,
    asyncStart: () => undefined,
    asyncEnd: () => undefined,
    error: () => undefined,
  }
  const channels = Object.values(CHANNEL_NAMES).map((name) => dc.tracingChannel(name))
  channels.forEach((channel) => channel.subscribe(handlers))
  return () => channels.forEach((channel) => channel.unsubscribe(handlers))
}

/** Who listens while a side appends. */
type Subscriber = 'span' | 'noop' | 'none'

/** Runs `measure` with `subscriber` on every channel; adds what a span-like one saw to `seen`. */
const withTracing = async (
  subscriber: Subscriber,
  seen: Seen,
  measure: () => Promise<number>,
): Promise<number> => {
  if (subscriber === 'none') return measure()
  const subscription =
    subscriber === 'span' ? subscribeAll() : { seen: {}, unsubscribe: subscribeNoop() }
  try {
    return await measure()
  } finally {
    subscription.unsubscribe()
    for (const [name, n] of Object.entries(subscription.seen)) seen[name] = (seen[name] ?? 0) + n
  }
}

export const tracing = async (sizes: TracingSizes): Promise<CaseResult> => {
  const value = valueOf(VALUE_BYTES)
  const seen: Seen = {}
  const logAppends = (subscriber: Subscriber) => (): Promise<number> =>
    inDir('tracing-log', async (dir) => {
      const log = await openLog({ path: join(dir, 'log'), durability: 'buffered' })
      try {
        return await withTracing(subscriber, seen, () =>
          producers(PRODUCERS, sizes.ms, (p) => log.append([{ key: `producer-${p}`, value }])),
        )
      } finally {
        await log.close()
      }
    })
  const storeAppends = (subscriber: Subscriber) => (): Promise<number> =>
    inDir('tracing-store', async (dir) => {
      const store = await openEventStore({ path: join(dir, 'events'), durability: 'buffered' })
      const data = { amount: 10, note: 'x'.repeat(60) }
      try {
        return await withTracing(subscriber, seen, () =>
          producers(PRODUCERS, sizes.ms, (p) =>
            store.appendToStream(`account-${p}`, [{ type: 'Deposited', data }]),
          ),
        )
      } finally {
        await store.close()
      }
    })
  /** One figure: `appends` with `subscriber` on every channel against the same with none. */
  const against = async (
    what: string,
    appends: (subscriber: Subscriber) => () => Promise<number>,
    subscriber: Exclude<Subscriber, 'none'>,
  ) =>
    figure(
      `${what}, ${PRODUCERS} producers, buffered, ` +
        (subscriber === 'span'
          ? 'one subscriber on every channel'
          : 'a subscriber that does nothing'),
      'appends/s',
      'the same appends, no subscriber',
      await paired(sizes.rounds, appends(subscriber), appends('none')),
    )
  const log = await against('log appends', logAppends, 'span')
  const store = await against('event store appends', storeAppends, 'span')
  const logNoop = await against('log appends', logAppends, 'noop')
  const storeNoop = await against('event store appends', storeAppends, 'noop')
  const spans = Object.values(CHANNEL_NAMES)
    .map((name) => `${name} ${(seen[name] ?? 0).toLocaleString('en-US')}`)
    .join(', ')
  return {
    id: 'tracing',
    title: 'Tracing overhead',
    setup:
      `${PRODUCERS} producers appending one ${VALUE_BYTES}-byte record (the log) or one event ` +
      `(the event store) at a time, buffered so that the engine's own work is not hidden behind ` +
      `the disk's sync, with and without a subscriber on every tracing channel; ${sizes.ms} ms ` +
      'per side per round',
    rounds: sizes.rounds,
    figures: [log, store, logNoop, storeNoop],
    targets: [target(log, 'ratio', '>=', 0.95), target(store, 'ratio', '>=', 0.95)],
    notes: [
      "The subscriber handles every channel's start, end, asyncStart, asyncEnd and error: it " +
        "notes the start time and copies the context's fields at the start, the error's code, " +
        'and the duration into a histogram at the end, as a span and a histogram instrument would. ' +
        'The subscriber that does nothing has a handler for each of those events that returns at ' +
        "once: its figures are the engine's own cost of publishing, the span-like one's what an " +
        'application pays in all.',
      `Spans the subscriber ended, over all rounds: ${spans}. A channel with none publishes ` +
        'nothing in this workload (or nothing yet).',
      'A target of ≥ 0.95× is a cost of at most 5%. With no subscriber the engine asks each ' +
        "channel whether anyone listens and does nothing more; that check's own cost would need " +
        'a build without it, which this run does not have: the no-subscriber side is the baseline.',
    ],
  }
}
