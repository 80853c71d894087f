/**
 * The Promise API over the engine: every TaskEither of `LogTE` run and turned into a promise
 * that rejects with `DeltalogError` and nothing else; iterators as they are (they throw
 * `DeltalogError` already); `Symbol.asyncDispose` for `await using`.
 */
import { toPromise } from '../errors.js'
import type { Log, LogTE } from './types.js'

/** The Promise API over `log`. */
export const facade = (log: LogTE): Log => {
  // One promise for every call: a second close during the first, or after it, gets the same.
  let closing: Promise<void> | undefined
  const close = (): Promise<void> => (closing ??= toPromise(log.close()))
  return {
    append: (records) => toPromise(log.append(records)),
    appendAt: (entries) => toPromise(log.appendAt(entries)),
    flush: () => toPromise(log.flush()),
    nextSequence: log.nextSequence,
    durableSequence: log.durableSequence,
    head: log.head,
    scan: (options) => log.scan(options),
    count: (options) => toPromise(log.count(options)),
    follow: (options) => log.follow(options),
    keys: (options) => log.keys(options),
    truncateBefore: (sequence) => toPromise(log.truncateBefore(sequence)),
    close,
    metrics: log.metrics,
    [Symbol.asyncDispose]: close,
  }
}
