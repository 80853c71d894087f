/**
 * From a stream's revision to its position in the log. Revisions are dense per stream, but a
 * stream's events are spread over the log's sequences among other streams' events, so finding
 * a revision is a bisection over positions — a few seeks, never a scan of the stream.
 */
import { orThrow } from '../errors.js'
import type { Log } from '../openLog.js'
import { decodeEvent, eventsKey } from './envelope.js'
import { firstFrom, lastOf } from './streams.js'

/**
 * The smallest position of an event of the stream with a revision at or above `revision`, or
 * undefined when the stream has no such event. Deleted events count: callers hide them.
 */
export const seekRevision = async (
  log: Log,
  streamId: string,
  revision: number,
): Promise<number | undefined> => {
  const key = eventsKey(streamId)
  const revisionAt = (value: Uint8Array): number => orThrow(decodeEvent(value)).revision
  const first = await firstFrom(log, key, 0)
  const last = await lastOf(log, key)
  if (first === undefined || last === undefined) return undefined
  if (revisionAt(last.value) < revision) return undefined
  // Reading from the first event kept, as most reads do, needs no search.
  if (revisionAt(first.value) >= revision) return first.sequence
  // Revisions grow with positions: bisect positions, one seek per step.
  let lo = first.sequence
  let hi = last.sequence
  let found = last.sequence
  while (lo <= hi) {
    const mid = lo + Math.floor((hi - lo) / 2)
    const probe = await firstFrom(log, key, mid)
    if (probe === undefined) break
    if (revisionAt(probe.value) >= revision) {
      found = probe.sequence
      hi = mid - 1
    } else {
      lo = probe.sequence + 1
    }
  }
  return found
}
