// A subscriber to deltalog's tracing channels for tests: it records every event of the channels
// it is given, with a copy of the context as the event saw it.
import dc from 'node:diagnostics_channel'
import { CHANNEL_NAMES, type ChannelKey } from '../../src/diagnostics/channels.js'

const EVENTS = ['start', 'end', 'asyncStart', 'asyncEnd', 'error'] as const
export type TraceEvent = (typeof EVENTS)[number]

export interface Recorded {
  readonly channel: ChannelKey
  readonly event: TraceEvent
  readonly context: Record<string, unknown>
}

export interface Recorder {
  readonly events: Recorded[]
  /** The contexts of the channel's finished operations (their `asyncEnd`), in order. */
  readonly spans: (channel: ChannelKey) => Array<Record<string, unknown>>
  readonly stop: () => void
}

/** Subscribes to every event of `channels` until `stop()`. */
export const record = (channels: ReadonlyArray<ChannelKey>): Recorder => {
  const events: Recorded[] = []
  const unsubscribe = channels.map((channel) => {
    const tracing = dc.tracingChannel<unknown, object>(CHANNEL_NAMES[channel])
    const handlers = Object.fromEntries(
      EVENTS.map((event) => [
        event,
        (context: unknown): void => {
          events.push({ channel, event, context: { ...(context as Record<string, unknown>) } })
        },
      ]),
    ) as unknown as dc.TracingChannelSubscribers<object>
    tracing.subscribe(handlers)
    return () => tracing.unsubscribe(handlers)
  })
  return {
    events,
    spans: (channel) =>
      events.filter((e) => e.channel === channel && e.event === 'asyncEnd').map((e) => e.context),
    stop: () => {
      for (const off of unsubscribe) off()
    },
  }
}

/** The log's channels (the event store has two more). */
export const LOG_CHANNELS: ReadonlyArray<ChannelKey> = [
  'append',
  'commit',
  'write',
  'sync',
  'truncate',
]
