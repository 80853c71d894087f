/**
 * The stream states kept in memory, the one stored longest ago dropped first: the writer decides
 * appends against them without a read, and a store with more streams than the limit reads the
 * dropped ones again from the log when it needs them.
 */
import type { StreamState } from './plan.js'

/** The most stream states kept in memory. */
export const STATE_CACHE_LIMIT = 100_000

/** Stream states by stream id; see `makeStateCache`. */
export interface StateCache {
  readonly get: (streamId: string) => StreamState | undefined
  /** Keeps a stream's state as the newest, dropping the oldest past the limit. */
  readonly remember: (streamId: string, state: StreamState) => void
  /** Forgets every state: after a failed write, what storage holds is no longer known for sure. */
  readonly clear: () => void
}

export const makeStateCache = (limit = STATE_CACHE_LIMIT): StateCache => {
  // A Map iterates in insertion order: re-inserting on each store keeps the oldest first.
  const states = new Map<string, StreamState>()
  return {
    get: (streamId) => states.get(streamId),
    remember: (streamId, state) => {
      states.delete(streamId)
      states.set(streamId, state)
      if (states.size > limit) {
        const oldest = states.keys().next()
        if (oldest.done !== true) states.delete(oldest.value)
      }
    },
    clear: () => states.clear(),
  }
}
