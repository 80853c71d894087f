/**
 * A Storage adapter that simulates crashes and faults, for property tests of code that stores
 * data — deltalog's own engine, or a user's. It wraps the memory adapter and remembers every
 * written batch in order, and which of them are durable: a `sync` write makes it and every
 * batch before it durable, in prefix order, as RocksDB's write-ahead log does
 * (crashHistory.ts).
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
 * caller is told it failed) (crashFaults.ts). A fault or crash mode that is not one of these is
 * refused with `INVALID_ARGUMENT`: a misspelt fault must fail the test, not let it pass untested
 * (crashOptions.ts).
 *
 * Off by default, `maxDelayTurns` makes the store slow, reproducibly: each write resolves after
 * a seeded-random number of event-loop turns, so that the code under test meets its writes in
 * flight — commits overlapping, queueing and going idle — in every order. A delayed write is
 * applied when it is called (reads see it, a process kill keeps it) and becomes durable when it
 * resolves; writes resolve, and become durable, in the order they were called, so durability
 * stays a prefix of the history, as the callers of a write-ahead log rely on.
 */
import * as E from 'fp-ts/lib/Either.js'
import * as O from 'fp-ts/lib/Option.js'
import * as TE from 'fp-ts/lib/TaskEither.js'
import {
  closed,
  errorValueOf,
  ioError,
  type DeltalogErrorValue,
  type StorageError,
} from '../errors.js'
import { chunkedIterator, emptyTable, walk, type Table } from '../storage/memory.js'
import {
  disposeBy,
  validateBatch,
  validateIterateOptions,
  validateKey,
  validateKeys,
  type Batch,
  type IterateOptions,
  type DisposableStorage,
  type StorageIterator,
} from '../storage/port.js'
import { copyBytes } from '../codec/bytes.js'
import {
  makeBatchRecord,
  restartSeed,
  survivors,
  type BatchRecord,
  type CrashMode,
  type WrittenBatch,
} from './crashHistory.js'
import { injected, makeFaults, type FaultKind, type Faults } from './crashFaults.js'
import {
  checkCount,
  checkKind,
  checkMode,
  checkOptions,
  checkSeed,
  type CrashStorageOptions,
} from './crashOptions.js'
import { makeRandom, type Random } from './random.js'

export type { CrashMode, WrittenBatch } from './crashHistory.js'
export type { FaultKind } from './crashFaults.js'
export type { CrashStorageOptions } from './crashOptions.js'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/**
 * A crash-simulating store: a Storage plus the controls a test needs, which `await using`
 * closes. The controls are synchronous: a crash computes a new in-memory store at once.
 */
