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

/** One stream's part of an append. */
export interface StreamWrite {
  readonly streamId: string
  readonly events: ReadonlyArray<EventInput>
  readonly expected: ExpectedRevision
}

/** A queued request. */
export type Request =
  | {
      readonly kind: 'append'
      readonly writes: ReadonlyArray<StreamWrite>
      readonly checkpoint?: { readonly name: string; readonly position: number }
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
  const streams = new Map(known.streams)
  const ids = new Map(known.ids)
  const records: Record[] = []
  const outcomes: Outcome[] = []
  const state = (id: string): StreamState => streams.get(id) ?? emptyStream

  for (const request of requests) {
    if (request.kind === 'delete') {
      const s = state(request.streamId)
      if (exists(s)) {
        const deleted = { ...s, deletedBefore: s.lastRevision + 1 }
        records.push({ key: metaKey(request.streamId), value: encodeMeta(deleted) })
        streams.set(request.streamId, deleted)
      }
      outcomes.push(E.right([]))
      continue
    }
    if (request.kind === 'checkpoint') {
      if (request.position >= known.head) {
        outcomes.push(E.left(beyondHead(request.position, known.head)))
        continue
      }
      records.push({ key: checkpointKey(request.name), value: encodeCheckpoint(request.position) })
      outcomes.push(E.right([]))
      continue
    }
    // An append: decide every write against a scratch copy, commit it only if all hold.
    const scratch = new Map<string, StreamState>()
    const scratchIds = new Map<string, IdEntry>()
    const pending: Record[] = []
    const results: WriteOutcome[] = []
    const current = (id: string): StreamState => scratch.get(id) ?? state(id)
    const lookup = (id: string): IdEntry | undefined => scratchIds.get(id) ?? ids.get(id)
    let failure: PlanError | undefined
    if (request.checkpoint !== undefined && request.checkpoint.position >= known.head) {
      failure = beyondHead(request.checkpoint.position, known.head)
    }
    for (const write of request.writes) {
      if (failure !== undefined) break
      const s = current(write.streamId)
      const given = write.events.flatMap((e) => (e.id === undefined ? [] : [e.id]))
      const seen = given.map(lookup)
      if (new Set(given).size < given.length) {
        failure = idConflict(given.find((id, i) => given.indexOf(id) !== i) ?? '')
        break
      }
      const first = seen[0]
      if (given.length > 0 && given.length === write.events.length && first !== undefined) {
        // A retry: every id is stored, in one stream, at consecutive revisions.
        const retry = seen.every(
          (hit, i) =>
            hit !== undefined &&
            hit.streamId === first.streamId &&
            hit.revision === first.revision + i,
        )
        if (retry && first.streamId === write.streamId) {
          results.push({
            kind: 'duplicate',
            streamId: write.streamId,
            lastRevision: first.revision + write.events.length - 1,
          })
          continue
        }
      }
      const reused = given.find((_, i) => seen[i] !== undefined)
      if (reused !== undefined) {
        failure = idConflict(reused)
        break
      }
      if (!satisfies(write.expected, s)) {
        failure = wrongRevision(write.streamId, write.expected, s)
        break
      }
      const firstRecord = pending.length
      let revision = s.lastRevision
      const eventRecords: Record[] = []
      const idRecords: Record[] = []
      for (const event of write.events) {
        revision++
        const id = event.id ?? known.newId()
        eventRecords.push({
          key: eventsKey(write.streamId),
          value: encodeEvent({
            type: event.type,
            data: event.data ?? null,
            metadata: event.metadata ?? null,
            id,
            idGiven: event.id !== undefined,
            revision,
            recordedAt: known.now,
          }),
        })
        if (event.id !== undefined) {
          const entry = { streamId: write.streamId, revision }
          scratchIds.set(event.id, entry)
          idRecords.push({ key: idKey(event.id), value: encodeIdEntry(entry) })
        }
      }
      // Events first, so each write's events are consecutive records; ids after them.
      pending.push(...eventRecords)
      results.push({
        kind: 'written',
        lastRevision: revision,
        first: firstRecord,
        count: eventRecords.length,
      })
      pending.push(...idRecords)
      scratch.set(write.streamId, { ...s, lastRevision: revision })
    }
    if (failure !== undefined) {
      outcomes.push(E.left(failure))
      continue
    }
    if (request.checkpoint !== undefined) {
      pending.push({
        key: checkpointKey(request.checkpoint.name),
        value: encodeCheckpoint(request.checkpoint.position),
      })
    }
    const offset = records.length
    records.push(...pending)
    for (const [id, s] of scratch) streams.set(id, s)
    for (const [id, entry] of scratchIds) ids.set(id, entry)
    outcomes.push(
      E.right(results.map((r) => (r.kind === 'written' ? { ...r, first: r.first + offset } : r))),
    )
  }
  return { records, outcomes, states: streams }
}

const beyondHead = (position: number, head: number): InvalidArgumentError => ({
  code: 'INVALID_ARGUMENT',
  field: 'checkpoint.position',
  message: `checkpoint.position: ${position} is past the head of the log (${head - 1})`,
})
