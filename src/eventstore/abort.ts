/**
 * How a bounded read stops when the caller's signal aborts: its next step rejects with
 * `ABORTED` (`aborted` in src/errors.ts), and the log iterator under it is released at once,
 * not when the reader next asks. Live reads (the subscriptions) do not use this: they end
 * quietly on abort.
 */
import { aborted, toDeltalogError } from '../errors.js'

/** Throws `ABORTED` for `what` if `signal` has aborted. */
export const stopIfAborted = (signal: AbortSignal | undefined, what: string): void => {
  if (signal?.aborted === true) throw toDeltalogError(aborted(what, signal.reason))
}

/**
 * `source` until `signal` aborts: then `source` is released through its `return()` at once,
 * and the next `next()` — or one in flight — rejects with `ABORTED` for `what` (an entry that
 * arrives after the abort is dropped); after that the iterator is done.
 */
export const abortable = <A>(
  source: AsyncIterableIterator<A>,
  signal: AbortSignal | undefined,
  what: string,
): AsyncIterableIterator<A> => {
  if (signal === undefined) return source
  const release = (): void => {
    // An async generator queues `return()` behind a `next()` in flight, so this never cuts a
    // step short; one not started yet ends without running.
    source.return?.().catch(() => undefined)
  }
  if (signal.aborted) release()
  else signal.addEventListener('abort', release, { once: true })
  let over = false
  const self: AsyncIterableIterator<A> = {
    [Symbol.asyncIterator]: () => self,
    next: async () => {
      if (over) return { done: true, value: undefined }
      const result = await source.next()
      if (signal.aborted) {
        over = true
        throw toDeltalogError(aborted(what, signal.reason))
      }
      if (result.done === true) signal.removeEventListener('abort', release)
      return result
    },
    return: async () => {
      signal.removeEventListener('abort', release)
      await source.return?.()
      return { done: true, value: undefined }
    },
  }
  return self
}
