/**
 * The stream states kept in memory, the one stored longest ago dropped first: the writer decides
 * appends against them without a read, and a store with more streams than the limit reads the
 * dropped ones again from the log when it needs them.
 *
 * A state read from the log may be overtaken while it is read: a commit can land between the
 * read's look at the log and its answer. So a state read from the log is kept only if the writer
 * kept no state of that stream since the read began, and lost none it kept since (past the
 * limit, or by a clear after a failed write) (`mark`, `offer`); the writer's own states, decided
 * with each commit, are always kept (`remember`).
 */
import type { StreamState } from './rules.js'

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
   * writer kept that stream's state meanwhile, or lost one it kept meanwhile: the state read may
   * then be older than the log.
   */
  readonly offer: (streamId: string, state: StreamState, mark: number) => void
  /** Forgets every state: after a failed write, what storage holds is no longer known for sure. */
  readonly clear: () => void
}

export const makeStateCache = (limit = STATE_CACHE_LIMIT): StateCache => {
  // A Map iterates in insertion order: re-inserting on each store keeps the oldest first. Each
  // state carries the count of changes when it was kept: what the writer knew then.
  const states = new Map<string, { readonly state: StreamState; readonly at: number }>()
  // How many times the writer changed a state; and the newest change since lost — dropped past
  // the limit, or every one by a clear — which a read marked before it may not overwrite.
  let changes = 0
  let lostAt = 0
  const keep = (streamId: string, state: StreamState, at: number): void => {
    states.delete(streamId)
    states.set(streamId, { state, at })
    if (states.size > limit) {
      const [oldest] = states
      if (oldest !== undefined) {
        states.delete(oldest[0])
        lostAt = Math.max(lostAt, oldest[1].at)
      }
    }
  }
  return {
    get: (streamId) => states.get(streamId)?.state,
    remember: (streamId, state) => keep(streamId, state, ++changes),
    mark: () => changes,
    offer: (streamId, state, mark) => {
      // A state the writer kept since the read began is newer; one it kept and lost since may be.
      if (lostAt <= mark && !states.has(streamId)) keep(streamId, state, mark)
    },
    clear: () => {
      lostAt = ++changes
      states.clear()
    },
  }
}
