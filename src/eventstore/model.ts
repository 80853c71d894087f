/**
 * What the event store's calls give back: events as reads return them, what an append resolves
 * to, and a subscription's messages. (What callers hand it is in options.ts.)
 */
import type { Json } from './envelope.js'

/** An event as reads return it. */
export interface ReadEvent<Data = unknown> {
  readonly streamId: string
  readonly revision: number
  /** Its log sequence: strictly increasing across all streams, with gaps. */
  readonly position: number
  readonly type: string
  readonly data: Data
  readonly metadata: Json
  readonly id: string
  readonly recordedAt: Date
  /** The tags it was appended with; none for most events. */
  readonly tags: ReadonlyArray<string>
}

/** What `append` resolves to: the position of the last event it appended. */
export interface AppendEventsResult {
  readonly position: number
}

/** What an append resolves to: the stream's last revision and the last event's position. */
export interface EventAppendResult {
  readonly nextExpectedRevision: number
  readonly position: number
}

/** A subscription message: an event, or the one marker that history is done and live begins. */
export type SubscriptionMessage =
  { readonly type: 'event'; readonly event: ReadEvent } | { readonly type: 'caughtUp' }
