/**
 * A Storage adapter that simulates crashes and faults, for property tests of code that stores
 * data — deltalog's own engine, or a user's. It wraps the memory adapter and remembers every
 * written batch in order, and which of them are durable: a `sync` write makes it and every
 * batch before it durable, in prefix order, as RocksDB's write-ahead log does.
 *
 * `crash(mode)` returns the store a restarted process would find:
 * - `'process'` (the process was killed): every written batch survives — the OS still has it —
 *   but unsynced batches stay unsynced, so a later power loss can still take them;
 * - `'power'` (the machine lost power): the synced batches survive, plus a seeded-random prefix
 *   of the unsynced ones — whole batches only, never half of one.
 * The crashed store itself is dead afterwards: every call on it fails with `IO_ERROR`.
 *
 * Faults fail chosen operations with `IO_ERROR`: a write (nothing applied), a sync (the batch
 * is written but not made durable), a read, or an acknowledgement (the batch is applied, the
 * caller is told it failed).
 */
import * as E from 'fp-ts/lib/Either.js'
import * as O from 'fp-ts/lib/Option.js'
import * as TE from 'fp-ts/lib/TaskEither.js'
import { closed, ioError, type StorageError } from '../errors.js'
import { applyBatch, chunkedIterator, emptyTable, walk, type Table } from '../storage/memory.js'
import {
  copyBytes,
  validateBatch,
  validateIterateOptions,
  validateKey,
  validateKeys,
  type Batch,
  type Storage,
  type StorageIterator,
} from '../storage/port.js'
import { makeRandom } from './random.js'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** `'process'`: a killed process. `'power'`: a lost machine. */
export type CrashMode = 'process' | 'power'

/** What a fault fails. */
export type FaultKind =
  /** A write fails and applies nothing. */
  | 'write'
  /** A write asked to sync is applied but not made durable, and fails. */
  | 'sync'
  /** A `get`, `getMany` or iteration step fails. */
  | 'read'
  /** A write is applied (and synced when asked) but reports failure: the acknowledgement is lost. */
  | 'ack'

/** One written batch and whether it is durable. */
export interface WrittenBatch {
  readonly batch: Batch
  readonly synced: boolean
}

/** A crash-simulating store: a Storage plus the controls a test needs. */
export interface CrashStorage extends Storage {
  /**
   * The store a restarted process finds. For `'power'`, `seed` picks how many unsynced batches
   * survive; the same seed always picks the same number.
   */
  readonly crash: (mode: CrashMode, seed?: number) => CrashStorage
  /**
   * What `crash(mode, seed)` would return, without crashing this store: a look at what a
   * restart would find at this moment, while this store goes on.
   */
  readonly crashView: (mode: CrashMode, seed?: number) => CrashStorage
  /** Fails the next operation of this kind, after letting `skip` of them pass. */
  readonly failNext: (kind: FaultKind, skip?: number) => void
  /** Every batch written so far, in order, with its durability. */
  readonly batches: () => ReadonlyArray<WrittenBatch>
  /** How many batches are durable: always a prefix of `batches()`. */
  readonly durableCount: () => number
}

// -------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------

/** A new, empty crash-simulating store. */
export const openCrashStorage = (): CrashStorage => fromBatches([])

