/**
 * The log: keyed streams in one global sequence order. `openLogTE` builds the engine from
 * TaskEither-returning parts; `openLog` is the Promise facade derived from it, which rejects
 * with `DeltalogError` and nothing else.
 */
import * as E from 'fp-ts/lib/Either.js'
import * as O from 'fp-ts/lib/Option.js'
import * as TE from 'fp-ts/lib/TaskEither.js'
import { pipe } from 'fp-ts/lib/function.js'
import type { ChainLink } from '../codec/commit.js'
import { FORMAT_VERSION, seqBlockKey, formatKey } from '../codec/records.js'
import { isWellFormed, keyBytes } from '../codec/keys.js'
import { allocBytes } from '../codec/slab.js'
import type { AppendRange, Entry, Records } from '../delta/delta.js'
import {
  invalidArgument,
  locked,
  migrationNeeded,
  toDeltalogError,
  type DeltalogErrorValue,
  type InvalidArgumentError,
  errorValueOf,
} from '../errors.js'
import { load, type AllocatorState } from '../sequence/allocator.js'
import { decodeSeqBlock, type SeqBlock } from '../sequence/seqBlock.js'
import type { Storage } from '../storage/port.js'
import { copyBytes } from '../codec/bytes.js'
import { openLogDirectory } from './directory.js'
import { makeHotTail } from './tail.js'
import {
  CountOptions,
  decodeStrict,
  FollowOptions,
  KeysOptions,
  lowerBound,
  notWellFormed,
  OpenOptions,
  ScanOptions,
  type AppendRecord,
  type Durability,
  type Visibility,
} from './options.js'
import {
  countEntries,
  endOnClose,
  failing,
  lastLink,
  listKeys,
  scanAll,
  scanKey,
  type LogEntry,
  type ReadContext,
  type SequenceRange,
} from './read.js'
import { storedFormat, type StoredFormat } from '../format/detect.js'
import {
  decodeTruncation,
  NO_TRUNCATION,
  truncationKey,
  type Truncation,
} from '../codec/truncation.js'
import { makeReadOnlyWriter, makeWriter, RECORD_OVERHEAD_BYTES } from './writer.js'

export type { LogEntry } from './read.js'
export type { AppendRecord, CountOptions, FollowOptions, KeysOptions, OpenOptions, ScanOptions }

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** The end of a log's commit chain: see `Log.head`. */
export interface LogHead {
  readonly sequence: number
  /** SHA-256, as 64 lowercase hex digits. */
  readonly checksum: string
}

/** Documented defaults of the open options. */
export const DEFAULTS = {
  durability: 'sync' as Durability,
  blockSize: 4096,
  maxKeyBytes: 4 * 1024,
  maxValueBytes: 16 * 1024 * 1024,
  maxPendingBytes: 64 * 1024 * 1024,
} as const

/** A record with the sequence it must get, for `appendAt`. */
export interface PlacedRecord extends AppendRecord {
  readonly sequence: number
}

/** What `append` resolves to: the contiguous range `[startSequence, startSequence + count)`. */
export type AppendResult = AppendRange

/** The engine, every effect a TaskEither or an async iterable that throws `DeltalogError`. */
export interface LogTE {
  readonly append: (records: unknown) => TE.TaskEither<DeltalogErrorValue, AppendResult>
  readonly appendAt: (entries: unknown) => TE.TaskEither<DeltalogErrorValue, void>
  readonly flush: () => TE.TaskEither<DeltalogErrorValue, void>
  readonly nextSequence: () => number
  readonly durableSequence: () => number
  readonly head: () => LogHead
  readonly scan: (options?: unknown) => AsyncIterableIterator<LogEntry>
  readonly count: (options?: unknown) => TE.TaskEither<DeltalogErrorValue, number>
  readonly follow: (options?: unknown) => AsyncIterableIterator<LogEntry>
  readonly keys: (options?: unknown) => AsyncIterableIterator<Uint8Array>
  readonly truncateBefore: (sequence: unknown) => TE.TaskEither<DeltalogErrorValue, void>
  readonly close: () => TE.TaskEither<DeltalogErrorValue, void>
}

