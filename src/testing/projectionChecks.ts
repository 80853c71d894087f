/**
 * The rules `checkProjection` holds a projection or consumer to, checked on what a restart
 * would find (a store opened read-only on a crashed copy of the storage):
 * - the saved position is below the head of the log that survived: it names no event a crash took;
 * - a projection's documents are the fold of exactly the source's events up to that position —
 *   an event applied twice, skipped, or applied without its position saved shows as a difference;
 * - a consumer handled every source event at or below its checkpoint, at least once.
 * The fold's events come from the live store: a crashed copy holds a prefix of its log, so its
 * events at or below a position that passes the first rule are the live store's.
 */
import { isDeepStrictEqual } from 'node:util'
import type { Json } from '../eventstore/envelope.js'
import type { ReadEvent } from '../eventstore/model.js'
import { openEventStore, type EventStore } from '../eventstore/store.js'
import type { CrashStorage } from './crashStorage.js'
import type { ReferenceFold, SourceOptions, Subject } from './projectionSubjects.js'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** The source's events, in position order, as the live store holds them. */
export interface SourceEvents {
  /** Reads the events appended since the last read. */
  readonly refresh: (store: EventStore) => Promise<void>
  readonly upTo: (position: number | undefined) => ReadonlyArray<ReadEvent>
  readonly all: () => ReadonlyArray<ReadEvent>
}

/** What consumers handled, in the order they said so: it outlives every crash, as effects do. */
export interface Handled {
  readonly add: (events: ReadonlyArray<ReadEvent>) => void
  /** How many events have been handled so far (a view remembers it). */
  readonly count: () => number
  /** Whether the event at `position` was among the first `count` handled. */
  readonly within: (position: number, count: number) => boolean
}

/** A crashed copy of the storage to check, and what consumers had handled when it was taken. */
export interface View {
  readonly storage: CrashStorage
  readonly handled: number
  /** The source's events in the storage the copy was taken from. */
  readonly events: SourceEvents
  /** The moment it was taken, for the failure's message. */
  readonly where: string
}

// -------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------

export const makeSourceEvents = (source: SourceOptions): SourceEvents => {
  const events: ReadEvent[] = []
  return {
    refresh: async (store) => {
      const last = events.at(-1)?.position
      const range = last === undefined ? {} : { after: last }
      const found =
        source.query === undefined
          ? store.readAll({
              ...range,
              ...(source.filter === undefined ? {} : { filter: source.filter }),
            })
          : store.read(source.query, range)
      for await (const event of found) events.push(event)
    },
    upTo: (position) =>
      position === undefined ? [] : events.filter((e) => e.position <= position),
    all: () => events,
  }
}

export const makeHandled = (): Handled => {
  const first = new Map<number, number>()
  let count = 0
  return {
    add: (events) => {
      for (const e of events) {
        if (!first.has(e.position)) first.set(e.position, count)
        count++
      }
    },
    count: () => count,
    within: (position, n) => (first.get(position) ?? Infinity) < n,
  }
}

// -------------------------------------------------------------------------------------
// checks
// -------------------------------------------------------------------------------------

/** The documents `fold` makes of `events`. */
export const foldEvents = (
  fold: ReferenceFold,
  events: ReadonlyArray<ReadEvent>,
): Map<string, Json> => {
  const documents = new Map<string, Json>()
  for (const event of events) {
    const key = fold.key(event)
    if (key === undefined) continue
    const next = fold.evolve(documents.get(key) ?? fold.init(key), event)
    if (next === undefined) documents.delete(key)
    else documents.set(key, next)
  }
  return documents
}

/** A document as JSON would store it (undefined fields dropped), for comparison. */
const stored = (document: Json | undefined): unknown =>
  document === undefined ? undefined : (JSON.parse(JSON.stringify(document)) as unknown)

const show = (document: unknown): string =>
  document === undefined ? 'none' : clip(JSON.stringify(document))

const clip = (text: string): string => (text.length > 200 ? `${text.slice(0, 200)}…` : text)

/** The first document that differs, described; undefined when all are equal. */
export const documentsDiffer = (
  got: ReadonlyMap<string, Json>,
  expected: ReadonlyMap<string, Json>,
): string | undefined => {
  const keys = [...new Set([...got.keys(), ...expected.keys()])].sort()
  for (const key of keys) {
    const g = stored(got.get(key))
    const e = stored(expected.get(key))
    if (!isDeepStrictEqual(g, e)) {
      return `document ${JSON.stringify(key)} is ${show(g)}, the fold gives ${show(e)}`
    }
  }
  return undefined
}

const describeEvent = (e: ReadEvent): string =>
  `${e.type} at position ${e.position} of ${JSON.stringify(e.streamId)}`

/**
 * What is wrong with what `subject` saved in `store` (what a restart finds), or undefined:
 * `events` are the source's live events, `handled` what consumers had handled by then.
 */
export const checkSaved = async (
  subject: Subject,
  store: EventStore,
  events: SourceEvents,
  handled: (position: number) => boolean,
): Promise<string | undefined> => {
  const head = store.log.nextSequence()
  const { position, documents } = await subject.read(store)
  if (position !== undefined && position >= head) {
    return `the saved position ${position} passes the head of the log that survived (${head}): it counts events the crash took`
  }
  const covered = events.upTo(position)
  if (subject.fold !== undefined) {
    const differs = documentsDiffer(documents ?? new Map(), foldEvents(subject.fold, covered))
    if (differs !== undefined) {
      const upTo = position === undefined ? 'no event' : `the events up to position ${position}`
      return `the documents are not the fold of ${upTo} (${covered.length} events): ${differs}`
    }
  }
  if (subject.kind === 'consumer') {
    const missed = covered.find((e) => !handled(e.position))
    if (missed !== undefined) {
      return `${describeEvent(missed)} is at or below the checkpoint ${String(position)} but was never handled`
    }
  }
  return undefined
}

/** Checks a view: a store opened read-only on it, as a restart would find it. */
export const checkView = async (
  subject: Subject,
  view: View,
  handled: Handled,
): Promise<string | undefined> => {
  const store = await openEventStore({ storage: view.storage, readOnly: true })
  try {
    const wrong = await checkSaved(subject, store, view.events, (p) =>
      handled.within(p, view.handled),
    )
    return wrong === undefined ? undefined : `after ${view.where}: ${wrong}`
  } finally {
    await store.close()
  }
}