export interface CrashStorage extends DisposableStorage {
  /**
   * The store a restarted process finds. For `'power'`, `seed` picks how many unsynced batches
   * survive; the same seed always picks the same number. The new store keeps this one's options
   * (its delays drawn from a seed of their own).
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

/** One store's state, shared by the functions that make up its calls. */
interface State {
  readonly options: Required<CrashStorageOptions>
  readonly table: Table
  readonly record: BatchRecord
  readonly faults: Faults
  readonly random: Random
  /** Open iterations: what `openIterators` counts. */
  readonly open: Set<StorageIterator>
  /** Calls whose result waits for a delay; `close` waits for them. */
  readonly inFlight: Set<Promise<unknown>>
  isClosed: boolean
  crashed: boolean
  /** The last write to resolve: each write resolves after it, so in call order. */
  lastWrite: Promise<unknown>
}

// -------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------

/**
 * Opens a new, empty crash-simulating store. With no options every call resolves in the turn
 * it was made; `{ seed, maxDelayTurns }` delays each write by a seeded-random number of
 * event-loop turns (and each read too with `delayReads: true`), so that a test meets writes in
 * flight. Rejects with a `DeltalogError` `INVALID_ARGUMENT` for an option it does not know or a
 * value out of range.
 */
export const openCrashStorage = (options: CrashStorageOptions = {}): Promise<CrashStorage> =>
  // What the constructor throws, the executor turns into the rejection.
  new Promise((resolve) => resolve(makeCrashStorage(options)))

/** `openCrashStorage` as a TaskEither, for `deltalog/fp`. */
export const openCrashStorageTE = (
  options: CrashStorageOptions = {},
): TE.TaskEither<DeltalogErrorValue, CrashStorage> =>
  TE.tryCatch(() => openCrashStorage(options), errorValueOf)

/**
 * `openCrashStorage`, made at once: the synchronous constructor, for tests that set up
 * synchronously. Throws what `openCrashStorage` rejects with.
 */
export const makeCrashStorage = (options: CrashStorageOptions = {}): CrashStorage =>
  fromBatches([], checkOptions(options))

/** A store that starts with `history`. REQUIRES: `options` passed `checkOptions`. */
const fromBatches = (
  history: ReadonlyArray<WrittenBatch>,
  options: Required<CrashStorageOptions>,
): CrashStorage => {
  const table = emptyTable()
  const state: State = {
    options,
    table,
    record: makeBatchRecord(table, history),
    faults: makeFaults(),
    random: makeRandom(options.seed),
    open: new Set(),
    inFlight: new Set(),
    isClosed: false,
    crashed: false,
    lastWrite: Promise.resolve(),
  }
  const close = (): TE.TaskEither<StorageError, void> => () => closeStore(state)
  const self: CrashStorage = {
    capabilities: { persistent: false, sync: true },
    location: 'memory',
    get: (key) =>
      read(state, () =>
        E.map((k: Uint8Array) => O.map(copyBytes)(O.fromNullable(table.get(k))))(validateKey(key)),
      ),
    getMany: (keys) =>
      read(state, () =>
        E.map((ks: ReadonlyArray<Uint8Array>) =>
          ks.map((k) => O.map(copyBytes)(O.fromNullable(table.get(k)))),
        )(validateKeys(keys)),
      ),
    write:
      (batch, { sync }) =>
      () =>
        write(state, batch, sync),
    iterator: (iterateOptions) => iterator(state, iterateOptions),
    openIterators: () => state.open.size,
    close,
    [Symbol.asyncDispose]: disposeBy(close),
    crash: (mode, seed = 0) => {
      const view = self.crashView(mode, seed)
      state.crashed = true
      state.open.clear()
      return view
    },
    crashView: (mode, seed = 0) => restarted(state, checkMode(mode), checkSeed(seed)),
    failNext: (kind, skip = 0) =>
      state.faults.add(
        checkKind(kind),
        checkCount(skip, 'skip', 'how many operations of this kind to let pass'),
      ),
    batches: state.record.batches,
    durableCount: state.record.durableCount,
  }
  return self
}

/** The store a restart after a crash of `mode` finds: a new store, with delays of its own. */
const restarted = (state: State, mode: CrashMode, seed: number): CrashStorage =>
  fromBatches(survivors(state.record, mode, seed), {
    ...state.options,
    seed: restartSeed(state.options.seed, state.record.batches().length, mode, seed),
  })

// -------------------------------------------------------------------------------------
// calls
// -------------------------------------------------------------------------------------

const crashedError = (): StorageError =>
  ioError('the process that owned this store crashed', new Error('crashed'))

/** Why a call is refused now, if it is. */
const unavailable = (state: State): O.Option<StorageError> =>
  state.crashed ? O.some(crashedError()) : state.isClosed ? O.some(closed('crash storage')) : O.none

/** Resolves after `n` turns of the event loop (`setImmediate` hops). */
const turns = (n: number): Promise<void> =>
  new Promise((resolve) => {
    const step = (left: number): void => {
      if (left <= 0) resolve()
      else setImmediate(() => step(left - 1))
    }
    step(n)
  })

/** A write's delay, or undefined when calls resolve in the turn they are made. */
const delay = ({ options, random }: State): Promise<void> | undefined =>
  options.maxDelayTurns === 0 ? undefined : turns(random.int(options.maxDelayTurns + 1))

const readDelay = (state: State): Promise<void> | undefined =>
  state.options.delayReads ? delay(state) : undefined

/**
 * Settles a call: at once without delays, else once `wait` is over. A call still waiting
 * when the store crashes never returns to its caller's process: it fails as crashed.
 */
const settle = <A>(
  state: State,
  wait: Promise<unknown> | undefined,
  result: () => E.Either<StorageError, A>,
): Promise<E.Either<StorageError, A>> => {
  if (wait === undefined) return Promise.resolve(result())
  const done = wait.then(() => (state.crashed ? E.left(crashedError()) : result()))
  state.inFlight.add(done)
  void done.then(() => state.inFlight.delete(done))
  return done
}

/** A read: refused when the store is down, failed by a read fault, delayed if asked. */
const read =
  <A>(state: State, f: () => E.Either<StorageError, A>): TE.TaskEither<StorageError, A> =>
  () => {
    const refused = unavailable(state)
    if (O.isSome(refused)) return Promise.resolve(E.left(refused.value))
    const result = state.faults.take('read') ? E.left(injected('read')) : f()
    return settle(state, readDelay(state), () => result)
  }

/**
 * A write: applied and recorded when called (unless a write fault fails it), durable when it
 * resolves if `sync`, resolved after every write called before it.
 */
const write = (
  state: State,
  batch: Batch,
  sync: boolean,
): Promise<E.Either<StorageError, void>> => {
  const refused = unavailable(state)
  if (O.isSome(refused)) return Promise.resolve(E.left(refused.value))
  const valid = validateBatch(batch)
  if (E.isLeft(valid)) return Promise.resolve(valid)
  // Faults are matched to writes in call order, whatever the delays.
  const { faults, record } = state
  const failWrite = faults.take('write')
  const failSync = !failWrite && sync && faults.take('sync')
  const failAck = !failWrite && !failSync && faults.take('ack')
  const end = failWrite ? record.batches().length : record.record(valid.right)
  const wait = delay(state)
  if (wait !== undefined) state.lastWrite = Promise.all([state.lastWrite, wait])
  return settle(state, wait === undefined ? undefined : state.lastWrite, () => {
    if (failWrite) return E.left(injected('write'))
    if (failSync) return E.left(injected('sync'))
    if (sync) record.markSynced(end)
    return failAck ? E.left(injected('ack')) : E.right(undefined)
  })
}

/** An iteration over a snapshot of the table, each step subject to read faults and delays. */
const iterator = (
  state: State,
  options: IterateOptions,
): E.Either<StorageError, StorageIterator> => {
  const refused = unavailable(state)
  if (O.isSome(refused)) return E.left(refused.value)
  return E.map((o: IterateOptions): StorageIterator => {
    const inner = chunkedIterator(
      walk(state.table.clone(), o),
      () => state.isClosed || state.crashed,
      'crash storage',
      state.open,
    )
    return {
      next: () => {
        if (state.faults.take('read')) {
          return () => settle(state, readDelay(state), () => E.left(injected('read')))
        }
        const wait = readDelay(state)
        return wait === undefined
          ? inner.next()
          : () =>
              inner
                .next()()
                .then((chunk) => settle(state, wait, () => chunk))
      },
      close: inner.close,
    }
  })(validateIterateOptions(options))
}

/** Closes the store; calls in flight finish first, as on a real store. */
const closeStore = async (state: State): Promise<E.Either<StorageError, void>> => {
  state.isClosed = true
  state.open.clear()
  if (state.inFlight.size > 0) await Promise.all([...state.inFlight])
  return E.right(undefined)
}
