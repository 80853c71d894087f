/**
 * deltalog's tracing channels (`node:diagnostics_channel`): what an APM agent or OpenTelemetry
 * subscribes to without deltalog depending on either. Each operation is one `TracingChannel`
 * named `deltalog:<operation>`; its context object carries what a span needs and, when the
 * operation failed, `error` (a `DeltalogError`) and `code`. Nothing is built or published while
 * no one subscribes to a channel.
 *
 * The order of events follows `TracingChannel.tracePromise`: `start` when the operation begins,
 * `end` when its synchronous part returns, `error` if it failed, then `asyncStart` and
 * `asyncEnd` when it settles (with `result` set on success).
 */
import dc from 'node:diagnostics_channel'
import * as E from 'fp-ts/lib/Either.js'
import { toDeltalogError, type DeltalogError, type DeltalogErrorValue } from '../errors.js'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** The name of each tracing channel, by operation. */
export const CHANNEL_NAMES = {
  /** One `log.append`, from the call to its acknowledgement. */
  append: 'deltalog:append',
  /** One commit of the writer: every append it groups, as one batch. */
  commit: 'deltalog:commit',
  /** One write of a batch to storage (synced or not). */
  write: 'deltalog:write',
  /** One sync of storage with no data to write (a flush, or close). */
  sync: 'deltalog:sync',
  /** One `log.truncateBefore`. */
  truncate: 'deltalog:truncate',
  /** One append of the event store (`appendToStream`, `appendMulti` or `append`). */
  eventAppend: 'deltalog:event-store:append',
  /** One batch of events handed to a subscriber: a subscription, consumer or projection. */
  deliver: 'deltalog:event-store:deliver',
} as const

export type ChannelKey = keyof typeof CHANNEL_NAMES

/** What every channel's context carries. */
export interface TraceContext {
  /** The log: its directory, its PostgreSQL table, or `memory`. */
  readonly log: string
  /** Set when the operation failed. */
  error?: DeltalogError
  /** The failure's code (`error.code`), for span attributes. */
  code?: string
  /** Set when the operation succeeded: what it resolved with. */
  result?: unknown
}

// -------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------

const channels = new Map<ChannelKey, dc.TracingChannel<unknown, object>>()

/** The tracing channel of an operation (created once, shared by every log in the process). */
export const channelOf = (key: ChannelKey): dc.TracingChannel<unknown, object> => {
  const known = channels.get(key)
  if (known !== undefined) return known
  const made = dc.tracingChannel<unknown, object>(CHANNEL_NAMES[key])
  channels.set(key, made)
  return made
}

/**
 * Whether anyone subscribes to any event of the channel. (`TracingChannel.hasSubscribers`
 * itself came with Node.js 20.13; this asks each of its channels.)
 */
export const isTraced = (channel: dc.TracingChannel<unknown, object>): boolean =>
  channel.start.hasSubscribers ||
  channel.end.hasSubscribers ||
  channel.asyncStart.hasSubscribers ||
  channel.asyncEnd.hasSubscribers ||
  channel.error.hasSubscribers

// -------------------------------------------------------------------------------------
// combinators
// -------------------------------------------------------------------------------------

/**
 * Runs an operation that resolves with an `Either` (never rejects) inside its channel's span:
 * a `Left` is published as an error with its code. `context` is only called, and the run only
 * wrapped, when the channel has subscribers; `done` adds what the result says to the context.
 */
export const traceEither = <C extends TraceContext, L extends DeltalogErrorValue, A>(
  key: ChannelKey,
  context: () => C,
  run: () => Promise<E.Either<L, A>>,
  done?: (context: C, value: A) => void,
): Promise<E.Either<L, A>> => {
  const channel = channelOf(key)
  if (!isTraced(channel)) return run()
  const ctx = context()
  return channel.start.runStores(ctx, () => {
    let running: Promise<E.Either<L, A>>
    try {
      running = run()
    } finally {
      channel.end.publish(ctx)
    }
    return running.then((outcome) => {
      if (E.isLeft(outcome)) {
        ctx.error = toDeltalogError(outcome.left)
        ctx.code = outcome.left.code
        channel.error.publish(ctx)
      } else {
        ctx.result = outcome.right
        done?.(ctx, outcome.right)
      }
      channel.asyncStart.publish(ctx)
      channel.asyncEnd.publish(ctx)
      return outcome
    })
  })
}

/**
 * Runs an operation that rejects with a `DeltalogError` on failure (the Promise edge of the
 * event store) inside its channel's span; as `traceEither` otherwise.
 */
export const tracePromise = <C extends TraceContext, A>(
  key: ChannelKey,
  context: () => C,
  run: () => Promise<A>,
  done?: (context: C, value: A) => void,
): Promise<A> => {
  const channel = channelOf(key)
  if (!isTraced(channel)) return run()
  const ctx = context()
  return channel.start.runStores(ctx, () => {
    let running: Promise<A>
    try {
      running = run()
    } finally {
      channel.end.publish(ctx)
    }
    return running.then(
      (value) => {
        ctx.result = value
        done?.(ctx, value)
        channel.asyncStart.publish(ctx)
        channel.asyncEnd.publish(ctx)
        return value
      },
      (thrown: unknown) => {
        const error = thrown as DeltalogError
        ctx.error = error
        if (typeof error?.code === 'string') ctx.code = error.code
        channel.error.publish(ctx)
        channel.asyncStart.publish(ctx)
        channel.asyncEnd.publish(ctx)
        throw thrown
      },
    )
  })
}

// -------------------------------------------------------------------------------------
// the event store's contexts
// -------------------------------------------------------------------------------------

/** What `deltalog:event-store:append` carries: one append of the event store. */
export interface EventAppendContext extends TraceContext {
  /** Which call: `appendToStream`, `appendMulti` or `append` (events of no stream). */
  readonly kind: 'appendToStream' | 'appendMulti' | 'append'
  /** The streams written, in the call's order; none for `append`. */
  readonly streams: ReadonlyArray<string>
  /** The events handed over, all streams counted. */
  readonly events: number
  /** Whether any write gave an `expectedRevision` (`'any'` included). */
  readonly expectedRevision: boolean
  /** Whether the append had a `condition` (the DCB check). */
  readonly condition: boolean
  /** On success: the position of the last event appended. */
  position?: number
  /** On success: each stream's revision after the append, in the order of `streams`. */
  revisions?: ReadonlyArray<number>
}

/** What `deltalog:event-store:deliver` carries: one batch of events handed to a subscriber. */
export interface DeliverContext extends TraceContext {
  /** Who gets the events. */
  readonly subscriber: 'subscription' | 'consumer' | 'projection'
  /**
   * The consumer's or projection's name; for a subscription, the stream's id, `$all`
   * (`subscribeToAll`) or `$query` (`subscribe`).
   */
  readonly name: string
  /** The events in the batch (one for a subscription; none for a projection's switch-over). */
  readonly events: number
  /** The position of the batch's first and last events; absent when it holds none. */
  readonly firstPosition?: number
  readonly lastPosition?: number
  /** A consumer's: the handler calls the batch took (more than one after retries). */
  attempts?: number
  /** A projection's: whether the batch was folded by a rebuild rather than the live fold. */
  readonly rebuild?: boolean
  /** A projection's: the documents the batch changed (written or removed). */
  documents?: number
}
