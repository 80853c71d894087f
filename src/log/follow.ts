/**
 * `Log.follow`: a live tail. It yields the entries from its start, then new ones as they commit,
 * woken by the writer (or a reader's refresh) instead of polling. A follower that has caught up
 * takes new entries from the hot tail (tail.ts); one behind it reads storage at its own pace. A
 * read of a shared store that lost its connection is tried again from where it stood, so that
 * nothing is delivered twice or skipped. It ends quietly when the log closes or `signal` aborts.
 */
import * as E from 'fp-ts/lib/Either.js'
import { keyBytes } from '../codec/keys.js'
import { closed, errorValueOf } from '../errors.js'
import { copyBytes } from '../codec/bytes.js'
import type { ChangeSignal } from './changes.js'
import type { FollowerCursor } from './metrics.js'
import { decodeStrict, FollowOptions, withLowerBound, type Visibility } from './options.js'
import { endOnClose, failing, scanAll, scanKey, type LogEntry, type ReadContext } from './read.js'
import { lostConnection, pause, READ_RETRY_MS } from './retry.js'
import type { HotTail } from './tail.js'
import type { Writer } from './writer.js'

/** What a follower needs of the log. */
export interface FollowParts {
  readonly ctx: ReadContext
  readonly writer: Pick<Writer, 'nextSequence' | 'durableSequence' | 'truncatedBefore'>
  readonly hot: Pick<HotTail, 'start' | 'read'>
  readonly changed: Pick<ChangeSignal, 'wait'>
  /** Where each follower stands while it reads, for `log.metrics()`. */
  readonly followers?: Set<FollowerCursor>
}

/**
 * Starts a follower. Options are checked and the start position fixed when `follow` is called,
 * not at the first `next()`: "the current end" means the end when the caller asked.
 */
export const follow = (log: FollowParts, input: unknown): AsyncIterableIterator<LogEntry> => {
  if (log.ctx.isClosed()) return failing(closed('log'))
  const decoded = withLowerBound(decodeStrict(FollowOptions, 'options', input))
  if (E.isLeft(decoded)) return failing(decoded.left)
  const o = decoded.right
  return tail(
    log,
    o.key === undefined ? undefined : keyBytes(o.key),
    o.from ?? log.writer.nextSequence(),
    o.visibility ?? 'all',
    o.signal,
  )
}

/**
 * The follower's loop: from `from` on, the entries of `key` (or of all keys) as they commit.
 * REQUIRES: `from` was fixed when the caller asked (see `follow`).
 */
async function* tail(
  log: FollowParts,
  key: Uint8Array | undefined,
  from: number,
  visibility: Visibility,
  signal: AbortSignal | undefined,
): AsyncGenerator<LogEntry> {
  const { ctx, writer, hot, changed } = log
  // Where the follower stands, seen by `log.metrics()` while it reads.
  const cursor: FollowerCursor = { position: from }
  let onAbort: () => void = () => undefined
  const aborted = new Promise<void>((resolve) => (onAbort = resolve))
  signal?.addEventListener('abort', onAbort, { once: true })
  const ended = (): boolean => ctx.isClosed() || signal?.aborted === true
  log.followers?.add(cursor)
  try {
    while (!ended()) {
      // Take the wake-up before reading, so a commit landing during the read is not missed.
      const wake = changed.wait()
      const upper = visibility === 'durable' ? writer.durableSequence() : Infinity
      let progressed = false
      if (cursor.position >= hot.start()) {
        // Caught up: the commits since `position` are all in memory.
        const { entries, next } = hot.read(cursor.position, upper, key, writer.truncatedBefore())
        for (const entry of entries) {
          if (ended()) return
          cursor.position = entry.sequence + 1
          progressed = true
          yield {
            key: copyBytes(entry.key),
            sequence: entry.sequence,
            value: copyBytes(entry.value),
          }
        }
        cursor.position = Math.max(cursor.position, next)
      } else {
        // Behind the tail: read storage. Everything below `end` was written before the read's
        // view is taken, so once the read is done the follower stands at `end` at least.
        const end = Math.min(writer.nextSequence(), upper)
        const range = { lower: cursor.position, upper: upper === Infinity ? undefined : upper }
        const entries =
          key === undefined
            ? scanAll(ctx, range, false, undefined)
            : scanKey(ctx, key, range, false, undefined)
        try {
          for await (const entry of endOnClose(ctx, entries)) {
            if (ended()) return
            cursor.position = entry.sequence + 1
            progressed = true
            yield entry
          }
        } catch (error) {
          if (!lostConnection(errorValueOf(error))) throw error
          // A shared store lost its connection: read on from `position` when it says it is
          // back (or a second later), so that nothing is delivered twice or skipped.
          await pause(Promise.race([changed.wait(), aborted]), READ_RETRY_MS)
          continue
        }
        cursor.position = Math.max(cursor.position, end)
      }
      if (!progressed) await Promise.race([wake, aborted])
    }
  } finally {
    log.followers?.delete(cursor)
    signal?.removeEventListener('abort', onAbort)
  }
}
