/**
 * What every adapter's `close()` needs: calls in flight are counted, new ones are refused with
 * `CLOSED` once closing starts, and closing waits until the last one has returned, so that a
 * native handle or a connection pool is never released under a call.
 */
import * as E from 'fp-ts/lib/Either.js'
import { closed, type StorageError } from '../errors.js'

export interface CallGuard {
  /** Whether calls are still taken. */
  readonly isOpen: () => boolean
  /** Whether closing has finished. */
  readonly isClosed: () => boolean
  /** Runs `run` unless closing has started, counting it until it returns. */
  readonly guarded: <A>(
    run: () => Promise<E.Either<StorageError, A>>,
  ) => Promise<E.Either<StorageError, A>>
  /** Refuses new calls from now on; resolves once every call in flight has returned. */
  readonly drain: () => Promise<void>
  /** Marks closing finished. */
  readonly finish: () => void
}

export const makeCallGuard = (what: string): CallGuard => {
  let state: 'open' | 'closing' | 'closed' = 'open'
  let inFlight = 0
  let drained: (() => void) | undefined
  return {
    isOpen: () => state === 'open',
    isClosed: () => state === 'closed',
    guarded: async (run) => {
      if (state !== 'open') return E.left(closed(what))
      inFlight++
      try {
        return await run()
      } finally {
        if (--inFlight === 0) drained?.()
      }
    },
    drain: async () => {
      if (state === 'open') state = 'closing'
      if (inFlight > 0) await new Promise<void>((resolve) => (drained = resolve))
    },
    finish: () => {
      state = 'closed'
    },
  }
}
