/**
 * The event store's bounded reads: one stream's events in a range of revisions (`readStream`),
 * every stream's events in a range of positions (`readAll`), and a fold over a stream
 * (`aggregateStream`). Each is a scan of the log that turns entries into events, hides deleted
 * ones, and stops with `ABORTED` when the caller's signal aborts (abort.ts). The subscriptions
 * deliver their history with the same generators.
 */
import * as E from 'fp-ts/lib/Either.js'
import { invalidArgument, orThrow, stopIfAborted, toDeltalogError } from '../errors.js'
import type { LogEntry } from '../openLog.js'
import { AbortSignalLike } from '../log/options.js'
import { failing } from '../log/read.js'
import { abortable } from '../log/abort.js'
import { decodeEvent, EVENTS, eventsKey, validateStreamId, type StoredEvent } from './envelope.js'
import type { ReadEvent } from './model.js'
import { paged } from './pages.js'
import {
  decodeRead,
  ReadAllOptions,
  ReadStreamOptions,
  type AggregateOptions,
  type Codecs,
  type ReadAllFilter,
} from './options.js'
import { seekRevision } from './revisions.js'
import { loadState, type Streams } from './streams.js'
import { checkTypeNames, currentNameOf, upcast, type Upcasters } from './upcast.js'

/** What reads need: the streams, the upcasters to events' current shape, then their codecs. */
export interface ReadContext extends Streams {
  readonly codecs: Codecs
  readonly upcasters: Upcasters
}

/** A stream read with its options resolved. */
export interface StreamRead {
  /** The first revision included, if any. */
  readonly from: number | undefined
  /** The first revision excluded, if any. */
  readonly to: number | undefined
  readonly reverse: boolean
  readonly limit: number | undefined
  /** The first position excluded (where a subscription's live part begins), if any. */
  readonly before: number | undefined
  /**
   * A position at or below the first revision's, known to the caller (a snapshot's): a forward
   * read starts there, with no seek; events below `from` found past it are skipped.
   */
  readonly fromPosition?: number
  readonly signal: AbortSignal | undefined
  /** Names the read in an `ABORTED` error. */
  readonly what: string
}

const untext = new TextDecoder()

/**
 * A stored event as reads return it: upcast to its type's current version (upcast.ts), then its
 * data decoded with its type's codec if there is one.
 */
const toReadEvent = (
  ctx: ReadContext,
  streamId: string,
  entry: LogEntry,
  stored: StoredEvent,
): ReadEvent => {
  const current = orThrow(upcast(ctx.upcasters, { streamId, position: entry.sequence }, stored))
  const codec = ctx.codecs[current.type]
  let data: unknown = current.data
  if (codec !== undefined) {
    const decoded = codec.decode(current.data)
    if (E.isLeft(decoded)) {
      throw toDeltalogError({
        code: 'DECODE_FAILED',
        message: `stream ${JSON.stringify(streamId)} revision ${stored.revision}: data does not decode as ${current.type}`,
        streamId,
        revision: stored.revision,
        position: entry.sequence,
        type: stored.type,
        storedVersion: stored.version,
      })
    }
    data = decoded.right
  }
  return {
    streamId,
    revision: stored.revision,
    position: entry.sequence,
    type: current.type,
    data,
    metadata: current.metadata,
    id: stored.id,
    recordedAt: new Date(stored.recordedAt),
    tags: stored.tags,
  }
}

/** A stream read's scan of the log, and the first revision past its end. */
interface StreamScan {
  readonly entries: AsyncIterableIterator<LogEntry>
  readonly past: (revision: number) => boolean
}

/** The scan of the stream's events from revision `first` on, in order, ending before `read.to`. */
const forwards = async (
  ctx: ReadContext,
  streamId: string,
  first: number,
  read: StreamRead,
): Promise<StreamScan | undefined> => {
  const position = read.fromPosition ?? (await seekRevision(ctx.log, streamId, first))
  if (position === undefined) return undefined
  const entries = paged(ctx.log, {
    key: eventsKey(streamId),
    from: position,
    ...(read.before === undefined ? {} : { to: read.before }),
  })
  return { entries, past: (revision) => read.to !== undefined && revision >= read.to }
}

/** The scan of the stream's events below revision `read.to`, newest first, down to `first`. */
const backwards = async (
  ctx: ReadContext,
  streamId: string,
  first: number,
  read: StreamRead,
): Promise<StreamScan> => {
  const upper = read.to === undefined ? undefined : await seekRevision(ctx.log, streamId, read.to)
  const entries = paged(ctx.log, {
    key: eventsKey(streamId),
    reverse: true,
    ...(upper === undefined ? {} : { to: upper }),
  })
  return { entries, past: (revision) => revision < first }
}

/**
 * The stream's visible events in the range of `read`: none below its soft-delete point. An
 * abort before it starts reads nothing; one later stops the scan (abortable).
 */
export async function* streamEvents(
  ctx: ReadContext,
  streamId: string,
  read: StreamRead,
): AsyncGenerator<ReadEvent> {
  stopIfAborted(read.signal, read.what)
  const state = await loadState(ctx, streamId)
  let left = read.limit ?? Infinity
  if (left <= 0) return
  const first = Math.max(read.from ?? 0, state.deletedBefore)
  const scan = read.reverse
    ? await backwards(ctx, streamId, first, read)
    : await forwards(ctx, streamId, first, read)
  if (scan === undefined) return
  for await (const entry of abortable(scan.entries, read.signal, read.what)) {
    const stored = orThrow(decodeEvent(entry.value))
    if (scan.past(stored.revision)) return
    if (stored.revision < first) continue
    yield toReadEvent(ctx, streamId, entry, stored)
    if (--left <= 0) return
  }
}