/** An open log. Every rejection is a `DeltalogError` carrying a stable `code`. */
export interface Log {
  /** Appends records as one commit; resolves with their contiguous range of sequences. */
  readonly append: (records: ReadonlyArray<AppendRecord>) => Promise<AppendResult>
  /**
   * Writes records at the sequences they carry, as one commit: what an import that reproduces
   * another log needs. The sequences must strictly ascend and lie at or above `nextSequence()`;
   * gaps are allowed, and the allocator goes on after the last one.
   */
  readonly appendAt: (entries: ReadonlyArray<PlacedRecord>) => Promise<void>
  /** Resolves when every earlier append is durable. */
  readonly flush: () => Promise<void>
  /**
   * The next sequence the allocator will hand out; in a log opened read-only, one past its last
   * entry.
   */
  readonly nextSequence: () => number
  /** Exclusive watermark: every sequence below it is durable. */
  readonly durableSequence: () => number
  /**
   * The end of the commit chain as a power loss would leave it: one past the last durable
   * commit's last sequence, and the SHA-256 chained over every commit up to it. Keep it
   * elsewhere, and `verifyStorage(storage, { head })` (or `deltalog verify --head`) later proves
   * that the log still passes through it: nothing before it was lost, changed or rewritten.
   */
  readonly head: () => LogHead
  /**
   * Entries of one key, or of all keys in global order, between `from` (inclusive) or `after`
   * (exclusive) and `to` (exclusive); `reverse` changes the order, not the range.
   */
  readonly scan: (options?: ScanOptions) => AsyncIterableIterator<LogEntry>
  /** The exact number of entries in a range, given as for `scan`. */
  readonly count: (options?: CountOptions) => Promise<number>
  /**
   * Existing entries from `from` (inclusive) or `after` (exclusive) — by default the current
   * end — then new ones as they commit.
   */
  readonly follow: (options?: FollowOptions) => AsyncIterableIterator<LogEntry>
  /** The distinct keys with entries, in byte order. */
  readonly keys: (options?: KeysOptions) => AsyncIterableIterator<Uint8Array>
  /** Removes every entry below `sequence`, atomically and durably. */
  readonly truncateBefore: (sequence: number) => Promise<void>
  /** Commits what is queued, syncs, releases the store; idempotent. */
  readonly close: () => Promise<void>
}

// How long a follower waits to read again after a shared store failed a read, unless the store
// tells of a change first.
const READ_RETRY_MS = 1000

/** Waits for `until`, or `ms` at most. */
const pause = async (until: Promise<void>, ms: number): Promise<void> => {
  let timer: ReturnType<typeof setTimeout> | undefined
  await Promise.race([until, new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))])
  clearTimeout(timer)
}

// Storages in use by an open log, so that two logs never share one writer's store.
const inUse = new WeakSet<Storage>()

// -------------------------------------------------------------------------------------
// helpers
// -------------------------------------------------------------------------------------

/** Fires every waiter once per `fire()`; a waiter takes the promise before it looks. */
const makeSignal = (): { readonly wait: () => Promise<void>; readonly fire: () => void } => {
  let release: () => void = () => undefined
  let next = new Promise<void>((resolve) => (release = resolve))
  return {
    wait: () => next,
    fire: () => {
      const done = release
      next = new Promise<void>((resolve) => (release = resolve))
      done()
    },
  }
}

const toRange = (from: number | undefined, to: number | undefined): SequenceRange => ({
  lower: from ?? 0,
  upper: to,
})

/** The options with `from` (inclusive) or `after` (exclusive) turned into `from`. */
const withLowerBound = <O extends { readonly from?: number; readonly after?: number }>(
  decoded: E.Either<InvalidArgumentError, O>,
): E.Either<InvalidArgumentError, O> =>
  E.chain((o: O) => E.map((from: number | undefined) => ({ ...o, from }))(lowerBound(o)))(decoded)

interface StoredState {
  readonly block: O.Option<SeqBlock>
  readonly truncation: Truncation
  readonly link: ChainLink
}

/**
 * What a reopened log starts from: the SeqBlock, the truncation and the chain's end. A store in
 * format 1 is refused with `MIGRATION_NEEDED`; an empty one becomes a format 2 log.
 */
const readStoredState = (
  storage: Storage,
  readOnly: boolean,
): TE.TaskEither<DeltalogErrorValue, StoredState> =>
  pipe(
    (): Promise<E.Either<DeltalogErrorValue, StoredFormat>> => storedFormat(storage),
    TE.chainW((format): TE.TaskEither<DeltalogErrorValue, void> => {
      if (format.format === 1) {
        return TE.left(
          migrationNeeded(
            'the log is in on-disk format 1, which this version reads only to convert it: run `deltalog migrate --db DIR` once (or migrateLog on this storage)',
          ),
        )
      }
      return format.format === 'empty' && !readOnly
        ? storage.write([{ type: 'put', key: formatKey, value: Uint8Array.of(FORMAT_VERSION) }], {
            sync: true,
          })
        : TE.right(undefined)
    }),
    TE.chainW(() => readState(storage)),
  )

