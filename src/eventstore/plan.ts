/**
 * The event store's decisions, as a pure function: given the streams' current states and a
 * batch of queued requests, which requests are accepted, which fail (wrong expected revision,
 * an event id reused), which are retries of what is already stored — and the log records that
 * the accepted ones write, in order, as one commit. The store's writer runs this on every batch,
 * so expectations are checked in one place, serialized with every other append.
 */
import * as E from 'fp-ts/lib/Either.js'
import type {
  EventIdConflictError,
  ExpectedRevision,
  InvalidArgumentError,
  WrongExpectedRevisionError,
} from '../errors.js'

export type { ExpectedRevision } from '../errors.js'
import {
  checkpointKey,
  encodeCheckpoint,
  encodeEvent,
  encodeIdEntry,
  encodeMeta,
  eventsKey,
  idKey,
  metaKey,
  type EventInput,
  type IdEntry,
} from './envelope.js'
import type { VersionedEvent } from './upcast.js'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** A stream's state: its last revision (−1 for none) and its soft-delete point. */
export interface StreamState {
  readonly lastRevision: number
  readonly deletedBefore: number
}

export const emptyStream: StreamState = { lastRevision: -1, deletedBefore: 0 }

export type PlanError = WrongExpectedRevisionError | EventIdConflictError | InvalidArgumentError

/**
 * One stream's part of an append. Its events carry the version of their type's schema they are
 * stored with (upcast.ts's `versionEvents`); `StreamWrite<EventInput>` is one checked before that.
 */
export interface StreamWrite<Event extends EventInput = VersionedEvent> {
  readonly streamId: string
  readonly events: ReadonlyArray<Event>
  readonly expected: ExpectedRevision
}

/** A queued request. */
export type Request =
  | {
      readonly kind: 'append'
      readonly writes: ReadonlyArray<StreamWrite>
      readonly checkpoint?: { readonly name: string; readonly position: number }
      /** Whether the caller gave one stream's events (`appendToStream`), not `writes`. */
      readonly single?: boolean
    }
  | { readonly kind: 'delete'; readonly streamId: string }
  | { readonly kind: 'checkpoint'; readonly name: string; readonly position: number }

/** A log record to write. */
export interface Record {
  readonly key: string
  readonly value: Uint8Array
}

/** How one stream's write ended. */
export type WriteOutcome =
  /** Written: its events are records `[first, first + count)` of the batch. */
  | {
      readonly kind: 'written'
      readonly lastRevision: number
      readonly first: number
      readonly count: number
    }
  /** A retry of events already stored, ending at `lastRevision`: nothing written. */
  | { readonly kind: 'duplicate'; readonly streamId: string; readonly lastRevision: number }

export type Outcome = E.Either<PlanError, ReadonlyArray<WriteOutcome>>

export interface Plan {
  /** The records of every accepted request, in order: one commit. */
  readonly records: ReadonlyArray<Record>
  /** Per request, in order. */
  readonly outcomes: ReadonlyArray<Outcome>
  /** The streams' states after the commit. */
  readonly states: ReadonlyMap<string, StreamState>
}

/** What the planner may know of the store. */
export interface Known {
  /** The state of every stream a request names. */
  readonly streams: ReadonlyMap<string, StreamState>
  /** Every caller-given id of the batch that is already indexed. */
  readonly ids: ReadonlyMap<string, IdEntry>
  /** Every checkpoint position must be below this. */
  readonly head: number
  readonly now: number
  /** Makes an id for an event given none. */
  readonly newId: () => string
}

// -------------------------------------------------------------------------------------
// destructors
// -------------------------------------------------------------------------------------

/** Whether a stream has events that are not deleted. */
export const exists = (s: StreamState): boolean => s.lastRevision >= s.deletedBefore

/** The revision an expectation is compared with. */
export const actualRevision = (s: StreamState): number | 'no_stream' =>
  exists(s) ? s.lastRevision : 'no_stream'

