/**
 * Reads and subscriptions by query (query.ts): `read` finds the matching positions in the index
 * of tags and types (lookup.ts) and reads each event there; `subscribe` delivers that history up
 * to the log's end when it starts, then `caughtUp`, then the matching events as they commit,
 * matched on their envelopes as the log is followed. Deleted events are hidden, as from every
 * other read.
 */
import * as E from 'fp-ts/lib/Either.js'
import { migrationNeeded, stopIfAborted, toDeltalogError } from '../errors.js'
import { INDEX_MARKER, MARKER } from './envelope.js'
import { lastOf } from './streams.js'
import { abortable } from '../log/abort.js'
import { failing, type LogEntry } from '../log/read.js'
import { matchingPositions } from './lookup.js'
import type { ReadEvent, SubscriptionMessage } from './model.js'
import { paged } from './pages.js'
import { decodeRead, ReadQueryOptions, SubscribeQueryOptions } from './options.js'
import { matches, validateQuery, type Items } from './query.js'
import { allEvents, visibleEvent, type ReadContext } from './reads.js'
import type { SubscriptionContext } from './subscriptions.js'

/** A read by query with its options resolved. */
interface QueryRead {
  readonly from: number
  readonly to: number | undefined
  readonly limit: number | undefined
  readonly signal: AbortSignal | undefined
  readonly what: string
}

/** The visible events matching the query in the range of `read`, in position order. */
async function* queryEvents(
  ctx: ReadContext,
  items: Items,
  read: QueryRead,
): AsyncGenerator<ReadEvent> {
  stopIfAborted(read.signal, read.what)
  const stop = { signal: read.signal, what: read.what }
  const range = { from: read.from, ...(read.to === undefined ? {} : { to: read.to }) }
  if (items === undefined) {
    const scan = abortable(paged(ctx.log, range), read.signal, read.what)
    yield* allEvents(ctx, scan, undefined, read.limit, stop)
    return
  }
  let left = read.limit ?? Infinity
  if (left <= 0) return
  await requireIndex(ctx)
  const positions = matchingPositions(ctx.log, items, read.from, read.to)
  for await (const entry of entriesAt(ctx, positions, read)) {
    // A truncation may have removed the event, and its stream may have been deleted since.
    const event = await visibleEvent(ctx, entry, undefined)
    if (event === undefined) continue
    stopIfAborted(read.signal, read.what)
    yield event
    if (--left <= 0) return
  }
}

/**
 * Refuses to answer from an index that is not complete: a store written before the index
 * existed, read (read-only) before any writer opened it with this version, which indexes it.
 */
const requireIndex = async (ctx: ReadContext): Promise<void> => {
  if ((await lastOf(ctx.log, INDEX_MARKER)) !== undefined) return
  if ((await lastOf(ctx.log, MARKER)) === undefined) return
  throw toDeltalogError(
    migrationNeeded(
      'the store was written before its index of tags and types existed; a writer that opens it builds the index, then reads by query work here',
    ),
  )
}

/** How many positions are read at a time, and how sparse they may lie for one scan over them. */
const GROUP = 256
const SPREAD = 8

/**
 * The log's entries at ascending positions. Positions are taken a group at a time: a group that
 * lies close together is read with one scan of its span (the events of one commit share its
 * record, which each read of one position would decode again), a sparse one position by position.
 */
async function* entriesAt(
  ctx: ReadContext,
  positions: AsyncIterableIterator<number>,
  read: QueryRead,
): AsyncGenerator<LogEntry> {
  let group: number[] = []
  const flush = async function* (): AsyncGenerator<LogEntry> {
    const first = group[0]
    const last = group[group.length - 1]
    if (first === undefined || last === undefined) return
    const wanted = new Set(group)
    const spans: ReadonlyArray<readonly [number, number]> =
      last - first < SPREAD * group.length
        ? [[first, last + 1]]
        : group.map((p) => [p, p + 1] as const)
    group = []
    for (const [from, to] of spans) {
      for await (const entry of paged(ctx.log, { from, to })) {
        if (wanted.has(entry.sequence)) yield entry
      }
    }
  }
  for await (const position of positions) {
    stopIfAborted(read.signal, read.what)
    group.push(position)
    if (group.length === GROUP) yield* flush()
  }
  yield* flush()
}

/** `read`: checks its arguments at once; the iterator rejects on its first `next()`. */
export const read = (
  ctx: ReadContext,
  query: unknown,
  options: unknown,
): AsyncIterableIterator<ReadEvent> => {
  const items = validateQuery(query, 'query', ctx.upcasters)
  if (E.isLeft(items)) return failing(items.left)
  const decoded = decodeRead('read', ReadQueryOptions, options)
  if (E.isLeft(decoded)) return failing(decoded.left)
  const o = decoded.right
  return queryEvents(ctx, items.right, {
    from: o.lower ?? 0,
    to: o.to,
    limit: o.limit,
    signal: o.signal,
    what: 'read',
  })
}

/** `subscribe`: checks its arguments at once; the iterator rejects on its first `next()`. */
export const subscribe = (
  ctx: SubscriptionContext,
  query: unknown,
  options: unknown,
): AsyncIterableIterator<SubscriptionMessage> => {
  const checked = validateQuery(query, 'query', ctx.upcasters)
  if (E.isLeft(checked)) return failing(checked.left)
  const decoded = decodeRead('subscribe', SubscribeQueryOptions, options)
  if (E.isLeft(decoded)) return failing(decoded.left)
  const o = decoded.right
  const items = checked.right
  const signal = o.signal === undefined ? ctx.closing : AbortSignal.any([o.signal, ctx.closing])
  const from = o.lower ?? 0
  return (async function* (): AsyncGenerator<SubscriptionMessage> {
    const end = Math.max(from, ctx.log.nextSequence())
    const history = { from, to: end, limit: undefined, signal: undefined, what: 'subscribe' }
    for await (const event of queryEvents(ctx, items, history)) {
      if (signal.aborted) return
      yield { type: 'event', event }
    }
    if (signal.aborted) return
    yield { type: 'caughtUp' }
    const select = (_: string, stored: { type: string; tags: ReadonlyArray<string> }): boolean =>
      matches(items, stored.type, stored.tags)
    for await (const event of allEvents(
      ctx,
      ctx.log.follow({ from: end, signal }),
      select,
      undefined,
    )) {
      yield { type: 'event', event }
    }
  })()
}
