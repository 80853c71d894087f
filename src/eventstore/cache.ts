/**
 * The stream states kept in memory, the one stored longest ago dropped first: the writer decides
 * appends against them without a read, and a store with more streams than the limit reads the
 * dropped ones again from the log when it needs them.
 *
 * A state read from the log may be overtaken while it is read: a commit can land between the
 * read's look at the log and its answer. So a state read from the log is kept only if the writer
 * changed no state since the read began (`mark`, `offer`); the writer's own states, decided with
 * each commit, are always kept (`remember`).
 */
import type { StreamState } from './plan.js'

/** The most stream states kept in memory. */
export const STATE_CACHE_LIMIT = 100_000

/** Stream states by stream id; see `makeStateCache`. */
export interface StateCache {
  readonly get: (streamId: string) => StreamState | undefined
  /** Keeps a state the writer committed, as the newest, dropping the oldest past the limit. */
  readonly remember: (streamId: string, state: StreamState) => void
  /** Taken before a state is read from the log, for `offer`. */
  readonly mark: () => number
  /**
   * Keeps a state read from the log since `mark` was taken, as `remember` does — unless the
   * writer remembered or cleared meanwhile: the state may then be older than the log.
   */
  readonly offer: (streamId: string, state: StreamState, mark: number) => void
  /** Forgets every state: after a failed write, what storage holds is no longer known for sure. */
  readonly clear: () => void
}

export const makeStateCache = (limit = STATE_CACHE_LIMIT): StateCache => {
  // A Map iterates in insertion order: re-inserting on each store keeps the oldest first.
  const states = new Map<string, StreamState>()
  // How many times the writer changed the states: a read's mark is stale once this moved.
  let changes = 0
  const keep = (streamId: string, state: StreamState): void => {
    states.delete(streamId)
    states.set(streamId, state)
    if (states.size > limit) {
      const oldest = states.keys().next()
      if (oldest.done !== true) states.delete(oldest.value)
    }
  }
  return {
    get: (streamId) => states.get(streamId),
    remember: (streamId, state) => {
      changes++
      keep(streamId, state)
    },
    mark: () => changes,
    offer: (streamId, state, mark) => {
      if (mark === changes) keep(streamId, state)
    },
    clear: () => {
      changes++
      states.clear()
    },
  }
}
