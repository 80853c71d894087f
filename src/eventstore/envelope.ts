/**
 * Events as the log stores them. The event store owns these key spaces in the log:
 * `e/<streamId>` holds a stream's events (so a stream read is one key scan), `m/<streamId>`
 * its metadata (the soft-delete point), `c/<name>` checkpoints, and `i/<eventId>` the index of
 * caller-supplied event ids that makes retries idempotent; `t/` and `y/` the index of tags and
 * types (postings.ts), `p/` and `q/` projections (documents.ts), `s/` snapshots (snapshots.ts).
 * Values are JSON envelopes; each has exactly one codec, and a decode failure is a `CORRUPTION`
 * value.
 */
import * as E from 'fp-ts/lib/Either.js'
import * as t from 'io-ts'
import { isWellFormed, keyBytes } from '../codec/keys.js'
import { corruption, invalidArgument, type CorruptionError } from '../errors.js'
import type { InvalidArgumentError } from '../errors.js'
import { fromGuard, NonEmptyString, notWellFormed, Positive } from '../log/options.js'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** JSON-serializable data: what `data` and `metadata` may hold. */
export type Json =
  null | boolean | number | string | ReadonlyArray<Json> | { readonly [k: string]: Json }

/** An event to append. */
export interface EventInput {
  readonly type: string
  readonly data?: Json
  readonly metadata?: Json
  /** A unique id; a retry with the same ids at the same revisions is a no-op. */
  readonly id?: string
  /** What the event is about, for queries and append conditions: distinct, non-empty strings. */
  readonly tags?: ReadonlyArray<string>
}

/** An event as stored: the input plus what the store assigned. */
export interface StoredEvent {
  readonly type: string
  readonly data: Json
  readonly metadata: Json
  readonly id: string
  /** Whether the caller chose `id` (only those are indexed for idempotency). */
  readonly idGiven: boolean
  readonly revision: number
  readonly recordedAt: number
  /** Its tags, in the order given; none for most events. */
  readonly tags: ReadonlyArray<string>
  /** The version of its type's schema it was written in (upcast.ts); 1 when the envelope has no `v`. */
  readonly version: number
}

/** A stream's soft-delete point: revisions below it are hidden from reads. */
export interface StreamMeta {
  readonly deletedBefore: number
}

/** Where an indexed event id points. */
export interface IdEntry {
  readonly streamId: string
  readonly revision: number
}

// -------------------------------------------------------------------------------------
// keys
// -------------------------------------------------------------------------------------

/** The entry an event store writes once into its log, so tools know the log holds one. */
export const MARKER = '$eventstore'
/**
 * The entry that says the index of tags and types is complete: written with the marker by a new
 * store, or once an older store's events are all indexed (indexing.ts), whose progress is kept
 * in the entries of `INDEX_PROGRESS` until then.
 */
export const INDEX_MARKER = '$eventindex'
export const INDEX_PROGRESS = '$eventindex-progress'
export const EVENTS = 'e/'
export const META = 'm/'
export const CHECKPOINTS = 'c/'
export const IDS = 'i/'
export const TAGS = 't/'
export const TYPES = 'y/'
/** Projections (documents.ts): their documents, and each one's state (versions, checkpoints). */
export const DOCUMENTS = 'p/'
export const PROJECTIONS = 'q/'
/** Snapshots of aggregates (snapshots.ts), one key per stream. */
export const SNAPSHOTS = 's/'

export const eventsKey = (streamId: string): string => EVENTS + streamId
export const metaKey = (streamId: string): string => META + streamId
export const checkpointKey = (name: string): string => CHECKPOINTS + name
export const idKey = (id: string): string => IDS + id
export const tagKey = (tag: string): string => TAGS + tag
export const typeKey = (type: string): string => TYPES + type

/** The most tags one event may carry. */
export const MAX_TAGS = 32

/**
 * The longest stream id, event id, checkpoint name, tag or event type, in UTF-8 bytes: each is a key of the log
 * after a two-byte prefix, and a store that opens its own log gets the log's default
 * `maxKeyBytes`, 4096 (`DEFAULTS` in src/log/log.ts).
 */
export const MAX_ID_BYTES = 4096 - EVENTS.length

// -------------------------------------------------------------------------------------
// validation
// -------------------------------------------------------------------------------------

