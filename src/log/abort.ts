/**
 * The caller's `signal` on a bounded read (the log's `scan`, `keys`, `count`; the event store's
 * `readStream`, `readAll`, `aggregateStream`): once it aborts, no `next()` resolves any more —
 * the next one (or the one in flight) rejects with `ABORTED` — and the read lets go of the store
 * at once: of its storage iterator when it waits between two `next()`s, as soon as the chunk in
 * flight arrived otherwise. Live reads (`follow`, the subscriptions) end quietly on abort
 * instead, and do not use this.
 */
import { aborted, toDeltalogError } from '../errors.js'

/**
 * `source`, stopped by `signal` as the module comment says; `what` names the read in the error.
 * `source` as it is when there is no signal.
 * REQUIRES: nothing else calls `source`'s `next()` or `return()`.
 */
export const abortable = <A>(
  source: AsyncIterableIterator<A>,
  signal: AbortSignal | undefined,
  what: string,
): AsyncIterableIterator<A> => {
  if (signal === undefined) return source
  let done = false
  let inFlight = false
  let released: Promise<void> | undefined
  // Releasing twice would be harmless, but this way an abort's release is awaited by the next().
  const release = (): Promise<void> =>
    (released ??= Promise.resolve(source.return?.()).then(
      () => undefined,
      () => undefined,
    ))
  // Between two next()s the source is suspended, and returning it closes its storage iterator.
  const onAbort = (): void => {
    if (!inFlight) void release()
  }
  signal.addEventListener('abort', onAbort, { once: true })
  const finish = (): void => {
    done = true
    signal.removeEventListener('abort', onAbort)
  }
  const fail = async (): Promise<never> => {
    finish()
    await release()
    throw toDeltalogError(aborted(what, signal.reason))
  }
  const self: AsyncIterableIterator<A> = {
    [Symbol.asyncIterator]: () => self,
    next: async () => {
      if (done) return { done: true, value: undefined }
      if (signal.aborted) return fail()
      inFlight = true
      let result: IteratorResult<A>
      try {
        result = await source.next()
      } catch (error) {
        finish()
        throw error
      } finally {
        inFlight = false
      }
      if (signal.aborted) return fail()
      if (result.done === true) finish()
      return result
    },
    return: async () => {
      finish()
      await release()
      return { done: true, value: undefined }
    },
  }
  return self
}
