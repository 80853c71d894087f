/**
 * The event store's check for `verifyStorage`, registered when this module loads (the event
 * store imports it): in a log that holds an event store, every entry of a stream's key decodes
 * as an event, and each stream's revisions are dense.
 */
import * as E from 'fp-ts/lib/Either.js'
import { prefixCheck, registerEntryCheck, type EntryCheck } from '../verify/checks.js'
import { decodeEvent, EVENTS, MARKER } from './envelope.js'

const text = new TextEncoder()

/** Checks one stream's events in order. Below a truncation point the first may be any revision. */
const streamChecker = (truncatedBefore: number): ((value: Uint8Array) => string | undefined) => {
  let last: number | undefined
  return (value) => {
    const event = decodeEvent(value)
    if (E.isLeft(event)) return `is not an event: ${event.left.message}`
    const revision = event.right.revision
    const expected = last !== undefined ? last + 1 : truncatedBefore > 0 ? revision : 0
    last = revision
    return revision === expected
      ? undefined
      : `has revision ${revision}, not ${expected}: revisions are not dense`
  }
}

/** The check of event streams. */
export const eventsCheck: EntryCheck = prefixCheck({
  name: 'event store',
  marker: text.encode(MARKER),
  prefix: text.encode(EVENTS),
  forKey: streamChecker,
})

registerEntryCheck(eventsCheck)
