/**
 * Iterations of the RocksDB adapter. Each holds a native iterator, and with it a RocksDB
 * snapshot, until it ends or is closed; the binding hands over up to 1000 pairs (or about
 * 1 MiB) per round trip, which is one chunk of the port's iterator.
 */
import * as E from 'fp-ts/lib/Either.js'
import * as O from 'fp-ts/lib/Option.js'
import { closed, type StorageError } from '../errors.js'
import type { NativeHandle, NativeIteratorOptions, RocksBinding } from './binding.js'
import type { CallGuard } from './guard.js'
import type { IterateOptions, KeyValue, StorageIterator } from './port.js'
import { fromNative } from './rocksdbErrors.js'

// Bytes the binding may gather into one chunk; it also stops at 1000 pairs.
const HIGH_WATER_MARK = 1 << 20
// The addon reads an iterator's limit as a 32-bit integer; -1 means no limit.
const MAX_NATIVE_LIMIT = 0x7fffffff

/** The iterations of one open store: how each is ended when the store closes. */
export type OpenIterations = Set<() => Promise<void>>

/** What the binding reads for a range of the port. REQUIRES: `range` is validated. */
export const nativeRange = (range: IterateOptions): NativeIteratorOptions => {
  const { gt, gte, lt, lte, reverse, limit } = range
  return {
    reverse: reverse ?? false,
    limit: limit === undefined || limit > MAX_NATIVE_LIMIT ? -1 : limit,
    keyAsBuffer: true,
    valueAsBuffer: true,
    fillCache: false,
    highWaterMark: HIGH_WATER_MARK,
    ...(gt === undefined ? {} : { gt }),
    ...(gte === undefined ? {} : { gte }),
    ...(lt === undefined ? {} : { lt }),
    ...(lte === undefined ? {} : { lte }),
  }
}

/** An iteration that yields nothing and holds nothing (a limit of 0). */
export const emptyIterator: StorageIterator = {
  next: () => () => Promise.resolve(E.right(O.none)),
  close: () => Promise.resolve(),
}

/**
 * The port's iterator over a native one. Each step runs under the store's call guard, so the
 * store does not close under it; `close` ends the native iterator once, and is what the store
 * calls for every iteration still open when it closes.
 * REQUIRES: `native` was made by `binding.iterator_init` on a database that is open.
 */
export const openNativeIterator = (
  binding: RocksBinding,
  native: NativeHandle,
  calls: CallGuard,
  open: OpenIterations,
): StorageIterator => {
  let finished = false
  let ended: Promise<void> | undefined
  const close = (): Promise<void> => {
    finished = true
    ended ??= new Promise<void>((resolve) => {
      open.delete(close)
      binding.iterator_end(native, () => resolve())
    })
    return ended
  }
  open.add(close)
  const step = (): Promise<E.Either<StorageError, O.Option<ReadonlyArray<KeyValue>>>> =>
    new Promise((resolve) => {
      if (finished) return resolve(E.right(O.none))
      binding.iterator_next(native, (error, array, done) => {
        if (error) return resolve(E.left(fromNative('iterate', error)))
        finished = done
        const chunk = pairsOf(array)
        resolve(E.right(chunk.length === 0 ? O.none : O.some(chunk)))
      })
    })
  return {
    next: () => () =>
      ended !== undefined ? Promise.resolve(E.left(closed('iterator'))) : calls.guarded(step),
    close,
  }
}

/** The pairs of a chunk, in order: the binding returns `[value_n, key_n, …, value_1, key_1]`. */
const pairsOf = (array: ReadonlyArray<Buffer>): KeyValue[] => {
  const chunk: KeyValue[] = []
  for (let i = array.length - 1; i > 0; i -= 2) {
    chunk.push({ key: array[i] as Buffer, value: array[i - 1] as Buffer })
  }
  return chunk
}