/** Which stored events a read selects, by stream id and the event as stored. */
export type Selection = (streamId: string, stored: StoredEvent) => boolean

/** The selection of `readAll`'s and `subscribeToAll`'s filter, whose types are current names. */
const byFilter =
  (filter: ReadAllFilter | undefined, upcasters: Upcasters): Selection =>
  (streamId, stored) =>
    (filter?.streamPrefix === undefined || streamId.startsWith(filter.streamPrefix)) &&
    (filter?.eventTypes === undefined ||
      filter.eventTypes.includes(currentNameOf(upcasters, stored.type)))

/** A log entry as a visible event; undefined for the store's other records and deleted events. */
export const visibleEvent = async (
  ctx: ReadContext,
  entry: LogEntry,
  select: Selection | ReadAllFilter | undefined,
): Promise<ReadEvent | undefined> => {
  const key = untext.decode(entry.key)
  if (!key.startsWith(EVENTS)) return undefined
  const streamId = key.slice(EVENTS.length)
  const stored = orThrow(decodeEvent(entry.value))
  const selected = typeof select === 'function' ? select : byFilter(select, ctx.upcasters)
  if (!selected(streamId, stored)) return undefined
  const state = await loadState(ctx, streamId)
  if (stored.revision < state.deletedBefore) return undefined
  return toReadEvent(ctx, streamId, entry, stored)
}

/**
 * The visible events among log entries, at most `limit`; stops with `ABORTED` when `signal`
 * aborts. Ends (and releases `entries`) early when the limit is reached.
 */
export async function* allEvents(
  ctx: ReadContext,
  entries: AsyncIterableIterator<LogEntry>,
  filter: Selection | ReadAllFilter | undefined,
  limit: number | undefined,
  stop?: { readonly signal: AbortSignal | undefined; readonly what: string },
): AsyncGenerator<ReadEvent> {
  let left = limit ?? Infinity
  if (left <= 0) {
    await entries.return?.()
    return
  }
  for await (const entry of entries) {
    const event = await visibleEvent(ctx, entry, filter)
    if (event === undefined) continue
    // Reading the stream's state may have waited: an abort meanwhile stops the read here.
    stopIfAborted(stop?.signal, stop?.what ?? 'read')
    yield event
    if (--left <= 0) return
  }
}

// -------------------------------------------------------------------------------------
// the calls
// -------------------------------------------------------------------------------------

/** `readStream`: checks its arguments at once; the iterator rejects on its first `next()`. */
export const readStream = (
  ctx: ReadContext,
  streamId: unknown,
  options: unknown,
): AsyncIterableIterator<ReadEvent> => {
  const id = validateStreamId(streamId)
  if (E.isLeft(id)) return failing(id.left)
  const decoded = decodeRead('readStream', ReadStreamOptions, options)
  if (E.isLeft(decoded)) return failing(decoded.left)
  const o = decoded.right
  return streamEvents(ctx, id.right, {
    from: o.lower,
    to: o.to,
    reverse: o.reverse ?? false,
    limit: o.limit,
    before: undefined,
    signal: o.signal,
    what: 'readStream',
  })
}

/** `readAll`: checks its options at once; the iterator rejects on its first `next()`. */
export const readAll = (ctx: ReadContext, options: unknown): AsyncIterableIterator<ReadEvent> => {
  const decoded = decodeRead('readAll', ReadAllOptions, options)
  if (E.isLeft(decoded)) return failing(decoded.left)
  const o = decoded.right
  const types = checkTypeNames(ctx.upcasters, o.filter?.eventTypes, 'options.filter.eventTypes')
  if (E.isLeft(types)) return failing(types.left)
  const scan = paged(ctx.log, {
    reverse: o.reverse ?? false,
    ...(o.lower === undefined ? {} : { from: o.lower }),
    ...(o.to === undefined ? {} : { to: o.to }),
    // A limited read (a run's batch) reads about as many entries as it wants events at once.
    ...(o.limit === undefined ? {} : { first: o.limit }),
  })
  return allEvents(ctx, abortable(scan, o.signal, 'readAll'), o.filter, o.limit, {
    signal: o.signal,
    what: 'readAll',
  })
}

/** `aggregateStream`: a left fold over the stream's visible events, in order. */
export const aggregateStream = async <S>(
  ctx: ReadContext,
  streamId: unknown,
  { initialState, evolve, signal }: AggregateOptions<S>,
): Promise<S> => {
  const id = orThrow(validateStreamId(streamId))
  if (signal !== undefined && !AbortSignalLike.is(signal)) {
    throw toDeltalogError(invalidArgument('options.signal', `must be ${AbortSignalLike.name}`))
  }
  let state = initialState
  for await (const event of streamEvents(ctx, id, {
    from: 0,
    to: undefined,
    reverse: false,
    limit: undefined,
    before: undefined,
    signal,
    what: 'aggregateStream',
  })) {
    state = evolve(state, event)
  }
  return state
}
