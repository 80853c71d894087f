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
 * caller is told it failed). A fault or crash mode that is not one of these is refused with
 * `INVALID_ARGUMENT`: a misspelt fault must fail the test, not let it pass untested.
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
import type * as TE from 'fp-ts/lib/TaskEither.js'
import { closed, invalidArgument, ioError, toDeltalogError, type StorageError } from '../errors.js'
import { applyBatch, chunkedIterator, emptyTable, walk, type Table } from '../storage/memory.js'
import {
  validateBatch,
  validateIterateOptions,
  validateKey,
  validateKeys,
  type Batch,
  type Storage,
  type StorageIterator,
} from '../storage/port.js'
import { copyBytes } from '../codec/bytes.js'
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

/** How a crash-simulating store behaves. Every field is optional. */
export interface CrashStorageOptions {
  /** Seeds the delays, so that a run's interleaving replays exactly (default 0). */
  readonly seed?: number
  /**
   * Each write resolves after 0 to `maxDelayTurns` event-loop turns, drawn from `seed`. The
   * default, 0, resolves every call in the turn it was made, like the memory adapter. Turns
   * rather than milliseconds: the same seed gives the same interleaving whatever the machine's
   * speed, and a turn costs microseconds.
   */
  readonly maxDelayTurns?: number
  /** Delays reads too — `get`, `getMany` and each iteration step — by the same rule. */
  readonly delayReads?: boolean
}

/** A crash-simulating store: a Storage plus the controls a test needs. */
export interface CrashStorage extends Storage {
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

const CRASH_MODES: ReadonlyArray<CrashMode> = ['process', 'power']
const FAULT_KINDS: ReadonlyArray<FaultKind> = ['write', 'sync', 'read', 'ack']
const OPTION_NAMES: ReadonlyArray<keyof CrashStorageOptions> = [
  'seed',
  'maxDelayTurns',
  'delayReads',
]

// -------------------------------------------------------------------------------------
// validation
// -------------------------------------------------------------------------------------

// These are called by tests, synchronously: a misuse throws at once, so that a misspelt fault
// or crash fails the test that wrote it instead of letting it pass without testing anything.

const refuse = (field: string, message: string, got: unknown): never => {
  throw toDeltalogError(invalidArgument(field, `${message}; got ${shown(got)}`))
}

const shown = (u: unknown): string =>
  typeof u === 'string' ? `'${u}'` : typeof u === 'bigint' ? `${u}n` : String(u)

const oneOf = (values: ReadonlyArray<string>): string => {
  const quoted = values.map((v) => `'${v}'`)
  return quoted.length === 2
    ? `${quoted[0]} or ${quoted[1]}`
    : `one of ${quoted.slice(0, -1).join(', ')} or ${quoted[quoted.length - 1]}`
}

const checkMode = (mode: unknown): CrashMode =>
  CRASH_MODES.includes(mode as CrashMode)
    ? (mode as CrashMode)
    : refuse('mode', `must be ${oneOf(CRASH_MODES)}`, mode)

const checkSeed = (seed: unknown, field = 'seed'): number =>
  Number.isSafeInteger(seed) ? (seed as number) : refuse(field, 'must be an integer', seed)

const checkCount = (n: unknown, field: string, what: string): number =>
  Number.isSafeInteger(n) && (n as number) >= 0
    ? (n as number)
    : refuse(field, `must be a non-negative integer (${what})`, n)

const checkOptions = (input: unknown): Required<CrashStorageOptions> => {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    return refuse('options', 'must be an object', input)
  }
  const given = input as Record<string, unknown>
  for (const name of Object.keys(given)) {
    if (!OPTION_NAMES.includes(name as keyof CrashStorageOptions)) {
      refuse(
        `options.${name}`,
        `is not an option (the options are ${OPTION_NAMES.join(', ')})`,
        given[name],
      )
    }
  }
  const { seed = 0, maxDelayTurns = 0, delayReads = false } = given
  if (typeof delayReads !== 'boolean') refuse('options.delayReads', 'must be a boolean', delayReads)
  return {
    seed: checkSeed(seed, 'options.seed'),
    maxDelayTurns: checkCount(maxDelayTurns, 'options.maxDelayTurns', 'event-loop turns'),
    delayReads: delayReads as boolean,
  }
}

// -------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------

/**
 * A new, empty crash-simulating store. With no options every call resolves in the turn it was
 * made; `{ seed, maxDelayTurns }` delays each write by a seeded-random number of event-loop
 * turns (and each read too with `delayReads: true`), so that a test meets writes in flight.
 * Throws `INVALID_ARGUMENT` for an option it does not know or a value out of range.
 */
export const openCrashStorage = (options: CrashStorageOptions = {}): CrashStorage =>
  fromBatches([], checkOptions(options))

/** Resolves after `n` turns of the event loop (`setImmediate` hops). */
const turns = (n: number): Promise<void> =>
  new Promise((resolve) => {
    const step = (left: number): void => {
      if (left <= 0) resolve()
      else setImmediate(() => step(left - 1))
    }
    step(n)
  })

