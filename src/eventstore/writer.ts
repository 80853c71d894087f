/**
 * The event store's single writer. Appends, deletes and checkpoints queue here; the pump
 * (src/log/pump.ts, the same drain loop as the log's writer) takes everything queued as one
 * batch, plans it against the streams' states (plan.ts) and writes it as ONE log append — one
 * atomic commit and, in sync mode, one fsync — so expectations are serialized with every other
 * append and a multi-stream append is all or nothing.
 */
import { randomUUID } from 'node:crypto'
import * as E from 'fp-ts/lib/Either.js'
import {
  closed,
  errorValueOf,
  invalidArgument,
  toDeltalogError,
  type DeltalogErrorValue,
} from '../errors.js'
import { makePump } from '../log/pump.js'
import type { IdEntry } from './envelope.js'
import type { EventAppendResult } from './model.js'
import { firstMatch, type Match } from './lookup.js'
import { makeNewest, mayMatchOf, type Newest } from './newest.js'
import type { Condition } from './query.js'
import { versionOf, type Upcasters } from './upcast.js'
import { plan } from './plan.js'
import type { Known, Outcome, Record, Request } from './requests.js'
import { conditionFailed, type StreamState } from './rules.js'
import { seekRevision } from './revisions.js'
import { lastOf, loadId, loadState, visibleAt, type Streams } from './streams.js'

const TEXT = new TextDecoder()

/** The writer's queue; see `makeWriter`. */
export interface Writer {
  /** Queues a request; resolves with one result per stream it wrote, or rejects. */
  readonly submit: (request: Request) => Promise<ReadonlyArray<EventAppendResult>>
  /**
   * Refuses every later request with `CLOSED`, and resolves once every queued one is settled.
   * Calling it again gives the same promise.
   */
  readonly close: () => Promise<void>
}

type Settled = E.Either<DeltalogErrorValue, ReadonlyArray<EventAppendResult>>

interface Queued {
  readonly request: Request
  readonly settle: (outcome: Settled) => void
}

/** The writer of a store's streams. */
export const makeWriter = (store: Streams & { readonly upcasters: Upcasters }): Writer => {
  const { upcasters } = store
  // Without upcasters every type is at version 1: nothing to look up per event.
  const version =
    Object.keys(upcasters).length === 0 ? () => 1 : (type: string) => versionOf(upcasters, type)
  const streams: WriterStreams = {
    ...store,
    newest: makeNewest(),
    guards: new Map(),
    versionOf: version,
  }
  const queue: Queued[] = []
  const idle: Array<() => void> = []
  let closing: Promise<void> | undefined
  const pump = makePump({
    hasWork: () => queue.length > 0,
    // A request refused as a whole puts the rest of its batch back, to be written without it.
    step: () => writeBatch(streams, queue.splice(0), (rest) => queue.unshift(...rest)),
    onIdle: () => {
      for (const done of idle.splice(0)) done()
    },
  })
  return {
    submit: (request) => {
      if (closing !== undefined) return Promise.reject(toDeltalogError(closed('event store')))
      return new Promise((resolve, reject) => {
        queue.push({
          request,
          settle: (outcome) =>
            E.isLeft(outcome) ? reject(toDeltalogError(outcome.left)) : resolve(outcome.right),
        })
        pump.kick()
      })
    },
    close: () =>
      (closing ??=
        pump.running() || queue.length > 0
          ? new Promise<void>((resolve) => idle.push(resolve))
          : Promise.resolve()),
  }
}

/**
 * Plans a batch, writes it as one log append and settles every request in it. An event the log
 * refuses (too large for its `maxValueBytes`) rejects its own request alone, naming the event's
 * field, and `retry` queues the others again; so does a record of a `records` request. If anything else fails, every request of the
 * batch rejects with that error and the cached states are dropped.
 * REQUIRES: no other batch is being written (the pump runs one step at a time).
 */