/** The SeqBlock, the truncation and the chain's end, as stored now. */
const readState = (storage: Storage): TE.TaskEither<DeltalogErrorValue, StoredState> =>
  pipe(
    storage.getMany([seqBlockKey, truncationKey]),
    TE.chainEitherKW(([block, truncation]) =>
      pipe(
        E.Do,
        E.bind('block', () =>
          block === undefined || O.isNone(block)
            ? E.right(O.none)
            : E.map((b: SeqBlock) => O.some(b))(decodeSeqBlock(block.value)),
        ),
        E.bind('truncation', () =>
          truncation === undefined || O.isNone(truncation)
            ? E.right(NO_TRUNCATION)
            : decodeTruncation(truncation.value),
        ),
      ),
    ),
    TE.chainW((state) =>
      TE.tryCatch(
        async () => {
          // A truncation may have removed every commit: the chain then goes on from its anchor.
          const last = await lastLink(storage)
          return {
            ...state,
            link: last.end < state.truncation.anchor.end ? state.truncation.anchor : last,
          }
        },
        (error) => errorValueOf(error),
      ),
    ),
  )

// -------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------

/** Opens a log as a TaskEither: the engine that the Promise facade wraps. */
export const openLogTE = (input: unknown): TE.TaskEither<DeltalogErrorValue, LogTE> =>
  openLogWith(input)

const openLogWith = (input: unknown): TE.TaskEither<DeltalogErrorValue, LogTE> =>
  pipe(
    TE.fromEither(decodeStrict(OpenOptions, 'options', input)),
    TE.chainW((options): TE.TaskEither<DeltalogErrorValue, LogTE> => {
      if ((options.path === undefined) === (options.storage === undefined)) {
        return TE.left(invalidArgument('options.path', 'give exactly one of path and storage'))
      }
      if (options.directoryMode !== undefined && options.path === undefined) {
        return TE.left(invalidArgument('options.directoryMode', 'is only for a path'))
      }
      const readOnly = options.readOnly ?? false
      if (options.directoryMode !== undefined && readOnly) {
        return TE.left(
          invalidArgument('options.directoryMode', 'is for creating a log, not for reading one'),
        )
      }
      const opened: TE.TaskEither<DeltalogErrorValue, Storage> =
        options.path !== undefined
          ? openLogDirectory(options.path, {
              create: !readOnly,
              readOnly,
              ...(options.directoryMode === undefined
                ? {}
                : { directoryMode: options.directoryMode }),
            })
          : options.storage !== undefined
            ? TE.right(options.storage)
            : TE.left(invalidArgument('options.storage', 'is missing'))
      return pipe(
        opened,
        TE.chainW((storage) => {
          // Readers share a store with its writer and with one another.
          if (!readOnly && inUse.has(storage)) {
            return TE.left(locked('the storage is already in use by an open log'))
          }
          if (!readOnly) inUse.add(storage)
          return pipe(
            start(storage, options),
            TE.orElseFirstW(() =>
              TE.fromTask(async () => {
                if (!readOnly) inUse.delete(storage)
                // A store this call opened is closed again; a caller's store stays theirs.
                if (options.path !== undefined) await storage.close()()
              }),
            ),
          )
        }),
      )
    }),
  )

/** A reader's subscription to a store's changes, taken before it reads the stored state. */
interface StoreWatch {
  /** Sets what runs on a change; runs it at once if a change came before. */
  readonly listen: (listener: () => void) => void
  readonly stop: () => Promise<void>
}

/** Subscribes to the store's changes where it offers them (see `Storage.watch`). */
const watchStore = (
  storage: Storage,
): TE.TaskEither<DeltalogErrorValue, StoreWatch | undefined> => {
  if (storage.watch === undefined) return TE.right(undefined)
  let listener: (() => void) | undefined
  let missed = false
  return pipe(
    storage.watch(() => (listener === undefined ? (missed = true) : listener())),
    TE.map((stop) => ({
      listen: (l) => {
        listener = l
        if (missed) l()
      },
      stop,
    })),
  )
}

