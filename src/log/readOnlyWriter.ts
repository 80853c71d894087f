/**
 * The writer of a log opened read-only: it writes nothing, and keeps the watermarks of the log
 * as it was last read, for the reads and follows of that log.
 */
import * as E from 'fp-ts/lib/Either.js'
import { readOnly, type DeltalogErrorValue } from '../errors.js'
import { NO_LOAD } from './metrics.js'
import type { Writer, WriterStart } from './writer.js'

/** The writer of a log opened read-only, and how it learns of commits made elsewhere. */
export interface ReadOnlyWriter extends Writer {
  /** Moves the watermarks to a later state of the log, as read from storage; never back. */
  readonly update: (state: Pick<WriterStart, 'truncation' | 'link'>) => void
}

/**
 * The writer of a log opened read-only: the watermarks of the log as it was last read — its next
 * sequence is one past its last commit, as no allocator hands out more — and every write
 * refused with `READ_ONLY` before anything is queued.
 */
export const makeReadOnlyWriter = (start: WriterStart): ReadOnlyWriter => {
  let truncation = start.truncation
  let link = start.link
  const end = (): number => Math.max(link.end, truncation.before)
  const refuse = <A>(): Promise<E.Either<DeltalogErrorValue, A>> =>
    Promise.resolve(E.left(readOnly('the log is open read-only (readOnly: true)', undefined)))
  return {
    nextSequence: end,
    durableSequence: end,
    truncatedBefore: () => truncation.before,
    head: () => link,
    append: refuse,
    flush: refuse,
    truncateBefore: refuse,
    appendAt: refuse,
    close: () => Promise.resolve(E.right(undefined)),
    load: () => NO_LOAD,
    update: (state) => {
      if (state.link.end >= link.end) link = state.link
      if (state.truncation.before >= truncation.before) truncation = state.truncation
    },
  }
}