/** Whether `expected` holds for a stream in state `s`. */
export const satisfies = (expected: ExpectedRevision, s: StreamState): boolean =>
  expected === 'any'
    ? true
    : expected === 'no_stream'
      ? !exists(s)
      : expected === 'stream_exists'
        ? exists(s)
        : exists(s) && s.lastRevision === expected

const wrongRevision = (
  streamId: string,
  expected: ExpectedRevision,
  s: StreamState,
): WrongExpectedRevisionError => ({
  code: 'WRONG_EXPECTED_REVISION',
  message: `stream ${JSON.stringify(streamId)}: expected revision ${String(expected)}, actual ${String(actualRevision(s))}`,
  streamId,
  expected,
  actual: actualRevision(s),
})

const idConflict = (id: string): EventIdConflictError => ({
  code: 'EVENT_ID_CONFLICT',
  message: `event id ${JSON.stringify(id)} is already used by another event`,
  id,
})

// -------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------

/**
 * Plans one batch. Requests are decided in order, each against the states the earlier ones
 * leave; a request that fails writes nothing and changes nothing for the ones after it.
 */
export const plan = (known: Known, requests: ReadonlyArray<Request>): Plan => {
  const draft: Draft = {
    known,
    streams: new Map(known.streams),
    ids: new Map(known.ids),
    records: [],
  }
  const outcomes: Outcome[] = []
  for (const request of requests) {
    outcomes.push(
      request.kind === 'delete'
        ? planDelete(draft, request.streamId)
        : request.kind === 'checkpoint'
          ? planCheckpoint(draft, request.name, request.position)
          : planAppend(draft, request),
    )
  }
  return { records: draft.records, outcomes, states: draft.streams }
}

/** The batch so far: the states and ids as the accepted requests leave them, and their records. */
interface Draft {
  readonly known: Known
  readonly streams: Map<string, StreamState>
  readonly ids: Map<string, IdEntry>
  readonly records: Record[]
}

/** One append's writes so far, kept apart until every write of the append holds. */
interface Scratch {
  readonly streams: Map<string, StreamState>
  readonly ids: Map<string, IdEntry>
  readonly records: Record[]
}

const stateIn = (draft: Draft, streamId: string): StreamState =>
  draft.streams.get(streamId) ?? emptyStream

/** A soft delete: hides the stream's events so far. Deleting a stream with none is harmless. */
const planDelete = (draft: Draft, streamId: string): Outcome => {
  const s = stateIn(draft, streamId)
  if (exists(s)) {
    const deleted = { ...s, deletedBefore: s.lastRevision + 1 }
    draft.records.push({ key: metaKey(streamId), value: encodeMeta(deleted) })
    draft.streams.set(streamId, deleted)
  }
  return E.right([])
}

/** A checkpoint saved alone; refused past the head of the log. */
const planCheckpoint = (draft: Draft, name: string, position: number): Outcome => {
  if (position >= draft.known.head) return E.left(beyondHead(position, draft.known.head))
  draft.records.push({ key: checkpointKey(name), value: encodeCheckpoint(position) })
  return E.right([])
}

/**
 * An append: every write is decided against a scratch copy of the draft, which it joins only
 * if all of them hold — with the checkpoint, if the append carries one.
 */
const planAppend = (draft: Draft, request: Request & { readonly kind: 'append' }): Outcome => {
  const { checkpoint } = request
  if (checkpoint !== undefined && checkpoint.position >= draft.known.head) {
    return E.left(beyondHead(checkpoint.position, draft.known.head))
  }
  const scratch: Scratch = { streams: new Map(), ids: new Map(), records: [] }
  const results: WriteOutcome[] = []
  for (const write of request.writes) {
    const result = planWrite(draft, scratch, write)
    if (E.isLeft(result)) return result
    results.push(result.right)
  }
  if (checkpoint !== undefined) {
    scratch.records.push({
      key: checkpointKey(checkpoint.name),
      value: encodeCheckpoint(checkpoint.position),
    })
  }
  const offset = draft.records.length
  draft.records.push(...scratch.records)
  for (const [id, s] of scratch.streams) draft.streams.set(id, s)
  for (const [id, entry] of scratch.ids) draft.ids.set(id, entry)
  return E.right(results.map((r) => (r.kind === 'written' ? { ...r, first: r.first + offset } : r)))
}

