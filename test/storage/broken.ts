// Deliberately broken Storage adapters. Each gets one thing wrong; the conformance suite must
// catch every one of them, which proves that the suite can fail.
import * as E from 'fp-ts/lib/Either.js'
import * as O from 'fp-ts/lib/Option.js'
import * as TE from 'fp-ts/lib/TaskEither.js'
import { closed, type StorageError } from '../../src/errors.js'
import { applyBatch, chunkedIterator, emptyTable, walk } from '../../src/storage/memory.js'
import {
  disposeBy,
  validateBatch,
  validateIterateOptions,
  validateKey,
  validateKeys,
  validateOp,
  type DisposableStorage,
  type StorageIterator,
} from '../../src/storage/port.js'
import type { Harness } from './conformance.js'

interface Flaws {
  /** Orders keys by their UTF-8 decoding instead of raw bytes. */
  readonly stringOrder?: boolean
  /** Applies a batch op by op, validating as it goes: a bad op leaves the earlier ones applied. */
  readonly halfBatch?: boolean
  /** Iterates the live table instead of a snapshot. */
  readonly noSnapshot?: boolean
  /** Never counts an iterator as released. */
  readonly leakIterators?: boolean
}

const utf8 = new TextDecoder()
const compareAsStrings = (a: Uint8Array, b: Uint8Array): number => {
  const x = utf8.decode(a)
  const y = utf8.decode(b)
  return x < y ? -1 : x > y ? 1 : 0
}

const openBroken = (flaws: Flaws): DisposableStorage => {
  const table = emptyTable(flaws.stringOrder ? compareAsStrings : undefined)
  let isClosed = false
  const open = new Set<StorageIterator>()
  const close = (): TE.TaskEither<StorageError, void> =>
    TE.fromIO(() => {
      isClosed = true
    })
  const guard = <A>(f: () => E.Either<StorageError, A>): TE.TaskEither<StorageError, A> =>
    TE.fromIOEither(() => (isClosed ? E.left(closed('broken storage')) : f()))
  return {
    capabilities: { persistent: false, sync: false },
    get: (key) =>
      guard(() =>
        E.map((k: Uint8Array) => O.map((v: Uint8Array) => v.slice())(O.fromNullable(table.get(k))))(
          validateKey(key),
        ),
      ),
    getMany: (keys) =>
      guard(() =>
        E.map((ks: ReadonlyArray<Uint8Array>) =>
          ks.map((k) => O.map((v: Uint8Array) => v.slice())(O.fromNullable(table.get(k)))),
        )(validateKeys(keys)),
      ),
    write: (batch) =>
      guard(() => {
        if (!flaws.halfBatch) return E.map(() => applyBatch(table, batch))(validateBatch(batch))
        for (const [i, op] of batch.entries()) {
          const error = validateOp(op, `batch[${i}]`)
          if (O.isSome(error)) return E.left(error.value)
          applyBatch(table, [op])
        }
        return E.right(undefined)
      }),
    iterator: (options) =>
      isClosed
        ? E.left(closed('broken storage'))
        : E.map(() => {
            const it = chunkedIterator(
              walk(flaws.noSnapshot ? table : table.clone(), options),
              () => isClosed,
              'broken storage',
              flaws.leakIterators ? new Set() : open,
            )
            if (flaws.leakIterators) open.add(it)
            return it
          })(validateIterateOptions(options)),
    openIterators: () => open.size,
    close,
    [Symbol.asyncDispose]: disposeBy(close),
  }
}

export const brokenHarness = (name: string, flaws: Flaws): Harness => ({
  name,
  persistent: false,
  create: () => {
    const storage = openBroken(flaws)
    return Promise.resolve({
      storage,
      reopen: () => TE.left(new Error('not persistent')),
      dispose: async () => {
        await storage.close()()
      },
    })
  },
})