/** Whether `u` is JSON data as the store keeps it (finite numbers, plain objects, depth ≤ 100). */
export const isJson = (u: unknown, depth = 0): u is Json => {
  if (depth > 100) return false
  if (u === null || typeof u === 'boolean' || typeof u === 'string') return true
  if (typeof u === 'number') return Number.isFinite(u)
  if (Array.isArray(u)) return u.every((x) => isJson(x, depth + 1))
  if (typeof u === 'object') {
    const proto = Object.getPrototypeOf(u) as unknown
    if (proto !== Object.prototype && proto !== null) return false
    return Object.values(u as Record<string, unknown>).every((x) => isJson(x, depth + 1))
  }
  return false
}

const JsonValue = fromGuard('JSON value', isJson)

const EventInputCodec = t.intersection([
  t.type({ type: NonEmptyString }),
  t.partial({ data: JsonValue, metadata: JsonValue, id: NonEmptyString }),
])

const EVENT_FIELDS = new Set(['type', 'data', 'metadata', 'id', 'tags'])

/** Checks one event; `field` names it in the error (e.g. `events[2]`). */
export const validateEvent = (
  u: unknown,
  field: string,
): E.Either<InvalidArgumentError, EventInput> => {
  if (typeof u !== 'object' || u === null || Array.isArray(u)) {
    return E.left(invalidArgument(field, 'must be an event object'))
  }
  const extra = Object.keys(u).find((k) => !EVENT_FIELDS.has(k))
  if (extra !== undefined)
    return E.left(invalidArgument(`${field}.${extra}`, 'is not an event field'))
  const decoded = EventInputCodec.decode(u)
  if (E.isRight(decoded)) {
    const { id, type } = decoded.right
    const tags = validateTags((u as { readonly tags?: unknown }).tags, `${field}.tags`)
    if (E.isLeft(tags)) return tags
    const named = validateId(type, `${field}.type`)
    if (E.isLeft(named)) return named
    const checked = id === undefined ? E.right(id) : validateId(id, `${field}.id`)
    if (E.isLeft(checked)) return checked
    return E.right(
      tags.right === undefined ? decoded.right : { ...decoded.right, tags: tags.right },
    )
  }
  const record = u as Record<string, unknown>
  const bad = !NonEmptyString.is(record['type'])
    ? 'type'
    : 'id' in record && !NonEmptyString.is(record['id'])
      ? 'id'
      : 'data' in record && !isJson(record['data'])
        ? 'data'
        : 'metadata'
  const what = bad === 'type' || bad === 'id' ? 'a non-empty string' : 'JSON-serializable'
  return E.left(invalidArgument(`${field}.${bad}`, `must be ${what}`))
}

/**
 * Checks a name the store makes part of a log key — a stream id, an event id, a checkpoint
 * name: a non-empty, well-formed string of at most `MAX_ID_BYTES` UTF-8 bytes. Checked before
 * the append is queued, so the error names the caller's field, and one bad id never fails the
 * other appends that would have shared its commit.
 */
export const validateId = (u: unknown, field: string): E.Either<InvalidArgumentError, string> => {
  if (!NonEmptyString.is(u)) return E.left(invalidArgument(field, 'must be a non-empty string'))
  if (!isWellFormed(u)) return E.left(notWellFormed(field))
  const bytes = keyBytes(u).length
  return bytes > MAX_ID_BYTES
    ? E.left(invalidArgument(field, `is ${bytes} bytes in UTF-8; at most ${MAX_ID_BYTES}`))
    : E.right(u)
}

/**
 * Checks an event's tags: absent, or an array of at most `MAX_TAGS` distinct tags, each as
 * `validateId` checks ids (each tag becomes a key of the log's tag index).
 */
export const validateTags = (
  u: unknown,
  field: string,
): E.Either<InvalidArgumentError, ReadonlyArray<string> | undefined> => {
  if (u === undefined) return E.right(undefined)
  if (!Array.isArray(u)) return E.left(invalidArgument(field, 'must be an array of strings'))
  if (u.length > MAX_TAGS) {
    return E.left(invalidArgument(field, `has ${u.length} tags; at most ${MAX_TAGS}`))
  }
  const tags = u as ReadonlyArray<unknown>
  for (const [i, tag] of tags.entries()) {
    const checked = validateId(tag, `${field}[${i}]`)
    if (E.isLeft(checked)) return checked
    const first = tags.indexOf(tag)
    if (first < i) return E.left(invalidArgument(`${field}[${i}]`, `repeats ${field}[${first}]`))
  }
  return E.right(tags as ReadonlyArray<string>)
}

