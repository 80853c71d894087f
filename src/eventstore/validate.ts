/**
 * Checks what a caller hands an append before it is queued: the events (each against the codec
 * given for its type) and each write of `appendMulti`. A bad append rejects alone, with
 * `INVALID_ARGUMENT` naming the field, and never fails the appends that would have shared its
 * commit.
 */
import * as E from 'fp-ts/lib/Either.js'
import { invalidArgument, type DeltalogErrorValue } from '../errors.js'
import { validateEvent, validateStreamId, type EventInput } from './envelope.js'
import { ExpectedRevisionCodec, type Codecs } from './options.js'
import type { StreamWrite } from './requests.js'

/** Checks a non-empty array of events; `field` names it in errors (e.g. `events`). */
export const validateEvents = (
  codecs: Codecs,
  events: unknown,
  field: string,
): E.Either<DeltalogErrorValue, ReadonlyArray<EventInput>> => {
  if (!Array.isArray(events) || events.length === 0) {
    return E.left(invalidArgument(field, 'must be a non-empty array of events'))
  }
  const out: EventInput[] = []
  for (const [i, u] of (events as ReadonlyArray<unknown>).entries()) {
    const event = validateEvent(u, `${field}[${i}]`)
    if (E.isLeft(event)) return event
    const codec = codecs[event.right.type]
    if (codec !== undefined && E.isLeft(codec.decode(event.right.data ?? null))) {
      return E.left(
        invalidArgument(`${field}[${i}].data`, `does not match the codec for ${event.right.type}`),
      )
    }
    out.push(event.right)
  }
  return E.right(out)
}

const WRITE_FIELDS = ['streamId', 'events', 'expectedRevision']

/** Checks one write of `appendMulti`, the `i`th. */
const validateWrite = (
  codecs: Codecs,
  u: unknown,
  i: number,
): E.Either<DeltalogErrorValue, StreamWrite> => {
  const field = `writes[${i}]`
  if (typeof u !== 'object' || u === null) {
    return E.left(invalidArgument(field, 'must be { streamId, events, expectedRevision }'))
  }
  const w = u as Record<string, unknown>
  const extra = Object.keys(w).find((k) => !WRITE_FIELDS.includes(k))
  if (extra !== undefined)
    return E.left(invalidArgument(`${field}.${extra}`, 'is not a known field'))
  const expected = w['expectedRevision'] ?? 'any'
  if (!ExpectedRevisionCodec.is(expected)) {
    return E.left(
      invalidArgument(`${field}.expectedRevision`, `must be ${ExpectedRevisionCodec.name}`),
    )
  }
  const streamId = validateStreamId(w['streamId'], `${field}.streamId`)
  if (E.isLeft(streamId)) return streamId
  const events = validateEvents(codecs, w['events'], `${field}.events`)
  if (E.isLeft(events)) return events
  return E.right({ streamId: streamId.right, events: events.right, expected })
}

/** Checks the writes of `appendMulti`: a non-empty array, each write whole. */
export const validateWrites = (
  codecs: Codecs,
  writes: unknown,
): E.Either<DeltalogErrorValue, ReadonlyArray<StreamWrite>> => {
  if (!Array.isArray(writes) || writes.length === 0) {
    return E.left(invalidArgument('writes', 'must be a non-empty array'))
  }
  const out: Array<StreamWrite> = []
  for (const [i, u] of (writes as ReadonlyArray<unknown>).entries()) {
    const write = validateWrite(codecs, u, i)
    if (E.isLeft(write)) return write
    out.push(write.right)
  }
  return E.right(out)
}