const start = (storage: Storage, options: OpenOptions): TE.TaskEither<DeltalogErrorValue, LogTE> =>
  pipe(
    // A reader listens before it reads, so that no commit falls between the two unseen.
    options.readOnly === true ? watchStore(storage) : TE.right(undefined),
    TE.chainW((watching) =>
      pipe(
        readStoredState(storage, options.readOnly ?? false),
        TE.chainW((stored) =>
          pipe(
            TE.fromEither(load(stored.block, options.blockSize ?? DEFAULTS.blockSize)),
            // Whatever recovery found is made durable, so the durable watermark starts at the end.
            TE.chainFirstW(() =>
              options.readOnly === true ? TE.right(undefined) : storage.write([], { sync: true }),
            ),
            TE.map((allocator) => makeLog(storage, options, allocator, stored, watching)),
          ),
        ),
        TE.orElseFirstW(() => TE.fromTask(async () => void (await watching?.stop()))),
      ),
    ),
  )

/**
 * Copies the caller's arrays among `bytes` (at the indices `callers`, ascending) into `pool`
 * from `at`, in place: one allocation per append instead of one per array, and the records then
 * view it. An array given for several of them in a row is copied once, and they share the copy.
 * Returns where the next copy goes. An entry kept alive (by a reader, or the hot tail) keeps the
 * pool alive, which is at most its append's size (and a slab of `allocBytes` for small ones).
 */
const own = (
  bytes: Uint8Array[],
  callers: ReadonlyArray<number>,
  pool: Uint8Array,
  at: number,
): number => {
  let last: Uint8Array | undefined
  let copy: Uint8Array = pool
  for (const i of callers) {
    const b = bytes[i] as Uint8Array
    if (b !== last) {
      pool.set(b, at)
      last = b
      copy = pool.subarray(at, at + b.length)
      at += b.length
    }
    bytes[i] = copy
  }
  return at
}

