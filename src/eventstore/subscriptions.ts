/**
 * Catch-up subscriptions: the history from a start position (or revision), then one
 * `caughtUp` marker, then live events as they commit. History is read with the bounded reads'
 * generators up to the log's end when the subscription starts; the live part follows the log
 * from there, woken by its writer. A subscription ends quietly when its signal aborts or the
 * store closes: aborting is how it is stopped.
 */
import * as E from 'fp-ts/lib/Either.js'
import { failing } from '../log/read.js'
import { eventsKey, validateStreamId } from './envelope.js'
import type { SubscriptionMessage } from './model.js'
import { paged } from './pages.js'
import { decodeRead, SubscribeToAllOptions, SubscribeToStreamOptions } from './options.js'
import { allEvents, streamEvents, visibleEvent, type ReadContext } from './reads.js'
import { checkTypeNames } from './upcast.js'

/** What subscriptions need: the reads' context, and the signal that aborts when the store closes. */
export interface SubscriptionContext extends ReadContext {
  readonly closing: AbortSignal
}

/** The caller's signal, if any, joined with the store's own: either ends a subscription. */
const untilEither = (ctx: SubscriptionContext, signal: AbortSignal | undefined): AbortSignal =>
  signal === undefined ? ctx.closing : AbortSignal.any([signal, ctx.closing])

/** `subscribeToAll`: checks its options at once; the iterator rejects on its first `next()`. */
export const subscribeToAll = (
  ctx: SubscriptionContext,
  options: unknown,
): AsyncIterableIterator<SubscriptionMessage> => {
  const decoded = decodeRead('subscribeToAll', SubscribeToAllOptions, options)
  if (E.isLeft(decoded)) return failing(decoded.left)
  const o = decoded.right
  const types = checkTypeNames(ctx.upcasters, o.filter?.eventTypes, 'options.filter.eventTypes')
  if (E.isLeft(types)) return failing(types.left)
  const signal = untilEither(ctx, o.signal)
  const from = o.lower ?? 0
  return (async function* (): AsyncGenerator<SubscriptionMessage> {
    const end = Math.max(from, ctx.log.nextSequence())
    for await (const event of allEvents(
      ctx,
      paged(ctx.log, { from, to: end }),
      o.filter,
      undefined,
    )) {
      if (signal.aborted) return
      yield { type: 'event', event }
    }
    if (signal.aborted) return
    yield { type: 'caughtUp' }
    const live = ctx.log.follow({ from: end, signal })
    for await (const event of allEvents(ctx, live, o.filter, undefined)) {
      yield { type: 'event', event }
    }
  })()
}

/** `subscribeToStream`: as `subscribeToAll`, for one stream, in revisions. */
export const subscribeToStream = (
  ctx: SubscriptionContext,
  streamId: unknown,
  options: unknown,
): AsyncIterableIterator<SubscriptionMessage> => {
  const id = validateStreamId(streamId)
  if (E.isLeft(id)) return failing(id.left)
  const decoded = decodeRead('subscribeToStream', SubscribeToStreamOptions, options)
  if (E.isLeft(decoded)) return failing(decoded.left)
  const o = decoded.right
  const signal = untilEither(ctx, o.signal)
  const from = o.lower ?? 0
  return (async function* (): AsyncGenerator<SubscriptionMessage> {
    const end = ctx.log.nextSequence()
    const history = streamEvents(ctx, id.right, {
      from,
      to: undefined,
      reverse: false,
      limit: undefined,
      before: end,
      signal: undefined,
      what: 'subscribeToStream',
    })
    for await (const event of history) {
      if (signal.aborted) return
      yield { type: 'event', event }
    }
    if (signal.aborted) return
    yield { type: 'caughtUp' }
    for await (const entry of ctx.log.follow({ key: eventsKey(id.right), from: end, signal })) {
      const event = await visibleEvent(ctx, entry, undefined)
      if (event !== undefined && event.revision >= from) yield { type: 'event', event }
    }
  })()
}