const writeBatch = async (
  streams: WriterStreams,
  batch: ReadonlyArray<Queued>,
  retry: (rest: ReadonlyArray<Queued>) => void,
): Promise<void> => {
  const requests = batch.map((b) => b.request)
  try {
    const known = await knownFor(streams, requests)
    const planned = plan(known, requests)
    let start = 0
    if (planned.records.length > 0) {
      const appended = await streams.log.append(planned.records).catch((error: unknown) => {
        const value = errorValueOf(error)
        const refused =
          refusedEvent(requests, planned.outcomes, value) ??
          refusedRecord(requests, planned.records, value)
        if (refused === undefined) throw error
        // The log checks records before it writes any: nothing of the batch was written.
        batch[refused.request]?.settle(E.left(refused.error))
        retry(batch.filter((_, i) => i !== refused.request))
        return undefined
      })
      if (appended === undefined) return
      start = appended.startSequence
    }
    for (const [id, state] of planned.states) streams.states.remember(id, state)
    streams.newest.written(planned.events, start)
    rememberGuards(streams.guards, requests, planned.outcomes)
    if (planned.again.size > 0) retry(batch.filter((_, i) => planned.again.has(i)))
    for (const [i, { settle }] of batch.entries()) {
      const outcome = planned.outcomes[i]
      const inBatch = planned.matchedInBatch.get(i)
      if (outcome === undefined || planned.again.has(i)) continue
      // A condition refused by an event of this commit: its position is now known.
      if (
        E.isLeft(outcome) &&
        outcome.left.code === 'APPEND_CONDITION_FAILED' &&
        inBatch !== undefined
      ) {
        settle(E.left(conditionFailed(start + inBatch, outcome.left.after)))
      } else settle(await resultsOf(streams, outcome, start))
    }
  } catch (error) {
    // What storage holds is no longer known for sure: read states again next time.
    streams.states.clear()
    streams.newest.clear()
    streams.guards.clear()
    const value = errorValueOf(error)
    for (const { settle } of batch) settle(E.left(value))
  }
}

/** An event of a batch: its request, the write of the request, its place in the write. */
interface EventPlace {
  readonly request: number
  readonly write: number
  readonly event: number
}

/** Where the batch's record `record` came from, if it is an event. */
const eventOf = (outcomes: ReadonlyArray<Outcome>, record: number): EventPlace | undefined => {
  for (const [request, outcome] of outcomes.entries()) {
    if (E.isLeft(outcome)) continue
    for (const [write, w] of outcome.right.entries()) {
      if (w.kind === 'written' && record >= w.first && record < w.first + w.count) {
        return { request, write, event: record - w.first }
      }
    }
  }
  return undefined
}

/**
 * The request whose event the log refused with `error` (`records[i].key` or `.value`), and the
 * error naming the event's field as its caller gave it: its stream id, or its `data` or
 * `metadata`, whichever is larger. Undefined for any other error.
 */
const refusedEvent = (
  requests: ReadonlyArray<Request>,
  outcomes: ReadonlyArray<Outcome>,
  error: DeltalogErrorValue,
): { readonly request: number; readonly error: DeltalogErrorValue } | undefined => {
  if (error.code !== 'INVALID_ARGUMENT') return undefined
  const found = /^records\[(\d+)\]\.(key|value)$/.exec(error.field)
  const place = found === null ? undefined : eventOf(outcomes, Number(found[1]))
  const request = place === undefined ? undefined : requests[place.request]
  if (place === undefined || request?.kind !== 'append') return undefined
  const event = request.writes[place.write]?.events[place.event]
  const write = request.single === true ? '' : `writes[${place.write}].`
  const size = (json: unknown): number => JSON.stringify(json ?? null).length
  const part = size(event?.metadata) > size(event?.data) ? 'metadata' : 'data'
  const field = found?.[2] === 'key' ? `${write}streamId` : `${write}events[${place.event}].${part}`
  const why = error.message.replace(/^[^:]*: /, '')
  return { request: place.request, error: invalidArgument(field, `the stored event ${why}`) }
}

/**
 * The `records` request whose record the log refused with `error`, and the error naming the
 * record by its place among that request's own records: a projection's document or a snapshot
 * too large for the log fails its own request, not the appends that share its commit.
 * Undefined for any other error.
 */
const refusedRecord = (
  requests: ReadonlyArray<Request>,
  records: ReadonlyArray<Record>,
  error: DeltalogErrorValue,
): { readonly request: number; readonly error: DeltalogErrorValue } | undefined => {
  if (error.code !== 'INVALID_ARGUMENT') return undefined
  const found = /^records\[(\d+)\]\.(key|value)$/.exec(error.field)
  const record = found === null ? undefined : records[Number(found[1])]
  if (found === null || record === undefined) return undefined
  // The plan writes a records request's own record objects: the refused one is found by identity.
  for (const [request, r] of requests.entries()) {
    const own = r.kind === 'records' ? r.records.indexOf(record) : -1
    if (own >= 0) {
      const why = error.message.replace(/^[^:]*: /, '')
      return { request, error: invalidArgument(`records[${own}].${found[2]}`, why) }
    }
  }
  return undefined
}

/**
 * What the planner needs to know for a batch: the state of every stream it names, every
 * caller-given event id already indexed, and the first stored event matching each condition.
 * The reads run side by side: one round per batch.
 */
