/**
 * The engine of an open log: its writer (or, opened read-only, a reader's watermarks and
 * refresh), the hot tail, the change signal, the read context and the meter, put together as
 * `LogTE`; and the log's close. Opening, which gets it all ready, is in open.ts. Appends and
 * truncations are published on their tracing channels here, where they enter (see
 * src/diagnostics/channels.ts); commits and writes in observe.ts.
 */
import * as E from 'fp-ts/lib/Either.js'
import { channelOf, isTraced, traceEither, type TraceContext } from '../diagnostics/channels.js'
import { closed, invalidArgument, type DeltalogErrorValue } from '../errors.js'
import type { AllocatorState } from '../sequence/allocator.js'
import type { Storage } from '../storage/port.js'
import { count, keys, scan } from './bounded.js'
import { makeChangeSignal, type ChangeSignal } from './changes.js'
import { follow } from './follow.js'
import { makeMeter, readMetrics, type Meter } from './metrics.js'
import { observeStorage } from './observe.js'
import type { Durability, OpenOptions } from './options.js'
import type { ReadContext } from './read.js'
import { makeReadOnlyWriter } from './readOnlyWriter.js'
import type { StoredState } from './recover.js'
import { makeRefresh, storedTruncation, type Refresh, type StoreWatch } from './refresh.js'
import { makeHotTail, type HotTail } from './tail.js'
import { DEFAULTS, type AppendResult, type LogTE } from './types.js'
import { validatePlaced, validateRecords, type RecordLimits } from './validate.js'
import { makeWriter, type Writer, type WriterStart } from './writer.js'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** What an engine starts from, once its store is open and its state recovered. */
export interface LogStart {
  readonly storage: Storage
  readonly options: OpenOptions
  /** The allocator as recovered. */
  readonly allocator: AllocatorState
  readonly stored: StoredState
  /** A reader's subscription to its store's changes, if the store offers them. */
  readonly watching: StoreWatch | undefined
  /** Lets go of the store when the log closes (see open.ts). */
  readonly release: () => Promise<E.Either<DeltalogErrorValue, void>>
}

/** Whether the log is closed, and its close once one began. */
interface Lifecycle {
  isClosed: boolean
  closing: Promise<E.Either<DeltalogErrorValue, void>> | undefined
}

/** `deltalog:append`: one `log.append`, from the call to its acknowledgement. */
export interface AppendContext extends TraceContext {
  /** How many records the call gave. */
  readonly records: number
  /** Their bytes, as counted against `maxPendingBytes`: set once they were checked. */
  bytes: number
  readonly durability: Durability
}

/** `deltalog:truncate`: one `log.truncateBefore`. */
export interface TruncateContext extends TraceContext {
  /** The sequence asked for. */
  readonly before: unknown
}

/** The parts of an open log. */
interface LogParts {
  readonly start: LogStart
  /** The log as the tracing channels name it: its directory, table, or `memory`. */
  readonly name: string
  readonly durability: Durability
  readonly meter: Meter
  /** The followers reading now, for `log.metrics()`. */
  readonly followers: Meter['followers']
  readonly readOnly: boolean
  readonly limits: RecordLimits
  readonly writer: Writer
  readonly hot: HotTail
  readonly changed: ChangeSignal
  readonly ctx: ReadContext
  /** A reader's refresh; undefined in a log that writes. */
  readonly refresher: Refresh | undefined
  readonly life: Lifecycle
}

// -------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------

/** The engine over a store whose state was recovered. */
export const makeLog = (start: LogStart): LogTE => toLogTE(assemble(start))

/** Builds the parts; a reader starts listening to its store's changes. */
const assemble = (start: LogStart): LogParts => {
  const { storage, options, allocator, stored } = start
  const readOnly = options.readOnly ?? false
  const name = options.path ?? storage.location ?? 'storage'
  const durability = options.durability ?? DEFAULTS.durability
  const meter = makeMeter()
  const changed = makeChangeSignal()
  const hot = makeHotTail(allocator.nextSequence)
  const life: Lifecycle = { isClosed: false, closing: undefined }
  const isClosed = (): boolean => life.isClosed
  const from: WriterStart = { allocator, truncation: stored.truncation, link: stored.link }
  const reader = readOnly ? makeReadOnlyWriter(from) : undefined
  const writer =
    reader ??
    makeWriter(
      {
        storage: observeStorage(storage, { log: name, meter }),
        durability,
        maxPendingBytes: options.maxPendingBytes ?? DEFAULTS.maxPendingBytes,
        appendTimeoutMs: options.appendTimeoutMs,
        syncIntervalMs: options.syncIntervalMs,
        onChange: changed.fire,
        onCommit: hot.commit,
        onStop: hot.drop,
        observer: { log: name, meter },
      },
      from,
    )
  const ctx: ReadContext = {
    storage,
    truncatedBefore: writer.truncatedBefore,
    isClosed,
    ...(reader === undefined
      ? {}
      : { storedTruncation: storedTruncation(storage, writer.truncatedBefore) }),
  }
  const refresher =
    reader === undefined ? undefined : makeRefresh(storage, reader, changed, isClosed)
  if (refresher !== undefined) {
    // Nothing commits through a reader: its followers always read storage.
    hot.drop()
    start.watching?.listen(refresher.refresh)
  }
  const limits = {
    maxKeyBytes: options.maxKeyBytes ?? DEFAULTS.maxKeyBytes,
    maxValueBytes: options.maxValueBytes ?? DEFAULTS.maxValueBytes,
  }
  const observed = { name, durability, meter, followers: meter.followers }
  return { start, ...observed, readOnly, limits, writer, hot, changed, ctx, refresher, life }
}