const fromBatches = (
  history: ReadonlyArray<WrittenBatch>,
  options: Required<CrashStorageOptions>,
): CrashStorage => {
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
  const random = makeRandom(options.seed)
  // Calls whose result waits for a delay; `close` waits for them.
  const inFlight = new Set<Promise<unknown>>()
  // The last write to resolve: each write resolves after it, so in call order.
  let lastWrite: Promise<unknown> = Promise.resolve()

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

  const crashedError = (): StorageError =>
    ioError('the process that owned this store crashed', new Error('crashed'))

  const unavailable = (): O.Option<StorageError> =>
    crashed ? O.some(crashedError()) : isClosed ? O.some(closed('crash storage')) : O.none

  const injected = (what: string): StorageError =>
    ioError(`injected ${what} fault`, new Error(what))

  /**
   * Settles a call: at once without delays, else once `wait` is over. A call still waiting
   * when the store crashes never returns to its caller's process: it fails as crashed.
   */
  const settle = <A>(
    wait: Promise<unknown> | undefined,
    result: () => E.Either<StorageError, A>,
  ): Promise<E.Either<StorageError, A>> => {
    if (wait === undefined) return Promise.resolve(result())
    const done = wait.then(() => (crashed ? E.left(crashedError()) : result()))
    inFlight.add(done)
    void done.then(() => inFlight.delete(done))
    return done
  }

  const delay = (): Promise<void> | undefined =>
    options.maxDelayTurns === 0 ? undefined : turns(random.int(options.maxDelayTurns + 1))

  const readDelay = (): Promise<void> | undefined => (options.delayReads ? delay() : undefined)

  /** Makes the first `end` batches durable (prefix order). */
  const markSynced = (end: number): void => {
    for (let i = end - 1; i >= 0; i--) {
      const entry = written[i]
      if (entry === undefined || entry.synced) break
      written[i] = { batch: entry.batch, synced: true }
    }
  }

  /** Applies a valid batch and records it unsynced; returns how many batches are written. */
  const apply = (batch: Batch): number => {
    if (batch.length > 0) {
      // Copies, so that later changes to the caller's arrays cannot rewrite history.
      const copy = batch.map((op) =>
        op.type === 'put'
          ? { type: 'put' as const, key: copyBytes(op.key), value: copyBytes(op.value) }
          : { type: 'del' as const, key: copyBytes(op.key) },
      )
      applyBatch(table, copy)
      written.push({ batch: copy, synced: false })
    }
    return written.length
  }

  const read =
    <A>(f: () => E.Either<StorageError, A>): TE.TaskEither<StorageError, A> =>
    () => {
      const refused = unavailable()
      if (O.isSome(refused)) return Promise.resolve(E.left(refused.value))
      const result = faulted('read') ? E.left(injected('read')) : f()
      return settle(readDelay(), () => result)
    }

  /** The store a restart finds: a new store on `history`, with delays of its own. */
  const restarted = (mode: CrashMode, seed: number, kept: ReadonlyArray<WrittenBatch>) =>
    fromBatches(kept, {
      ...options,
      seed: makeRandom(
        (options.seed ^
          Math.imul(written.length + 1, 0x9e3779b1) ^
          seed ^
          (mode === 'power' ? 1 : 0)) >>>
          0,
      ).int(0x1_0000_0000),
    })

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
    write:
      (batch, { sync }) =>
      () => {
        const refused = unavailable()
        if (O.isSome(refused)) return Promise.resolve(E.left(refused.value))
        const valid = validateBatch(batch)
        if (E.isLeft(valid)) return Promise.resolve(valid)
        // Faults are matched to writes in call order, whatever the delays.
        const failWrite = faulted('write')
        const failSync = !failWrite && sync && faulted('sync')
        const failAck = !failWrite && !failSync && faulted('ack')
        const end = failWrite ? written.length : apply(valid.right)
        const wait = delay()
        if (wait !== undefined) lastWrite = Promise.all([lastWrite, wait])
        return settle(wait === undefined ? undefined : lastWrite, () => {
          if (failWrite) return E.left(injected('write'))
          if (failSync) return E.left(injected('sync'))
          if (sync) markSynced(end)
          return failAck ? E.left(injected('ack')) : E.right(undefined)
        })
      },
    iterator: (iterateOptions) => {
      const refused = unavailable()
      if (O.isSome(refused)) return E.left(refused.value)
      return E.map((o: typeof iterateOptions) => {
        const inner = chunkedIterator(
          walk(table.clone(), o),
          () => isClosed || crashed,
          'crash storage',
          open,
        )
        const it: StorageIterator = {
          next: () => {
            if (faulted('read')) return () => settle(readDelay(), () => E.left(injected('read')))
            const wait = readDelay()
            return wait === undefined
              ? inner.next()
              : () =>
                  inner
                    .next()()
                    .then((chunk) => settle(wait, () => chunk))
          },
          close: inner.close,
        }
        return it
      })(validateIterateOptions(iterateOptions))
    },
    openIterators: () => open.size,
    close: () => () => {
      isClosed = true
      open.clear()
      // Calls in flight finish first, as on a real store.
      return inFlight.size === 0
        ? Promise.resolve(E.right(undefined))
        : Promise.all([...inFlight]).then(() => E.right(undefined))
    },
    crash: (mode, seed = 0) => {
      const view = self.crashView(mode, seed)
      crashed = true
      open.clear()
      return view
    },
    crashView: (modeInput, seedInput = 0) => {
      const mode = checkMode(modeInput)
      const seed = checkSeed(seedInput)
      if (mode === 'process') return restarted(mode, seed, [...written])
      const durable = self.durableCount()
      const kept = makeRandom(seed).int(written.length - durable + 1)
      // What reached the disk is on the disk after the restart.
      return restarted(
        mode,
        seed,
        written.slice(0, durable + kept).map((entry) => ({ batch: entry.batch, synced: true })),
      )
    },
    failNext: (kindInput, skipInput = 0) => {
      const kind = FAULT_KINDS.includes(kindInput)
        ? kindInput
        : refuse('kind', `must be ${oneOf(FAULT_KINDS)}`, kindInput)
      const skip = checkCount(skipInput, 'skip', 'how many operations of this kind to let pass')
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
