/**
 * The in-memory Storage adapter: an ordered map held in the process, for tests and ephemeral
 * logs. Keys are ordered by raw bytes. It keeps its data in a copy-on-write B+ tree, so an
 * iteration's consistent view is an O(1) clone of the tree taken when the iteration opens.
 * Keys and values are copied in and out, so callers can never alter stored bytes by mutating
 * their own arrays.
 */
import { createRequire } from 'node:module'
import type sortedBtree from 'sorted-btree'
import * as E from 'fp-ts/lib/Either.js'
import * as O from 'fp-ts/lib/Option.js'
import * as TE from 'fp-ts/lib/TaskEither.js'
import { pipe } from 'fp-ts/lib/function.js'
import { closed, toPromise, type StorageError } from '../errors.js'
import {
  disposeBy,
  validateBatch,
  validateIterateOptions,
  validateKey,
  validateKeys,
  type Batch,
  type DisposableStorage,
  type IterateOptions,
  type KeyValue,
  type StorageIterator,
} from './port.js'
import { copyBytes, compareBytes } from '../codec/bytes.js'
import { aboveLower, belowUpper } from './range.js'

// Loaded through require: the package is CommonJS with a `default` export, which ESM default
// imports resolve differently under Node and under bundling test runners.
const BTree = (createRequire(import.meta.url)('sorted-btree') as typeof sortedBtree).default

/** The sorted map the memory adapter keeps its pairs in. */
export type Table = InstanceType<typeof BTree<Uint8Array, Uint8Array>>

/** Pairs per iteration chunk. */
const CHUNK = 256

/** A new, empty table, ordered by raw bytes unless told otherwise. */
export const emptyTable = (
  compare: (a: Uint8Array, b: Uint8Array) => number = compareBytes,
): Table => new BTree<Uint8Array, Uint8Array>(undefined, compare)

/** Applies an already validated batch to a table, in order. */
export const applyBatch = (table: Table, batch: Batch): void => {
  for (const op of batch) {
    if (op.type === 'put') table.set(copyBytes(op.key), copyBytes(op.value))
    else table.delete(op.key)
  }
}

/** Walks a table (or a clone of one) over a range, in order, yielding copies. */
export function* walk(table: Table, options: IterateOptions): Generator<KeyValue> {
  let left = options.limit ?? Infinity
  if (left === 0) return
  const pairs = options.reverse
    ? table.entriesReversed(options.lte ?? options.lt, undefined, options.lte === undefined)
    : table.entries(options.gte ?? options.gt)
  for (const [key, value] of pairs) {
    if (options.reverse ? !aboveLower(options, key) : !belowUpper(options, key)) return
    if (options.reverse ? !belowUpper(options, key) : !aboveLower(options, key)) continue
    yield { key: copyBytes(key), value: copyBytes(value) }
    if (--left === 0) return
  }
}

/** A chunked StorageIterator over a generator, failing with `CLOSED` once `isClosed()`. */
export const chunkedIterator = (
  pairs: Iterator<KeyValue>,
  isClosed: () => boolean,
  what: string,
  open: Set<StorageIterator> = new Set(),
): StorageIterator => {
  let finished = false
  const self: StorageIterator = {
    next: () => () => {
      if (isClosed()) return Promise.resolve(E.left<StorageError>(closed(what)))
      const chunk: KeyValue[] = []
      while (!finished && chunk.length < CHUNK) {
        const step = pairs.next()
        if (step.done === true) finished = true
        else chunk.push(step.value)
      }
      return Promise.resolve(E.right(chunk.length === 0 ? O.none : O.some(chunk)))
    },
    close: () => {
      finished = true
      open.delete(self)
      return Promise.resolve()
    },
  }
  open.add(self)
  return self
}

/**
 * Opens a new, empty in-memory store, which `await using` closes. It never fails: the promise
 * is for one calling convention with the other openers.
 */
export const openMemoryStorage = (): Promise<DisposableStorage> => toPromise(openMemoryStorageTE())

/** {@link openMemoryStorage} as a TaskEither: the fp-ts form. */
export const openMemoryStorageTE = (): TE.TaskEither<StorageError, DisposableStorage> =>
  TE.fromIO(makeMemoryStorage)

/**
 * A new, empty in-memory store, made at once: the synchronous constructor behind
 * `openMemoryStorage`, for the crash-simulating store and tests that set up synchronously.
 */
export const makeMemoryStorage = (): DisposableStorage => {
  const table = emptyTable()
  let isClosed = false
  const open = new Set<StorageIterator>()
  const close = (): TE.TaskEither<StorageError, void> =>
    TE.fromIO(() => {
      isClosed = true
      open.clear()
    })
  const ifOpen = <A>(f: () => E.Either<StorageError, A>): TE.TaskEither<StorageError, A> =>
    TE.fromIOEither(() => (isClosed ? E.left(closed('memory storage')) : f()))

  return {
    capabilities: { persistent: false, sync: false },
    location: 'memory',
    get: (key) =>
      ifOpen(() =>
        pipe(
          validateKey(key),
          E.map((k) => O.map(copyBytes)(O.fromNullable(table.get(k)))),
        ),
      ),
    getMany: (keys) =>
      ifOpen(() =>
        pipe(
          validateKeys(keys),
          E.map((ks) => ks.map((k) => O.map(copyBytes)(O.fromNullable(table.get(k))))),
        ),
      ),
    write: (batch) =>
      ifOpen(() =>
        pipe(
          validateBatch(batch),
          E.map((ops) => applyBatch(table, ops)),
        ),
      ),
    iterator: (options) =>
      isClosed
        ? E.left(closed('memory storage'))
        : pipe(
            validateIterateOptions(options),
            E.map((o) =>
              chunkedIterator(walk(table.clone(), o), () => isClosed, 'memory storage', open),
            ),
          ),
    openIterators: () => open.size,
    close,
    [Symbol.asyncDispose]: disposeBy(close),
  }
}