const fromBatches = (history: ReadonlyArray<WrittenBatch>): CrashStorage => {
  const table: Table = emptyTable()
  const written: WrittenBatch[] = []
  for (const entry of history) {
    applyBatch(table, entry.batch)
    written.push(entry)
  }
  let isClosed = false
  let crashed = false
  const faults: Array<{ kind: FaultKind; skip: number }> = []
  const open = new Set<StorageIterator>()

  /** Whether this operation is the one a pending fault of `kind` fails. */
  const faulted = (kind: FaultKind): boolean => {
    const at = faults.findIndex((f) => f.kind === kind)
    const fault = faults[at]
    if (fault === undefined) return false
    if (fault.skip > 0) {
      fault.skip--
      return false
    }
    faults.splice(at, 1)
    return true
  }

  const unavailable = (): O.Option<StorageError> =>
    crashed
      ? O.some(ioError('the process that owned this store crashed', new Error('crashed')))
      : isClosed
        ? O.some(closed('crash storage'))
        : O.none

  const guarded = <A>(run: () => E.Either<StorageError, A>): TE.TaskEither<StorageError, A> =>
    TE.fromIOEither(() => {
      const refused = unavailable()
      return O.isSome(refused) ? E.left(refused.value) : run()
    })

  const injected = (what: string): StorageError =>
    ioError(`injected ${what} fault`, new Error(what))

  const markSynced = (): void => {
    for (let i = written.length - 1; i >= 0; i--) {
      const entry = written[i]
      if (entry === undefined || entry.synced) break
      written[i] = { batch: entry.batch, synced: true }
    }
  }

  const read = <A>(f: () => E.Either<StorageError, A>): TE.TaskEither<StorageError, A> =>
    guarded(() => (faulted('read') ? E.left(injected('read')) : f()))

  const self: CrashStorage = {
    capabilities: { persistent: false, sync: true },
    get: (key) =>
      read(() =>
        E.map((k: Uint8Array) => O.map(copyBytes)(O.fromNullable(table.get(k))))(validateKey(key)),
      ),
    getMany: (keys) =>
      read(() =>
        E.map((ks: ReadonlyArray<Uint8Array>) =>
          ks.map((k) => O.map(copyBytes)(O.fromNullable(table.get(k)))),
        )(validateKeys(keys)),
      ),
    write: (batch, options) =>
      guarded(() => {
        const valid = validateBatch(batch)
        if (E.isLeft(valid)) return valid
        if (faulted('write')) return E.left(injected('write'))
        const apply = (synced: boolean): void => {
          if (valid.right.length > 0) {
            // Copies, so that later changes to the caller's arrays cannot rewrite history.
            const copy = valid.right.map((op) =>
              op.type === 'put'
                ? { type: 'put' as const, key: copyBytes(op.key), value: copyBytes(op.value) }
                : { type: 'del' as const, key: copyBytes(op.key) },
            )
            applyBatch(table, copy)
            written.push({ batch: copy, synced: false })
          }
          if (synced) markSynced()
        }
        if (options.sync && faulted('sync')) {
          apply(false)
          return E.left(injected('sync'))
        }
        apply(options.sync)
        return faulted('ack') ? E.left(injected('ack')) : E.right(undefined)
      }),
    iterator: (options) => {
      const refused = unavailable()
      if (O.isSome(refused)) return E.left(refused.value)
      return E.map((o: typeof options) => {
        const inner = chunkedIterator(
          walk(table.clone(), o),
          () => isClosed || crashed,
          'crash storage',
          open,
        )
        const it: StorageIterator = {
          next: () => (faulted('read') ? TE.left(injected('read')) : inner.next()),
          close: inner.close,
        }
        return it
      })(validateIterateOptions(options))
    },
    openIterators: () => open.size,
    close: () =>
      TE.fromIO(() => {
        isClosed = true
        open.clear()
      }),
    crash: (mode, seed = 0) => {
      crashed = true
      open.clear()
      return self.crashView(mode, seed)
    },
    crashView: (mode, seed = 0) => {
      const durable = self.durableCount()
      if (mode === 'process') return fromBatches([...written])
      const unsynced = written.length - durable
      const kept = makeRandom(seed).int(unsynced + 1)
      // What reached the disk is on the disk after the restart.
      return fromBatches(
        written.slice(0, durable + kept).map((entry) => ({ batch: entry.batch, synced: true })),
      )
    },
    failNext: (kind, skip = 0) => {
      faults.push({ kind, skip })
    },
    batches: () => [...written],
    durableCount: () => {
      let n = written.length
      while (n > 0 && written[n - 1]?.synced !== true) n--
      return n
    },
  }
  return self
}