const makeLog = (
  storage: Storage,
  options: OpenOptions,
  allocator: AllocatorState,
  stored: StoredState,
  watching: StoreWatch | undefined,
): LogTE => {
  const maxKeyBytes = options.maxKeyBytes ?? DEFAULTS.maxKeyBytes
  const maxValueBytes = options.maxValueBytes ?? DEFAULTS.maxValueBytes
  const changed = makeSignal()
  const hot = makeHotTail(allocator.nextSequence)
  let isClosed = false
  let closing: Promise<E.Either<DeltalogErrorValue, void>> | undefined
  const readOnly = options.readOnly ?? false
  const start = { allocator, truncation: stored.truncation, link: stored.link }
  const reader = readOnly ? makeReadOnlyWriter(start) : undefined
  const writer =
    reader ??
    makeWriter(
      {
        storage,
        durability: options.durability ?? DEFAULTS.durability,
        maxPendingBytes: options.maxPendingBytes ?? DEFAULTS.maxPendingBytes,
        appendTimeoutMs: options.appendTimeoutMs,
        syncIntervalMs: options.syncIntervalMs,
        onChange: changed.fire,
        onCommit: hot.commit,
        onStop: hot.drop,
      },
      start,
    )
  const ctx: ReadContext = {
    storage,
    truncatedBefore: writer.truncatedBefore,
    isClosed: () => isClosed,
    ...(readOnly
      ? {
          storedTruncation: async () => {
            const stored = await storage.get(truncationKey)()
            const truncation =
              E.isRight(stored) && O.isSome(stored.right)
                ? decodeTruncation(stored.right.value)
                : E.right(NO_TRUNCATION)
            return E.isRight(truncation) ? truncation.right.before : writer.truncatedBefore()
          },
        }
      : {}),
  }

  /** A failure of a store on a server that lost its connection: worth trying again. */
  const lostConnection = (error: DeltalogErrorValue): boolean =>
    error.code === 'IO_ERROR' && error.lostConnection === true

  // A reader's view of a log that another handle writes: on each change the store tells of, the
  // truncation and the chain's end are read again and followers woken. Changes that come during
  // a read are taken by one more read after it. A failed read is tried again a second later (a
  // store that lost its connection tells of the change again when it has it back).
  let refreshing = false
  let again = false
  let retry: ReturnType<typeof setTimeout> | undefined
  const refresh = (): void => {
    if (refreshing) {
      again = true
      return
    }
    refreshing = true
    void (async () => {
      do {
        again = false
        const state = await readState(storage)()
        if (isClosed || reader === undefined) break
        if (E.isLeft(state)) {
          // A lost connection is tried again; any other failure wakes the followers, whose own
          // reads then meet it and report it.
          if (lostConnection(state.left)) {
            retry ??= setTimeout(() => {
              retry = undefined
              if (!isClosed) refresh()
            }, READ_RETRY_MS)
          } else {
            changed.fire()
          }
          break
        }
        reader.update(state.right)
        changed.fire()
      } while (again)
      refreshing = false
    })()
  }
  if (reader !== undefined) {
    // Nothing commits through a reader: its followers always read storage.
    hot.drop()
    watching?.listen(refresh)
  }

  const validateRecords = (
    input: unknown,
  ): E.Either<InvalidArgumentError, { records: Records; bytes: number }> => {
    if (!Array.isArray(input)) return E.left(invalidArgument('records', 'must be an array'))
    const items = input as ReadonlyArray<unknown>
    const keys: Uint8Array[] = []
    const values: Uint8Array[] = []
    let bytes = 0
    // Bytes the caller owns, which are copied: a caller mutating its array after append must
    // not change what gets written.
    let owned = 0
    // Bulk appends repeat a key from record to record: its bytes are encoded once and shared,
    // which also lets a commit see the run without comparing bytes.
    let lastKey: string | undefined
    let lastKeyBytes: Uint8Array = new Uint8Array(0)
    // The records whose key (value) is the caller's array, not bytes of a string.
    const callerKeys: number[] = []
    const callerValues: number[] = []
    let lastCallerKey: Uint8Array | undefined
    let lastCallerValue: Uint8Array | undefined
    for (let i = 0; i < items.length; i++) {
      const item = items[i]
      if (typeof item !== 'object' || item === null) {
        return E.left(invalidArgument(`records[${i}]`, 'must be { key, value }'))
      }
      for (const field in item) {
        if (field !== 'key' && field !== 'value' && Object.hasOwn(item, field)) {
          return E.left(invalidArgument(`records[${i}].${field}`, 'is not a record field'))
        }
      }
      const { key: givenKey, value: givenValue } = item as Record<string, unknown>
      const keyIsString = typeof givenKey === 'string'
      if (!keyIsString && !(givenKey instanceof Uint8Array)) {
        return E.left(invalidArgument(`records[${i}].key`, 'must be a string or Uint8Array'))
      }
      const valueIsString = typeof givenValue === 'string'
      if (!valueIsString && !(givenValue instanceof Uint8Array)) {
        return E.left(invalidArgument(`records[${i}].value`, 'must be a string or Uint8Array'))
      }
      if (keyIsString && givenKey !== lastKey && !isWellFormed(givenKey)) {
        return E.left(notWellFormed(`records[${i}].key`))
      }
      const key = !keyIsString
        ? givenKey
        : givenKey === lastKey
          ? lastKeyBytes
          : (lastKeyBytes = keyBytes((lastKey = givenKey)))
      const value = valueIsString ? keyBytes(givenValue) : givenValue
      if (key.length === 0) return E.left(invalidArgument(`records[${i}].key`, 'must not be empty'))
      if (key.length > maxKeyBytes) {
        return E.left(
          invalidArgument(
            `records[${i}].key`,
            `is ${key.length} bytes; maxKeyBytes is ${maxKeyBytes}`,
          ),
        )
      }
      if (value.length > maxValueBytes) {
        return E.left(
          invalidArgument(
            `records[${i}].value`,
            `is ${value.length} bytes; maxValueBytes is ${maxValueBytes}`,
          ),
        )
      }
      // What `own` will copy: a caller's array once for the records that give it one after
      // another (records with a string in between included).
      if (!keyIsString) {
        if (key !== lastCallerKey) owned += key.length
        lastCallerKey = key
        callerKeys.push(i)
      }
      if (!valueIsString) {
        if (value !== lastCallerValue) owned += value.length
        lastCallerValue = value
        callerValues.push(i)
      }
      keys.push(key)
      values.push(value)
      bytes += key.length + value.length + RECORD_OVERHEAD_BYTES
    }
    if (owned > 0) {
      const pool = allocBytes(owned)
      own(values, callerValues, pool, own(keys, callerKeys, pool, 0))
    }
    return E.right({ records: { keys, values }, bytes })
  }

  const validatePlaced = (
    input: unknown,
  ): E.Either<InvalidArgumentError, { entries: ReadonlyArray<Entry> }> => {
    if (!Array.isArray(input)) return E.left(invalidArgument('entries', 'must be an array'))
    const items = input as ReadonlyArray<unknown>
    const sequences: number[] = []
    const records: unknown[] = []
    for (const [i, item] of items.entries()) {
      if (typeof item !== 'object' || item === null) {
        return E.left(invalidArgument(`entries[${i}]`, 'must be { sequence, key, value }'))
      }
      const { sequence, ...record } = item as Record<string, unknown>
      if (typeof sequence !== 'number' || !Number.isSafeInteger(sequence) || sequence < 0) {
        return E.left(
          invalidArgument(`entries[${i}].sequence`, 'must be a non-negative safe integer'),
        )
      }
      sequences.push(sequence)
      records.push(record)
    }
    return pipe(
      validateRecords(records),
      // The records checked are the caller's entries: name them so.
      E.mapLeft((e) => ({
        ...e,
        field: e.field.replace(/^records/, 'entries'),
        message: e.message.replace(/^records/, 'entries'),
      })),
      E.map(({ records: valid }) => ({
        entries: valid.keys.map((key, i) => ({
          key,
          value: valid.values[i] as Uint8Array,
          sequence: sequences[i] ?? 0,
        })),
      })),
    )
  }

  const durableUpper = (visibility: Visibility | undefined, to: number | undefined) =>
    visibility === 'durable' ? Math.min(to ?? Infinity, writer.durableSequence()) : to

  const scan = (input: unknown): AsyncIterableIterator<LogEntry> => {
    if (isClosed) return failing(closedError())
    const decoded = withLowerBound(decodeStrict(ScanOptions, 'options', input))
    if (E.isLeft(decoded)) return failing(decoded.left)
    const o = decoded.right
    const upper = durableUpper(o.visibility, o.to)
    const range = toRange(o.from, upper === Infinity ? undefined : upper)
    const reverse = o.reverse ?? false
    return endOnClose(
      ctx,
      o.key === undefined
        ? scanAll(ctx, range, reverse, o.limit)
        : scanKey(ctx, keyBytes(o.key), range, reverse, o.limit),
    )
  }

  // Options are checked and the start position fixed when `follow` is called, not at the
  // first `next()`: "the current end" means the end when the caller asked.
  const follow = (input: unknown): AsyncIterableIterator<LogEntry> => {
    if (isClosed) return failing(closedError())
    const decoded = withLowerBound(decodeStrict(FollowOptions, 'options', input))
    if (E.isLeft(decoded)) return failing(decoded.left)
    const o = decoded.right
    return tail(
      o.key === undefined ? undefined : keyBytes(o.key),
      o.from ?? writer.nextSequence(),
      o.visibility ?? 'all',
      o.signal,
    )
  }

  async function* tail(
    key: Uint8Array | undefined,
    from: number,
    visibility: Visibility,
    signal: AbortSignal | undefined,
  ): AsyncGenerator<LogEntry> {
    let position = from
    let onAbort: () => void = () => undefined
    const aborted = new Promise<void>((resolve) => (onAbort = resolve))
    signal?.addEventListener('abort', onAbort, { once: true })
    const ended = (): boolean => isClosed || signal?.aborted === true
    try {
      while (!ended()) {
        // Take the wake-up before reading, so a commit landing during the read is not missed.
        const wake = changed.wait()
        const upper = visibility === 'durable' ? writer.durableSequence() : Infinity
        let progressed = false
        if (position >= hot.start()) {
          // Caught up: the commits since `position` are all in memory.
          const { entries, next } = hot.read(position, upper, key, writer.truncatedBefore())
          for (const entry of entries) {
            if (ended()) return
            position = entry.sequence + 1
            progressed = true
            yield {
              key: copyBytes(entry.key),
              sequence: entry.sequence,
              value: copyBytes(entry.value),
            }
          }
          position = Math.max(position, next)
        } else {
          // Behind the tail: read storage. Everything below `end` was written before the read's
          // view is taken, so once the read is done the follower stands at `end` at least.
          const end = Math.min(writer.nextSequence(), upper)
          const range = { lower: position, upper: upper === Infinity ? undefined : upper }
          const entries =
            key === undefined
              ? scanAll(ctx, range, false, undefined)
              : scanKey(ctx, key, range, false, undefined)
          try {
            for await (const entry of endOnClose(ctx, entries)) {
              if (ended()) return
              position = entry.sequence + 1
              progressed = true
              yield entry
            }
          } catch (error) {
            if (!lostConnection(errorValueOf(error))) throw error
            // A shared store lost its connection: read on from `position` when it says it is
            // back (or a second later), so that nothing is delivered twice or skipped.
            await pause(Promise.race([changed.wait(), aborted]), READ_RETRY_MS)
            continue
          }
          position = Math.max(position, end)
        }
        if (!progressed) await Promise.race([wake, aborted])
      }
    } finally {
      signal?.removeEventListener('abort', onAbort)
    }
  }

  const closedError = () => ({ code: 'CLOSED' as const, message: 'log is closed' })

  /** A read that failed for a store that others share and that reconnects: worth retrying. */

  return {
    append: (records) => () => {
      const valid = validateRecords(records)
      if (E.isLeft(valid)) return Promise.resolve(valid)
      if (valid.right.records.keys.length === 0 && !readOnly) {
        return Promise.resolve(
          isClosed
            ? E.left(closedError())
            : E.right({ startSequence: writer.nextSequence(), count: 0 }),
        )
      }
      return writer.append(valid.right.records, valid.right.bytes)
    },
    appendAt: (entries) => () => {
      if (isClosed) return Promise.resolve(E.left(closedError()))
      const valid = validatePlaced(entries)
      if (E.isLeft(valid)) return Promise.resolve(valid)
      return writer.appendAt(valid.right.entries)
    },
    flush: () => () => writer.flush(),
    nextSequence: writer.nextSequence,
    durableSequence: writer.durableSequence,
    head: () => {
      const link = writer.head()
      return { sequence: link.end, checksum: Buffer.from(link.checksum).toString('hex') }
    },
    scan,
    count: (input) => () => {
      if (isClosed) return Promise.resolve(E.left(closedError()))
      const decoded = withLowerBound(decodeStrict(CountOptions, 'options', input))
      if (E.isLeft(decoded)) return Promise.resolve(decoded)
      const o = decoded.right
      return countEntries(
        ctx,
        o.key === undefined ? undefined : keyBytes(o.key),
        toRange(o.from, o.to),
      ).then(E.right, (error: unknown) => E.left(errorValueOf(error)))
    },
    follow,
    keys: (input) => {
      if (isClosed) return failing(closedError())
      const decoded = decodeStrict(KeysOptions, 'options', input)
      if (E.isLeft(decoded)) return failing(decoded.left)
      const prefix = decoded.right.prefix
      return endOnClose(ctx, listKeys(ctx, prefix === undefined ? undefined : keyBytes(prefix)))
    },
    truncateBefore: (sequence) => () => {
      if (!Number.isSafeInteger(sequence) || (sequence as number) < 0) {
        return Promise.resolve(
          E.left(invalidArgument('sequence', 'must be a non-negative safe integer')),
        )
      }
      return writer.truncateBefore(sequence as number).then(E.map(() => undefined))
    },
    close: () => () => {
      closing ??= (async () => {
        const drained = await writer.close()
        isClosed = true
        if (retry !== undefined) clearTimeout(retry)
        changed.fire()
        await watching?.stop()
        // A reader on a caller's store leaves it open: its writer may be using it.
        if (readOnly && options.path === undefined) return drained
        const released = await storage.close()()
        if (!readOnly) inUse.delete(storage)
        return E.isLeft(drained) ? drained : released
      })()
      return closing
    },
  }
}

// -------------------------------------------------------------------------------------
// Promise facade
// -------------------------------------------------------------------------------------

const toPromise = async <A>(task: TE.TaskEither<DeltalogErrorValue, A>): Promise<A> => {
  const result = await task()
  if (E.isLeft(result)) throw toDeltalogError(result.left)
  return result.right
}

/**
 * Opens a log: `{ path }` for a RocksDB directory (created when missing), or `{ storage }` for
 * any Storage adapter. Rejects with `DeltalogError`: `INVALID_ARGUMENT` for bad options,
 * `LOCKED` when the directory is open elsewhere, `CORRUPTION` for unreadable state.
 */
export const openLog = async (options: OpenOptions): Promise<Log> =>
  facade(await toPromise(openLogTE(options)))

/** The Promise API over the engine. */
const facade = (log: LogTE): Log => {
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
    close: () => toPromise(log.close()),
  }
}
