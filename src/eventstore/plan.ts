/**
 * The event store's decisions, as a pure function: given the streams' current states and a
 * batch of queued requests, which requests are accepted, which fail (wrong expected revision,
 * an event id reused), which are retries of what is already stored — and the log records that
 * the accepted ones write, in order, as one commit. The store's writer runs this on every batch,
 * so expectations are checked in one place, serialized with every other append.
 */
import * as E from 'fp-ts/lib/Either.js'
import {
  checkpointKey,
  encodeCheckpoint,
  encodeEvent,
  encodeIdEntry,
  encodeMeta,
  eventsKey,
  idKey,
  metaKey,
  type IdEntry,
} from './envelope.js'
import { postingRecords, type IndexedEvent } from './postings.js'
import { matchesItem, type Item } from './query.js'
import type {
  Known,
  Outcome,
  Plan,
  PlanError,
  Record,
  Request,
  StreamWrite,
  WriteOutcome,
} from './requests.js'
import {
  afterBeyondHead,
  beyondHead,
  conditionFailed,
  emptyStream,
  exists,
  idConflict,
  satisfies,
  staleGuard,
  wrongRevision,
  type StreamState,
} from './rules.js'

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
    events: [],
    byTag: new Map(),
    byType: new Map(),
    guarded: new Map(known.guarded),
  }
  const outcomes: Outcome[] = []
  const matchedInBatch = new Map<number, number>()
  const again = new Set<number>()
  for (const [i, request] of requests.entries()) {
    if (request.kind === 'append' && deletedSince(draft, request)) {
      again.add(i)
      outcomes.push(E.right([]))
      continue
    }
    const inBatch = request.kind === 'append' ? matchInBatch(draft, request) : undefined
    if (inBatch !== undefined) matchedInBatch.set(i, inBatch)
    outcomes.push(
      request.kind === 'delete'
        ? planDelete(draft, request.streamId)
        : request.kind === 'checkpoint'
          ? planCheckpoint(draft, request.name, request.position)
          : request.kind === 'records'
            ? planRecords(draft, request)
            : planAppend(draft, request, inBatch),
    )
  }
  // The index of the batch's events, in the same commit, after every other record.
  draft.records.push(...postingRecords(draft.events, draft.records.length))
  return {
    records: draft.records,
    outcomes,
    states: draft.streams,
    matchedInBatch,
    again,
    events: draft.events,
  }
}

/** Whether the stored event that matches an append's condition was deleted earlier in the batch. */
const deletedSince = (draft: Draft, request: Request & { readonly kind: 'append' }): boolean => {
  const stored = draft.known.matched.get(request)
  return stored !== undefined && stored.revision < stateIn(draft, stored.streamId).deletedBefore
}

/**
 * The record of the first event that an earlier request of the batch writes and that matches
 * an append's condition, if the store holds no match (a stored one comes first).
 */
const matchInBatch = (
  draft: Draft,
  request: Request & { readonly kind: 'append' },
): number | undefined => {
  const { condition } = request
  if (condition === undefined || draft.known.matched.has(request)) return undefined
  // An event of the batch that an earlier request deleted is not one reads return.
  const first = (events: ReadonlyArray<BatchEvent> | undefined, item?: Item): number | undefined =>
    events?.find(
      (e) =>
        (item === undefined || matchesItem(item, e.type, e.tags)) &&
        e.revision >= stateIn(draft, e.streamId).deletedBefore,
    )?.record
  if (condition.items === undefined) return first(draft.events)
  // An item's matches carry its first tag, or one of its types: only those events are tried.
  const firsts = condition.items.flatMap((item) => {
    const tag = item.tags[0]
    if (tag !== undefined) return [first(draft.byTag.get(tag), item)]
    return [...(item.types ?? [])].map((type) => first(draft.byType.get(type), item))
  })
  return firsts.reduce<number | undefined>(
    (min, x) => (x === undefined || (min !== undefined && min <= x) ? min : x),
    undefined,
  )
}

