/**
 * A store opened with `readOnly: true`, typically in another process than its writer's. It
 * writes nothing — not even the store's marker —, refuses every write before anything is
 * queued, and keeps no stream state that a writer elsewhere may have changed since it was read:
 * such a writer's deletes never reach this process's cache, so a state kept across calls could
 * show events a delete hid.
 */
import { closed, notALog, readOnly, toDeltalogError } from '../errors.js'
import type { Log } from '../openLog.js'
import { makeStateCache, type StateCache } from './cache.js'
import type { Streams } from './streams.js'
import type { Writer } from './writer.js'

/**
 * A read-only open of a log without the store's marker: an empty log is a store nothing was
 * written to yet (its writer writes the marker with its first open), and it opens; a log that
 * holds entries is some other log's, and a reader cannot mark it, so it is `NOT_A_LOG` (the
 * store then closes the log if it opened it).
 * REQUIRES: `log` holds no marker.
 */
export const openUnmarked = async (log: Log): Promise<void> => {
  for await (const _ of log.scan({ limit: 1 })) {
    throw toDeltalogError(
      notALog(
        "the log holds entries but not the event store's marker ($eventstore): it is no event store's log, and a read-only open cannot make it one (a store opened on it without readOnly would)",
      ),
    )
  }
}

/** The writer of a read-only store: every request refused, `READ_ONLY` (`CLOSED` once closed). */
export const refusingWriter = (): Writer => {
  let isClosed = false
  return {
    submit: () =>
      Promise.reject(
        toDeltalogError(
          isClosed
            ? closed('event store')
            : readOnly('the event store is open read-only (readOnly: true)', undefined),
        ),
      ),
    close: () => {
      isClosed = true
      return Promise.resolve()
    },
  }
}

/**
 * The context each read or subscription of a store gets: a writer's shares the store's cache,
 * which its commits keep current; a reader's has a cache of its own (see `untilMoved`).
 */
export const readsOf = <C extends Streams>(ctx: C, isReadOnly: boolean): (() => C) =>
  isReadOnly ? () => ({ ...ctx, states: untilMoved(() => ctx.log.nextSequence()) }) : () => ctx

/**
 * A cache for one call of a reader, which forgets every state once the log's end moves: a read
 * never serves a state older than the call, and a subscription none older than the last commit
 * its log has seen. (States read before the move and offered after it are refused too: `clear`
 * counts as a change they may not overwrite, see cache.ts.)
 */
const untilMoved = (end: () => number): StateCache => {
  const cache = makeStateCache()
  let seen = end()
  const current = (): StateCache => {
    const now = end()
    if (now !== seen) {
      seen = now
      cache.clear()
    }
    return cache
  }
  return {
    get: (streamId) => current().get(streamId),
    remember: (streamId, state) => current().remember(streamId, state),
    mark: () => current().mark(),
    offer: (streamId, state, mark) => current().offer(streamId, state, mark),
    clear: () => cache.clear(),
  }
}
