/**
 * The log's bounded reads as callers call them — `scan`, `count` and `keys`: options decoded,
 * the range fixed (`after` made `from`, durable visibility applied), the read ended quietly when
 * the log closes under it, and stopped with `ABORTED` when the caller's signal aborts. The reads
 * themselves are in read.ts.
 */
import * as E from 'fp-ts/lib/Either.js'
import type * as TE from 'fp-ts/lib/TaskEither.js'
import { keyBytes } from '../codec/keys.js'
import { closed, errorValueOf, type DeltalogErrorValue } from '../errors.js'
import { abortable } from './abort.js'
import {
  CountOptions,
  decodeStrict,
  KeysOptions,
  ScanOptions,
  withLowerBound,
  type Visibility,
} from './options.js'
import {
  countEntries,
  endOnClose,
  failing,
  scanAll,
  scanKey,
  type LogEntry,
  type ReadContext,
  type SequenceRange,
} from './read.js'
import { listKeys } from './keys.js'
import type { Writer } from './writer.js'

/** What bounded reads need of the log. */
export interface BoundedReads {
  readonly ctx: ReadContext
  readonly writer: Pick<Writer, 'durableSequence'>
}

const toRange = (from: number | undefined, to: number | undefined): SequenceRange => ({
  lower: from ?? 0,
  upper: to,
})

/** The exclusive end of a read: `to`, and below the durable watermark for durable visibility. */
const durableUpper = (
  reads: BoundedReads,
  visibility: Visibility | undefined,
  to: number | undefined,
): number | undefined =>
  visibility === 'durable' ? Math.min(to ?? Infinity, reads.writer.durableSequence()) : to

/** `Log.scan`: entries of one key or of all, in a range, in order or in reverse. */
export const scan = (reads: BoundedReads, input: unknown): AsyncIterableIterator<LogEntry> => {
  const { ctx } = reads
  if (ctx.isClosed()) return failing(closed('log'))
  const decoded = withLowerBound(decodeStrict(ScanOptions, 'options', input))
  if (E.isLeft(decoded)) return failing(decoded.left)
  const o = decoded.right
  const upper = durableUpper(reads, o.visibility, o.to)
  const range = toRange(o.from, upper === Infinity ? undefined : upper)
  const reverse = o.reverse ?? false
  const entries =
    o.key === undefined
      ? scanAll(ctx, range, reverse, o.limit)
      : scanKey(ctx, keyBytes(o.key), range, reverse, o.limit)
  return abortable(endOnClose(ctx, entries), o.signal, 'scan')
}

/** `Log.count`: the exact number of entries in a range, given as for `scan`. */
export const count =
  (reads: BoundedReads, input: unknown): TE.TaskEither<DeltalogErrorValue, number> =>
  () => {
    const { ctx } = reads
    if (ctx.isClosed()) return Promise.resolve(E.left(closed('log')))
    const decoded = withLowerBound(decodeStrict(CountOptions, 'options', input))
    if (E.isLeft(decoded)) return Promise.resolve(decoded)
    const o = decoded.right
    return countEntries(
      ctx,
      o.key === undefined ? undefined : keyBytes(o.key),
      toRange(o.from, o.to),
      o.signal,
    ).then(E.right, (error: unknown) => E.left(errorValueOf(error)))
  }

/** `Log.keys`: the distinct keys with entries (starting with `prefix`), in byte order. */
export const keys = (reads: BoundedReads, input: unknown): AsyncIterableIterator<Uint8Array> => {
  const { ctx } = reads
  if (ctx.isClosed()) return failing(closed('log'))
  const decoded = decodeStrict(KeysOptions, 'options', input)
  if (E.isLeft(decoded)) return failing(decoded.left)
  const { prefix, signal } = decoded.right
  const listed = listKeys(ctx, prefix === undefined ? undefined : keyBytes(prefix))
  return abortable(endOnClose(ctx, listed), signal, 'keys')
}