const knownFor = async (
  streams: WriterStreams,
  requests: ReadonlyArray<Request>,
): Promise<Known> => {
  const streamIds = new Set<string>()
  const ids = new Set<string>()
  for (const r of requests) {
    if (r.kind === 'delete') streamIds.add(r.streamId)
    if (r.kind === 'append') {
      for (const w of r.writes) {
        streamIds.add(w.streamId)
        for (const e of w.events) if (e.id !== undefined) ids.add(e.id)
      }
    }
  }
  const conditional = requests.flatMap((r) =>
    r.kind === 'append' && r.condition !== undefined ? [{ r, condition: r.condition }] : [],
  )
  const guards = new Set<string>()
  for (const r of requests)
    if (r.kind === 'records' && r.guard !== undefined) guards.add(r.guard.key)
  const [states, hits, found, guarded] = await Promise.all([
    Promise.all([...streamIds].map(async (id) => [id, await loadState(streams, id)] as const)),
    Promise.all([...ids].map(async (id) => [id, await loadId(streams.log, id)] as const)),
    Promise.all(
      conditional.map(
        async ({ r, condition }) => [r, await storedMatch(streams, condition)] as const,
      ),
    ),
    Promise.all([...guards].map(async (key) => [key, await guardOf(streams, key)] as const)),
  ])
  const matched = new Map<Request, Match>()
  for (const [r, position] of found) if (position !== undefined) matched.set(r, position)
  const indexed = new Map<string, IdEntry>()
  for (const [id, hit] of hits) if (hit !== undefined) indexed.set(id, hit)
  return {
    streams: new Map<string, StreamState>(states),
    ids: indexed,
    matched,
    guarded: new Map(
      guarded.flatMap(([key, value]) => (value === undefined ? [] : [[key, value] as const])),
    ),
    versionOf: streams.versionOf,
    head: streams.log.nextSequence(),
    now: Date.now(),
    newId: randomUUID,
  }
}

/**
 * The first stored event a condition matches, that reads return: the items the newest positions
 * say may match are looked up in the index, and none when none may.
 */
const storedMatch = async (
  streams: WriterStreams,
  condition: Condition,
): Promise<Match | undefined> => {
  const { log, newest } = streams
  const items = await mayMatchOf(log, newest, condition.items, condition.after)
  if (items !== undefined && items.length === 0) return undefined
  return firstMatch(log, items, condition.after, (position) => visibleAt(streams, position))
}

/**
 * The streams as the writer sees them, with the newest positions of tags and types, and the
 * version each type's events are stored with.
 */
interface WriterStreams extends Streams {
  readonly newest: Newest
  /**
   * The value, as text, of each guarded key this writer wrote: the store's writer is the only
   * one of its keys, so a guard is checked with no read (cleared when a write fails).
   */
  readonly guards: Map<string, string>
  readonly versionOf: (type: string) => number
}

/** A guarded key's newest value as text: from what this writer wrote, or read from the log. */
const guardOf = async (streams: WriterStreams, key: string): Promise<string | undefined> => {
  const known = streams.guards.get(key)
  if (known !== undefined) return known
  const entry = await lastOf(streams.log, key)
  return entry === undefined ? undefined : TEXT.decode(entry.value)
}

/** Remembers what the accepted guarded requests of a written batch wrote to their keys. */
const rememberGuards = (
  guards: Map<string, string>,
  requests: ReadonlyArray<Request>,
  outcomes: ReadonlyArray<Outcome>,
): void => {
  for (const [i, r] of requests.entries()) {
    const outcome = outcomes[i]
    if (r.kind !== 'records' || r.guard === undefined || outcome === undefined) continue
    if (E.isLeft(outcome)) continue
    for (const record of r.records) {
      if (record.key === r.guard.key) guards.set(record.key, TEXT.decode(record.value))
    }
  }
}

/**
 * One request's results from its outcome: a written stream's last position follows from where
 * the batch's commit started; a retry of events already stored looks its position up.
 * REQUIRES: `start` is the first sequence of the batch's commit.
 */
const resultsOf = async (streams: Streams, outcome: Outcome, start: number): Promise<Settled> => {
  if (E.isLeft(outcome)) return outcome
  const results: EventAppendResult[] = []
  for (const w of outcome.right) {
    if (w.kind === 'written') {
      results.push({
        nextExpectedRevision: w.lastRevision,
        position: start + w.first + w.count - 1,
      })
    } else {
      const position = await seekRevision(streams.log, w.streamId, w.lastRevision)
      results.push({ nextExpectedRevision: w.lastRevision, position: position ?? -1 })
    }
  }
  return E.right(results)
}
