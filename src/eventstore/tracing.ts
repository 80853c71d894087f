/**
 * The event store's tracing channels (src/diagnostics/channels.ts): `deltalog:event-store:append`
 * around each append at the store's Promise edge, and `deltalog:event-store:deliver` around each
 * batch handed to a subscriber — a subscription's event, a consumer's handler call with its
 * checkpoint, a projection's fold and commit. Contexts are built only while someone subscribes.
 */
import {
  channelOf,
  isTraced,
  tracePromise,
  type DeliverContext,
  type EventAppendContext,
} from '../diagnostics/channels.js'
import type { DeltalogError } from '../errors.js'
import type { EventAppendResult, ReadEvent, SubscriptionMessage } from './model.js'

// -------------------------------------------------------------------------------------
// the log's name
// -------------------------------------------------------------------------------------

/**
 * The log as a span names it, as the log's own channels do: the directory the store opened, the
 * storage's `location` when it names one (a PostgreSQL table), `memory` for storage that keeps
 * nothing, and otherwise `storage` (an adapter given) or `log` (a log given, whose name the
 * store does not know).
 */
export const logNameOf = (source: {
  readonly path?: string | undefined
  readonly storage?: unknown
}): string => {
  if (source.path !== undefined) return source.path
  if (source.storage === undefined) return 'log'
  const storage = source.storage as {
    readonly location?: unknown
    readonly capabilities?: { readonly persistent?: boolean }
  }
  if (typeof storage.location === 'string') return storage.location
  return storage.capabilities?.persistent === false ? 'memory' : 'storage'
}

// -------------------------------------------------------------------------------------
// appends
// -------------------------------------------------------------------------------------

type Kind = EventAppendContext['kind']

const countOf = (events: unknown): number => (Array.isArray(events) ? events.length : 0)

const given = (options: unknown, field: string): boolean =>
  typeof options === 'object' &&
  options !== null &&
  (options as Record<string, unknown>)[field] !== undefined

/** The writes of a call as its arguments give them (still unchecked: a bad one is traced too). */
const writesOf = (
  kind: Kind,
  target: unknown,
  events: unknown,
  options: unknown,
): ReadonlyArray<{
  readonly streamId: string
  readonly events: number
  readonly expected: boolean
}> => {
  if (kind === 'appendMulti') {
    return (Array.isArray(target) ? (target as ReadonlyArray<unknown>) : []).map((w) => {
      const write = (typeof w === 'object' && w !== null ? w : {}) as Record<string, unknown>
      return {
        streamId: String(write['streamId']),
        events: countOf(write['events']),
        expected: write['expectedRevision'] !== undefined,
      }
    })
  }
  return kind === 'append'
    ? []
    : [
        {
          streamId: String(target),
          events: countOf(events),
          expected: given(options, 'expectedRevision'),
        },
      ]
}

/**
 * Runs one append of the event store inside its span: `target` is the stream id
 * (`appendToStream`), the writes (`appendMulti`), or undefined (`append`, whose events are
 * `events`).
 */
export const tracedAppend = <
  A extends EventAppendResult | ReadonlyArray<EventAppendResult> | { readonly position: number },
>(
  log: string,
  kind: Kind,
  target: unknown,
  events: unknown,
  options: unknown,
  run: () => Promise<A>,
): Promise<A> =>
  tracePromise<EventAppendContext, A>(
    'eventAppend',
    () => {
      const writes = writesOf(kind, target, events, options)
      return {
        log,
        kind,
        streams: writes.map((w) => w.streamId),
        events: kind === 'append' ? countOf(events) : writes.reduce((n, w) => n + w.events, 0),
        expectedRevision: writes.some((w) => w.expected),
        condition: given(options, 'condition'),
      }
    },
    run,
    (ctx, value) => {
      const results: ReadonlyArray<{
        readonly position: number
        readonly nextExpectedRevision?: number
      }> = Array.isArray(value) ? value : [value as { readonly position: number }]
      ctx.position = Math.max(-1, ...results.map((r) => r.position))
      if (kind !== 'append') ctx.revisions = results.map((r) => r.nextExpectedRevision ?? -1)
    },
  )

// -------------------------------------------------------------------------------------
// deliveries
// -------------------------------------------------------------------------------------

/** Who a batch is delivered to, and where its events come from. */
export interface Subscriber {
  readonly log: string
  readonly subscriber: DeliverContext['subscriber']
  readonly name: string
}

const deliverContext = (
  { log, subscriber, name }: Subscriber,
  events: ReadonlyArray<ReadEvent>,
): DeliverContext => {
  const first = events[0]
  const last = events.at(-1)
  return {
    log,
    subscriber,
    name,
    events: events.length,
    ...(first === undefined ? {} : { firstPosition: first.position }),
    ...(last === undefined ? {} : { lastPosition: last.position }),
  }
}

/**
 * Runs the delivery of `events` to a consumer or projection inside its span: `more` adds the
 * context's fields of its kind, `done` what the delivery's result says.
 */
export const delivering = <A>(
  to: Subscriber,
  events: ReadonlyArray<ReadEvent>,
  run: () => Promise<A>,
  more: Partial<DeliverContext> = {},
  done?: (ctx: DeliverContext, value: A) => void,
): Promise<A> =>
  tracePromise<DeliverContext, A>(
    'deliver',
    () => ({ ...deliverContext(to, events), ...more }),
    run,
    done,
  )

/**
 * A subscription whose every event is a delivery: its span starts when the event is handed over
 * (the iterator's `next()` resolves with it) and ends when the subscriber asks for the next
 * message, or ends the iteration (`return()`); `throw(error)` ends it with that error. The time
 * between is the subscriber's handling of the event. Spans are opened only while someone
 * subscribes to the channel; the wrapper itself adds one callback to each `next()`.
 */
export const tracedSubscription = (
  to: Subscriber,
  iterator: AsyncIterableIterator<SubscriptionMessage>,
): AsyncIterableIterator<SubscriptionMessage> => {
  const channel = channelOf('deliver')
  let open: DeliverContext | undefined
  const close = (error?: unknown): void => {
    const ctx = open
    if (ctx === undefined) return
    open = undefined
    if (error !== undefined) {
      const failed = error as DeltalogError | null
      if (failed !== null) ctx.error = failed
      if (typeof failed?.code === 'string') ctx.code = failed.code
      channel.error.publish(ctx)
    }
    channel.asyncStart.publish(ctx)
    channel.asyncEnd.publish(ctx)
  }
  const handOver = (
    result: IteratorResult<SubscriptionMessage>,
  ): IteratorResult<SubscriptionMessage> => {
    if (result.done !== true && result.value.type === 'event' && isTraced(channel)) {
      const ctx = deliverContext(to, [result.value.event])
      channel.start.publish(ctx)
      channel.end.publish(ctx)
      open = ctx
    }
    return result
  }
  const traced: AsyncIterableIterator<SubscriptionMessage> = {
    next: () => {
      close()
      return iterator.next().then(handOver)
    },
    return: (value?: unknown) => {
      close()
      return (
        iterator.return?.(value) ??
        Promise.resolve({ done: true as const, value: value as SubscriptionMessage })
      )
    },
    throw: (error?: unknown) => {
      close(error)
      return (
        iterator.throw?.(error) ??
        Promise.reject(error instanceof Error ? error : new Error(String(error)))
      )
    },
    [Symbol.asyncIterator]: () => traced,
  }
  return traced
}
