/**
 * What the log holds about streams, read back: a stream's state (its last revision and its
 * soft-delete point) through the cache, and where an indexed event id points. The writer
 * decides appends with these; reads use the state to hide deleted events.
 */
import { orThrow } from '../errors.js'
import type { Log, LogEntry } from '../openLog.js'
import type { StateCache } from './cache.js'
import {
  decodeEvent,
  decodeIdEntry,
  decodeMeta,
  EVENTS,
  eventsKey,
  idKey,
  metaKey,
  type IdEntry,
} from './envelope.js'
import type { StreamState } from './rules.js'

/** The log under the store and the stream states read from it. */
export interface Streams {
  readonly log: Log
  readonly states: StateCache
}

/** The newest entry of a key, or undefined when it has none. */
export const lastOf = async (log: Log, key: string): Promise<LogEntry | undefined> => {
  for await (const entry of log.scan({ key, reverse: true, limit: 1 })) return entry
  return undefined
}

/** The oldest entry of a key at or above sequence `from`, or undefined. */
export const firstFrom = async (
  log: Log,
  key: string,
  from: number,
): Promise<LogEntry | undefined> => {
  for await (const entry of log.scan({ key, from, limit: 1 })) return entry
  return undefined
}

/**
 * A stream's state: from the cache, or from the stream's newest event and its metadata, which
 * it then caches unless a commit changed states meanwhile (see cache.ts). Rejects with
 * `CORRUPTION` if either does not decode.
 */
export const loadState = async (
  { log, states }: Streams,
  streamId: string,
): Promise<StreamState> => {
  const cached = states.get(streamId)
  if (cached !== undefined) return cached
  const mark = states.mark()
  const [last, meta] = await Promise.all([
    lastOf(log, eventsKey(streamId)),
    lastOf(log, metaKey(streamId)),
  ])
  const state: StreamState = {
    lastRevision: last === undefined ? -1 : orThrow(decodeEvent(last.value)).revision,
    deletedBefore: meta === undefined ? 0 : orThrow(decodeMeta(meta.value)).deletedBefore,
  }
  states.offer(streamId, state, mark)
  return state
}

/** Where a caller-given event id points, or undefined when it is not indexed. */
export const loadId = async (log: Log, id: string): Promise<IdEntry | undefined> => {
  const entry = await lastOf(log, idKey(id))
  return entry === undefined ? undefined : orThrow(decodeIdEntry(entry.value))
}

/** The entry at a sequence, or undefined when there is none (a gap, or truncated). */
export const entryAt = async (log: Log, sequence: number): Promise<LogEntry | undefined> => {
  for await (const entry of log.scan({ from: sequence, to: sequence + 1 })) return entry
  return undefined
}

const untext = new TextDecoder()

/**
 * The event at `position`, as a condition's match, if a read would return it: undefined when
 * no event is there (truncated), or its stream's soft delete hides it.
 */
export const visibleAt = async (
  streams: Streams,
  position: number,
): Promise<{ streamId: string; revision: number; position: number } | undefined> => {
  const entry = await entryAt(streams.log, position)
  const key = entry === undefined ? '' : untext.decode(entry.key)
  if (entry === undefined || !key.startsWith(EVENTS)) return undefined
  const streamId = key.slice(EVENTS.length)
  const { revision } = orThrow(decodeEvent(entry.value))
  const state = await loadState(streams, streamId)
  return revision < state.deletedBefore ? undefined : { streamId, revision, position }
}
