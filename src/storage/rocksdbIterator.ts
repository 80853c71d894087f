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

/**
 * The iterations of one open store: how each is ended when the store closes. Each resolves with
 * whether its native iterator was let go of, and leaves the set once it is.
 */
export type OpenIterations = Set<() => Promise<boolean>>

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
 *
 * A step that fails (a damaged table, an I/O error) ends the iteration at once, and every later
 * step gives the same error. The addon never ends an iterator whose last step failed: it keeps it
 * marked busy, and queues its end only when a later step succeeds (binding.cc,
 * `CheckEndCallback`), while a step on a failed iterator aborts the process (RocksDB's `Next`
 * asserts that it is valid). So the iteration seeks back to the last key it yielded — a block
 * already read, so the seek lands — takes one step from there, which succeeds, and then ends.
 * When it yielded no key, no seek is safe: the native iterator is stranded, and `close` resolves
 * with false so that the store keeps its database open (see rocksdbStranded.ts).
 * REQUIRES: `native` was made by `binding.iterator_init` on a database that is open.
 */
export const openNativeIterator = (
  binding: RocksBinding,
  native: NativeHandle,
  calls: CallGuard,
  open: OpenIterations,
): StorageIterator => {
  let finished = false
  let failure: StorageError | undefined
  // The last key yielded, and the native step in flight (the end waits for it).
  let last: Uint8Array | undefined
  let stepping: Promise<unknown> = Promise.resolve()
  let ended: Promise<boolean> | undefined
  const release = (): Promise<boolean> => {
    finished = true
    ended ??= stepping
      .then(() =>
        failure === undefined ? endNative(binding, native) : recover(binding, native, last),
      )
      .then((released) => {
        if (released) open.delete(release)
        return released
      })
    return ended
  }
  open.add(release)
  const step = (): Promise<E.Either<StorageError, O.Option<ReadonlyArray<KeyValue>>>> => {
    if (failure !== undefined) return Promise.resolve(E.left(failure))
    if (finished) return Promise.resolve(E.right(O.none))
    const stepped = new Promise<E.Either<StorageError, O.Option<ReadonlyArray<KeyValue>>>>(
      (resolve) =>
        binding.iterator_next(native, (error, array, done) => {
          if (error) {
            failure = fromNative('iterate', error)
            return resolve(E.left(failure))
          }
          finished = done
          const chunk = pairsOf(array)
          last = chunk.at(-1)?.key ?? last
          resolve(E.right(chunk.length === 0 ? O.none : O.some(chunk)))
        }),
    )
    stepping = stepped
    // A failed iteration lets go of its native iterator now, not when its reader closes it.
    return stepped.then((result) => {
      if (E.isLeft(result)) void release()
      return result
    })
  }
  return {
    next: () => () =>
      ended !== undefined && failure === undefined
        ? Promise.resolve(E.left(closed('iterator')))
        : calls.guarded(step),
    close: () => release().then(() => undefined),
  }
}

/** Ends a native iterator whose last step succeeded; resolves with true once it has ended. */
const endNative = (binding: RocksBinding, native: NativeHandle): Promise<boolean> =>
  new Promise((resolve) => binding.iterator_end(native, () => resolve(true)))

/**
 * Ends a native iterator whose last step failed, if it can (see `openNativeIterator`): a seek
 * to `last`, the last key it yielded, one step, then the end. Resolves with false when the
 * iterator is stranded: it yielded no key, or the step from `last` failed too.
 */
const recover = async (
  binding: RocksBinding,
  native: NativeHandle,
  last: Uint8Array | undefined,
): Promise<boolean> => {
  if (last === undefined) return false
  try {
    binding.iterator_seek(native, last)
  } catch {
    return false
  }
  const stepped = await new Promise<boolean>((resolve) =>
    binding.iterator_next(native, (error) => resolve(!error)),
  )
  return stepped && endNative(binding, native)
}

/** The pairs of a chunk, in order: the binding returns `[value_n, key_n, …, value_1, key_1]`. */
const pairsOf = (array: ReadonlyArray<Buffer>): KeyValue[] => {
  const chunk: KeyValue[] = []
  for (let i = array.length - 1; i > 0; i -= 2) {
    chunk.push({ key: array[i] as Buffer, value: array[i - 1] as Buffer })
  }
  return chunk
}