/** Checks a stream id (see `validateId`). */
export const validateStreamId = (
  u: unknown,
  field = 'streamId',
): E.Either<InvalidArgumentError, string> => validateId(u, field)

// -------------------------------------------------------------------------------------
// codecs
// -------------------------------------------------------------------------------------

/**
 * JSON text as UTF-8. `JSON.stringify` escapes lone surrogates, so its text is well-formed and
 * `keyBytes` encodes it one-to-one (ASCII text, the usual, without `TextEncoder`).
 */
export const jsonBytes = (value: unknown): Uint8Array => keyBytes(JSON.stringify(value))
const untext = new TextDecoder('utf-8', { fatal: true })

/** The tags of an event stored without: one array for all of them. */
const NO_TAGS: ReadonlyArray<string> = Object.freeze([])

const StoredEventCodec = t.intersection([
  t.type({
    t: t.string,
    d: JsonValue,
    m: JsonValue,
    id: t.string,
    g: t.boolean,
    r: t.number,
    at: t.number,
  }),
  t.partial({ v: Positive, tg: t.array(t.string) }),
])

const StreamMetaCodec = t.type({ deletedBefore: t.number })
const IdEntryCodec = t.type({ s: t.string, r: t.number })
const CheckpointCodec = t.type({ position: t.number })

/** Decodes a JSON value of the store's with its one codec; `what` names it in the error. */
export const decodeJson = <A>(
  codec: t.Decoder<unknown, A>,
  what: string,
  bytes: Uint8Array,
): E.Either<CorruptionError, A> => {
  let parsed: unknown
  try {
    parsed = JSON.parse(untext.decode(bytes))
  } catch {
    return E.left(corruption(`${what} is not valid JSON`))
  }
  return E.mapLeft(() => corruption(`${what} has an unexpected shape`))(codec.decode(parsed))
}

/**
 * Encodes a stored event as a JSON envelope.
 *
 * Law (checked in test/eventstore/envelope.test.ts): `decodeEvent(encodeEvent(e))` is
 * `right(e)` for every stored event.
 */
export const encodeEvent = (e: StoredEvent): Uint8Array => {
  const envelope: { [field: string]: unknown } = {
    t: e.type,
    d: e.data,
    m: e.metadata,
    id: e.id,
    g: e.idGiven,
    r: e.revision,
    at: e.recordedAt,
  }
  // Absent when there are none, so an event without tags is stored as before tags existed.
  if (e.tags.length > 0) envelope['tg'] = e.tags
  // Version 1 is the envelope without `v`: events stored before versions existed are version 1.
  if (e.version !== 1) envelope['v'] = e.version
  return jsonBytes(envelope)
}

export const decodeEvent = (bytes: Uint8Array): E.Either<CorruptionError, StoredEvent> =>
  E.map((v: t.TypeOf<typeof StoredEventCodec>) => ({
    type: v.t,
    data: v.d,
    metadata: v.m,
    id: v.id,
    idGiven: v.g,
    revision: v.r,
    recordedAt: v.at,
    tags: v.tg ?? NO_TAGS,
    version: v.v ?? 1,
  }))(decodeJson(StoredEventCodec, 'event envelope', bytes))

export const encodeMeta = (m: StreamMeta): Uint8Array => jsonBytes(m)
export const decodeMeta = (bytes: Uint8Array): E.Either<CorruptionError, StreamMeta> =>
  decodeJson(StreamMetaCodec, 'stream metadata', bytes)

export const encodeIdEntry = (i: IdEntry): Uint8Array => jsonBytes({ s: i.streamId, r: i.revision })
export const decodeIdEntry = (bytes: Uint8Array): E.Either<CorruptionError, IdEntry> =>
  E.map((v: t.TypeOf<typeof IdEntryCodec>) => ({ streamId: v.s, revision: v.r }))(
    decodeJson(IdEntryCodec, 'event id index', bytes),
  )

export const encodeCheckpoint = (position: number): Uint8Array => jsonBytes({ position })
export const decodeCheckpoint = (bytes: Uint8Array): E.Either<CorruptionError, number> =>
  E.map((v: t.TypeOf<typeof CheckpointCodec>) => v.position)(
    decodeJson(CheckpointCodec, 'checkpoint', bytes),
  )