/**
 * One write of an append: a retry of events already stored, an id conflict, a wrong
 * expectation, or its events written into `scratch`.
 */
const planWrite = (
  draft: Draft,
  scratch: Scratch,
  write: StreamWrite,
): E.Either<PlanError, WriteOutcome> => {
  const s = scratch.streams.get(write.streamId) ?? stateIn(draft, write.streamId)
  const given = write.events.flatMap((e) => (e.id === undefined ? [] : [e.id]))
  const seen = given.map((id) => scratch.ids.get(id) ?? draft.ids.get(id))
  if (new Set(given).size < given.length) {
    return E.left(idConflict(given.find((id, i) => given.indexOf(id) !== i) ?? ''))
  }
  const retry = retryOf(write, given, seen)
  if (retry !== undefined) return E.right(retry)
  const reused = given.find((_, i) => seen[i] !== undefined)
  if (reused !== undefined) return E.left(idConflict(reused))
  if (!satisfies(write.expected, s)) return E.left(wrongRevision(write.streamId, write.expected, s))
  return E.right(writeEvents(draft.known, scratch, write, s))
}

/**
 * The outcome of a write that retries events already stored — every event has an id, and the
 * ids are stored in this stream at consecutive revisions — or undefined if it is no retry.
 * REQUIRES: `seen[i]` is where `given[i]` is stored, if it is.
 */
const retryOf = (
  write: StreamWrite,
  given: ReadonlyArray<string>,
  seen: ReadonlyArray<IdEntry | undefined>,
): WriteOutcome | undefined => {
  const first = seen[0]
  if (given.length === 0 || given.length !== write.events.length || first === undefined) {
    return undefined
  }
  const retry = seen.every(
    (hit, i) =>
      hit !== undefined && hit.streamId === first.streamId && hit.revision === first.revision + i,
  )
  if (!retry || first.streamId !== write.streamId) return undefined
  return {
    kind: 'duplicate',
    streamId: write.streamId,
    lastRevision: first.revision + write.events.length - 1,
  }
}

/**
 * Writes a write's events into `scratch` at the revisions after `s`, with the index records of
 * their given ids. REQUIRES: the write holds (its expectation, no id conflict).
 */
const writeEvents = (
  known: Known,
  scratch: Scratch,
  write: StreamWrite,
  s: StreamState,
): WriteOutcome => {
  const first = scratch.records.length
  let revision = s.lastRevision
  const idRecords: Record[] = []
  for (const event of write.events) {
    revision++
    scratch.records.push({
      key: eventsKey(write.streamId),
      value: encodeEvent({
        type: event.type,
        data: event.data ?? null,
        metadata: event.metadata ?? null,
        id: event.id ?? known.newId(),
        idGiven: event.id !== undefined,
        revision,
        recordedAt: known.now,
        version: event.version,
      }),
    })
    if (event.id !== undefined) {
      const entry = { streamId: write.streamId, revision }
      scratch.ids.set(event.id, entry)
      idRecords.push({ key: idKey(event.id), value: encodeIdEntry(entry) })
    }
  }
  // Events first, so each write's events are consecutive records; ids after them.
  scratch.records.push(...idRecords)
  scratch.streams.set(write.streamId, { ...s, lastRevision: revision })
  return { kind: 'written', lastRevision: revision, first, count: write.events.length }
}

const beyondHead = (position: number, head: number): InvalidArgumentError => ({
  code: 'INVALID_ARGUMENT',
  field: 'checkpoint.position',
  message: `checkpoint.position: ${position} is past the head of the log (${head - 1})`,
})