/** The batch so far: the states and ids as the accepted requests leave them, and their records. */
interface Draft {
  readonly known: Known
  readonly streams: Map<string, StreamState>
  readonly ids: Map<string, IdEntry>
  readonly records: Record[]
  /** The events written so far, for the index and for the conditions of later requests. */
  readonly events: BatchEvent[]
  /** The same events by each of their tags, and by their type, in order. */
  readonly byTag: Map<string, BatchEvent[]>
  readonly byType: Map<string, BatchEvent[]>
  /** The newest value of each guarded key, with what earlier requests of the batch wrote. */
  readonly guarded: Map<string, string>
}

/** An event of the batch: for the index, and where it is in its stream. */
interface BatchEvent extends IndexedEvent {
  /** Counted within its append's scratch until the append joins the draft. */
  record: number
  readonly streamId: string
  readonly revision: number
}

/** One append's writes so far, kept apart until every write of the append holds. */
interface Scratch {
  readonly streams: Map<string, StreamState>
  readonly ids: Map<string, IdEntry>
  readonly records: Record[]
  /** Its events, `record` counted within the scratch. */
  readonly events: BatchEvent[]
}

/** The list of `name` in `lists`, made empty if it has none yet. */
const listIn = (lists: Map<string, BatchEvent[]>, name: string): BatchEvent[] => {
  const list = lists.get(name)
  if (list !== undefined) return list
  const made: BatchEvent[] = []
  lists.set(name, made)
  return made
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

/** Records of the store's own: refused past the head, or if their guarded key moved (requests.ts). */
const planRecords = (draft: Draft, request: Request & { readonly kind: 'records' }): Outcome => {
  const { below, guard, records } = request
  if (below !== undefined && below >= draft.known.head) {
    return E.left(beyondHead(below, draft.known.head))
  }
  if (guard !== undefined) {
    if (draft.guarded.get(guard.key) !== guard.expected) return E.left(staleGuard(guard.what))
    for (const r of records) if (r.key === guard.key) draft.guarded.set(r.key, TEXT.decode(r.value))
  }
  draft.records.push(...records)
  return E.right([])
}
const TEXT = new TextDecoder()

/**
 * An append: every write is decided against a scratch copy of the draft, which it joins only
 * if all of them hold — with the checkpoint, if the append carries one.
 */
const planAppend = (
  draft: Draft,
  request: Request & { readonly kind: 'append' },
  inBatch: number | undefined,
): Outcome => {
  const { checkpoint, condition } = request
  if (checkpoint !== undefined && checkpoint.position >= draft.known.head) {
    return E.left(beyondHead(checkpoint.position, draft.known.head))
  }
  if (condition?.after !== undefined && condition.after >= draft.known.head) {
    return E.left(afterBeyondHead(condition.after, draft.known.head))
  }
  const scratch: Scratch = { streams: new Map(), ids: new Map(), records: [], events: [] }
  const results: WriteOutcome[] = []
  for (const write of request.writes) {
    const result = planWrite(draft, scratch, write)
    if (E.isLeft(result)) return result
    results.push(result.right)
  }
  // A retry of events already stored succeeds as their append did, whatever it matches now.
  const stored = draft.known.matched.get(request)
  const retry = results.every((r) => r.kind === 'duplicate')
  if (condition !== undefined && !retry && (stored !== undefined || inBatch !== undefined)) {
    return E.left(conditionFailed(stored?.position ?? -1, condition.after))
  }
  if (checkpoint !== undefined) {
    scratch.records.push({
      key: checkpointKey(checkpoint.name),
      value: encodeCheckpoint(checkpoint.position),
    })
  }
  const offset = draft.records.length
  draft.records.push(...scratch.records)
  for (const e of scratch.events) {
    // The scratch is dropped: its events move into the draft, counted in the batch's records.
    e.record += offset
    draft.events.push(e)
    for (const tag of e.tags) listIn(draft.byTag, tag).push(e)
    listIn(draft.byType, e.type).push(e)
  }
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

/** The tags of an event given none: one array for all of them. */
const NO_TAGS: ReadonlyArray<string> = Object.freeze([])

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
    const tags = event.tags ?? NO_TAGS
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
        tags,
        version: known.versionOf(event.type),
      }),
    })
    scratch.events.push({
      record: scratch.records.length - 1,
      type: event.type,
      tags,
      streamId: write.streamId,
      revision,
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