const appendChannel = channelOf('append')

/** The engine's operations over its parts. */
const toLogTE = (log: LogParts): LogTE => ({
  append: (records) => () =>
    isTraced(appendChannel) ? tracedAppend(log, records) : append(log, records),
  appendAt: (entries) => () => {
    if (log.life.isClosed) return Promise.resolve(E.left(closed('log')))
    const valid = validatePlaced(entries, log.limits)
    if (E.isLeft(valid)) return Promise.resolve(valid)
    return log.writer.appendAt(valid.right.entries)
  },
  flush: () => () => log.writer.flush(),
  nextSequence: log.writer.nextSequence,
  durableSequence: log.writer.durableSequence,
  head: () => {
    const link = log.writer.head()
    return { sequence: link.end, checksum: Buffer.from(link.checksum).toString('hex') }
  },
  scan: (input) => scan(log, input),
  count: (input) => count(log, input),
  follow: (input) => follow(log, input),
  keys: (input) => keys(log, input),
  truncateBefore: (sequence) => () =>
    traceEither<TruncateContext, DeltalogErrorValue, number>(
      'truncate',
      () => ({ log: log.name, before: sequence }),
      () => truncate(log, sequence),
    ).then(E.map(() => undefined)),
  close: () => () => close(log),
  metrics: () =>
    readMetrics({
      meter: log.meter,
      nextSequence: log.writer.nextSequence,
      durableSequence: log.writer.durableSequence,
      load: log.writer.load,
    }),
})

/** `truncateBefore`: resolves with where the log now begins. */
const truncate = (
  log: LogParts,
  sequence: unknown,
): Promise<E.Either<DeltalogErrorValue, number>> =>
  !Number.isSafeInteger(sequence) || (sequence as number) < 0
    ? Promise.resolve(E.left(invalidArgument('sequence', 'must be a non-negative safe integer')))
    : log.writer.truncateBefore(sequence as number)

/** `append` inside its span on `deltalog:append`. REQUIRES: the channel has subscribers. */
const tracedAppend = (
  log: LogParts,
  records: unknown,
): Promise<E.Either<DeltalogErrorValue, AppendResult>> => {
  const context: AppendContext = {
    log: log.name,
    records: Array.isArray(records) ? records.length : 0,
    bytes: 0,
    durability: log.durability,
  }
  return traceEither(
    'append',
    () => context,
    () => append(log, records, context),
  )
}

/** `append`: records checked and taken over, then queued for the writer. */
const append = (
  log: LogParts,
  records: unknown,
  traced?: AppendContext,
): Promise<E.Either<DeltalogErrorValue, AppendResult>> => {
  const valid = validateRecords(records, log.limits)
  if (E.isLeft(valid)) return Promise.resolve(valid)
  if (traced !== undefined) traced.bytes = valid.right.bytes
  // An empty append writes nothing: it resolves at once (a reader still refuses it).
  if (valid.right.records.keys.length === 0 && !log.readOnly) {
    return Promise.resolve(
      log.life.isClosed
        ? E.left(closed('log'))
        : E.right({ startSequence: log.writer.nextSequence(), count: 0 }),
    )
  }
  return log.writer.append(valid.right.records, valid.right.bytes)
}

/**
 * Closes the log, once: the writer commits what is queued and syncs, then reads end, followers
 * are woken to see the close, a reader stops listening, and the store is let go. A second call
 * gets the same promise, during the close and after it.
 */
const close = (log: LogParts): Promise<E.Either<DeltalogErrorValue, void>> => {
  log.life.closing ??= (async () => {
    const drained = await log.writer.close()
    log.life.isClosed = true
    log.refresher?.cancel()
    log.changed.fire()
    await log.start.watching?.stop()
    const released = await log.start.release()
    return E.isLeft(drained) ? drained : released
  })()
  return log.life.closing
}
