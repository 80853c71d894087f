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
 * `source` until `signal` aborts. From then on `next()` rejects with `ABORTED` — an entry that
 * arrives after the abort is dropped — and `source` is released through its `return()` as soon
 * as the signal fires.
 */
export const abortable = <A>(
  source: AsyncIterableIterator<A>,
  signal: AbortSignal | undefined,
  what: string,
): AsyncIterableIterator<A> => {
  if (signal === undefined) return source
  const release = (): void => {
    signal.removeEventListener('abort', release)
    // An async generator queues `return()` behind a `next()` in flight, so this never cuts a
    // step short; it only ends the iteration and lets the source close what it holds.
    source.return?.().catch(() => undefined)
  }
  signal.addEventListener('abort', release, { once: true })
  const stop = (): never => {
    release()
    throw toDeltalogError(aborted(what, signal.reason))
  }
  const self: AsyncIterableIterator<A> = {
    [Symbol.asyncIterator]: () => self,
    next: async () => {
      if (signal.aborted) stop()
      const result = await source.next()
      if (signal.aborted) stop()
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
