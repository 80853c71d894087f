/**
 * The event store: streams of events on the log, with dense per-stream revisions, optimistic
 * concurrency, idempotent retries, soft deletes, catch-up subscriptions and checkpoints.
 * Positions are log sequences.
 *
 * This module opens a store and wires its rooms together: options.ts (what callers hand it),
 * writer.ts (the one writer queue that decides every append), streams.ts, cache.ts and
 * revisions.ts (what the log holds about streams), reads.ts, subscriptions.ts, checkpoints.ts;
 * readOnly.ts (a store that only reads, from any process); upcast.ts and upcasters.ts (reading
 * events stored in older versions of their type's schema); query.ts, queries.ts, lookup.ts,
 * postings.ts and indexing.ts (tags, queries, conditions and their index).
 */
import { invalidArgument, orThrow, toDeltalogError } from '../errors.js'
import { openLog, type Log } from '../openLog.js'
import { decodeStrict } from '../log/options.js'
import type { Storage } from '../storage/port.js'
import { makeStateCache } from './cache.js'
import { loadCheckpoint, saveCheckpoint } from './checkpoints.js'
import { INDEX_MARKER, MARKER, validateStreamId, type EventInput } from './envelope.js'
import { completeIndex, indexMarkerValue } from './indexing.js'
import type {
  AppendEventsResult,
  EventAppendResult,
  ReadEvent,
  SubscriptionMessage,
} from './model.js'
import {
  OpenEventStoreOptions,
  type AppendEventsOptions,
  type EventAppendOptions,
  type MultiAppendOptions,
  type AggregateOptions,
  type Codecs,
  type ReadAllOptions,
  type ReadStreamOptions,
  type SubscribeToAllOptions,
  type ReadQueryOptions,
  type SubscribeQueryOptions,
  type SubscribeToStreamOptions,
} from './options.js'
import type { ExpectedRevision } from '../errors.js'
import type { Request } from './requests.js'
import { read, subscribe } from './queries.js'
import type { Query } from './query.js'
import { aggregateStream, readAll, readStream } from './reads.js'
import { lastOf } from './streams.js'
import { subscribeToAll, subscribeToStream } from './subscriptions.js'
import { openUnmarked, readsOf, refusingWriter } from './readOnly.js'
import type { Upcasters } from './upcast.js'
import { validateUpcasters } from './upcasters.js'
import { makeWriter, type Writer } from './writer.js'
import { startConsumer, type Consumer, type ConsumerOptions } from './consumer.js'
import { documentsOf, type Documents } from './documents.js'
import { startProjection, type Projection, type ProjectionOptions } from './projection.js'
import { makeRuns, type Runs } from './running.js'
import { runsOn } from './targets.js'
import { append, appendMulti, appendToStream } from './appends.js'
import { aggregateWithSnapshot } from './snapshots.js'
import { logNameOf, tracedAppend, tracedSubscription } from './tracing.js'
import type { Json } from './envelope.js'
// Registers the checks that verifyStorage runs on a log holding an event store.
import './verifyEvents.js'
import './verifyIndex.js'

export type {
  AppendEventsResult,
  EventAppendResult,
  ReadEvent,
  SubscriptionMessage,
} from './model.js'
export type { AppendCondition, Query, QueryItem } from './query.js'
export type {
  AppendEventsOptions,
  ReadQueryOptions,
  SubscribeQueryOptions,
  AggregateOptions,
  EventAppendOptions,
  MultiAppendOptions,
  OpenEventStoreOptions,
  ReadAllFilter,
  ReadAllOptions,
  ReadRange,
  ReadStreamOptions,
  SubscribeToAllOptions,
  SubscribeToStreamOptions,
} from './options.js'
export type { EventTypeHistory, UpcastInput, UpcastOutput, Upcaster, Upcasters } from './upcast.js'
export type { Consumer, ConsumerOptions, RetryOptions } from './consumer.js'
export type {
  Documents,
  KeyedDocument,
  Lane,
  ProjectionState,
  ScanDocumentsOptions,
} from './documents.js'
export type { Projection, ProjectionOptions } from './projection.js'
export type { Partition } from './runs.js'
export type { Lag, Run } from './running.js'
export { partitionOf } from './runs.js'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** An open event store. Every rejection is a `DeltalogError` carrying a stable `code`. */
export interface EventStore {
  /** Appends events to one stream as one commit, if the stream is as `expectedRevision` says. */
  readonly appendToStream: (
    streamId: string,
    events: ReadonlyArray<EventInput>,
    options?: EventAppendOptions,
  ) => Promise<EventAppendResult>
  /** Appends to several streams as one commit: every expectation holds, or nothing is written. */
  readonly appendMulti: (
    writes: ReadonlyArray<{
      readonly streamId: string
      readonly events: ReadonlyArray<EventInput>
      readonly expectedRevision?: ExpectedRevision
    }>,
    options?: MultiAppendOptions,
  ) => Promise<ReadonlyArray<EventAppendResult>>
  /**
   * Appends events of no stream as one commit — with `condition`, only if no event matching its
   * query exists above its `after` (else `APPEND_CONDITION_FAILED`). Events appended this way
   * read back with the stream id `''`.
   */
  readonly append: (
    events: ReadonlyArray<EventInput>,
    options?: AppendEventsOptions,
  ) => Promise<AppendEventsResult>
  /** The events matching a query (`'all'`, or items of types and tags), in position order. */
  readonly read: (query: Query, options?: ReadQueryOptions) => AsyncIterableIterator<ReadEvent>
  /** As `subscribeToAll`, for the events matching a query. */
  readonly subscribe: (
    query: Query,
    options?: SubscribeQueryOptions,
  ) => AsyncIterableIterator<SubscriptionMessage>
  /** A stream's events whose revisions lie in the range; `reverse` for newest first. */
  readonly readStream: (
    streamId: string,
    options?: ReadStreamOptions,
  ) => AsyncIterableIterator<ReadEvent>
  /** Every stream's events whose positions lie in the range, in position order. */
  readonly readAll: (options?: ReadAllOptions) => AsyncIterableIterator<ReadEvent>
  /** A left fold over a stream's events; with `snapshot`, from its last snapshot on. */
  readonly aggregateStream: <S>(streamId: string, options: AggregateOptions<S>) => Promise<S>
  /**
   * Events from position `from` (inclusive) or `after` (exclusive) — by default from the
   * beginning — then `caughtUp`, then live events.
   */
  readonly subscribeToAll: (
    options?: SubscribeToAllOptions,
  ) => AsyncIterableIterator<SubscriptionMessage>
  /** As `subscribeToAll`, for one stream, in revisions. */
  readonly subscribeToStream: (
    streamId: string,
    options?: SubscribeToStreamOptions,
  ) => AsyncIterableIterator<SubscriptionMessage>
  readonly checkpoints: {
    readonly save: (name: string, position: number) => Promise<void>
    /** The position saved under `name`, or undefined when there is none. */
    readonly load: (name: string) => Promise<number | undefined>
  }
  /**
   * Runs a durable consumer: its handler gets the events in position order, a batch at a time,
   * and the checkpoint `name` is saved after each batch (at least once: consumer.ts).
   */
  readonly consumer: (name: string, options: ConsumerOptions) => Promise<Consumer>
  /**
   * Runs an inline projection: documents folded from the events, committed with the position
   * they reflect in one commit (exactly once: projection.ts).
   */
  readonly projection: <D extends Json = Json>(
    name: string,
    options: ProjectionOptions<D>,
  ) => Promise<Projection<D>>
  /** A projection's documents as last committed: from any store on the log, read-only too. */
  readonly documents: <D extends Json = Json>(name: string) => Documents<D>
  /** Soft delete: reads skip the stream's events so far; the stream can continue. */
  readonly deleteStream: (streamId: string) => Promise<void>
  /** The log underneath, for tools; the event store owns its keys. */
  readonly log: Log
  /**
   * Waits for queued appends, ends the subscriptions, and closes the log if the store opened
   * it. A second call while closing gives the same promise; after, it resolves at once.
   */
  readonly close: () => Promise<void>
  /** Does what `close()` does, for `await using store = await openEventStore(…)`. */
  readonly [Symbol.asyncDispose]: () => Promise<void>
}

// -------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------

/**
 * Opens an event store on a directory (`path`), any Storage adapter (`storage`), or a log that
 * is already open (`log`, which the store then shares and does not close). With `readOnly`, the
 * store only reads, from any process (see readOnly.ts).
 */
export const openEventStore = async (input: OpenEventStoreOptions): Promise<EventStore> => {
  const options = orThrow(decodeStrict(OpenEventStoreOptions, 'options', input))
  const sources = [options.path, options.storage, options.log].filter((x) => x !== undefined)
  if (sources.length !== 1) {
    throw toDeltalogError(
      invalidArgument('options.path', 'give exactly one of path, storage and log'),
    )
  }
  if (options.directoryMode !== undefined && options.path === undefined) {
    throw toDeltalogError(invalidArgument('options.directoryMode', 'is only for a path'))
  }
  const upcasters = orThrow(validateUpcasters(options.upcasters ?? {}, 'options.upcasters'))
  const log = options.log ?? (await openOwnLog(options))
  const owned = options.log === undefined
  const readOnly = options.readOnly ?? false
  try {
    await prepare(log, readOnly)
  } catch (error) {
    // A log the store opened is closed again: nothing of a failed open stays open or locked.
    if (owned) await log.close().catch(() => undefined)
    throw error
  }
  return makeEventStore(
    { log, logName: logNameOf(options) },
    owned,
    options.codecs ?? {},
    upcasters,
    readOnly,
  )
}

/**
 * Makes `log` a store's: a writer marks an unmarked log (with the index's marker: its index is
 * complete, as it holds no events) or completes the index of an older store; a reader checks.
 */
const prepare = async (log: Log, readOnly: boolean): Promise<void> => {
  if ((await lastOf(log, MARKER)) === undefined) {
    if (readOnly) await openUnmarked(log)
    else {
      await log.append([
        { key: MARKER, value: JSON.stringify({ version: 1 }) },
        { key: INDEX_MARKER, value: indexMarkerValue() },
      ])
    }
  } else if (!readOnly) await completeIndex(log)
}

/** The store's own log. REQUIRES: options name a `path` or a `storage`, not a `log`. */
const openOwnLog = (options: OpenEventStoreOptions): Promise<Log> => {
  const logOptions = {
    ...(options.durability === undefined ? {} : { durability: options.durability }),
    ...(options.blockSize === undefined ? {} : { blockSize: options.blockSize }),
    ...(options.readOnly === true ? { readOnly: true } : {}),
  }
  if (options.path !== undefined) {
    const directoryMode =
      options.directoryMode === undefined ? {} : { directoryMode: options.directoryMode }
    return openLog({ path: options.path, ...logOptions, ...directoryMode })
  }
  return openLog({ storage: options.storage as Storage, ...logOptions })
}

/**
 * The store's calls over `log` (`logName` names it in spans). REQUIRES: `log` is open and holds
 * the store's marker, or is empty and only read.
 */
const makeEventStore = (
  { log, logName }: { readonly log: Log; readonly logName: string },
  owned: boolean,
  codecs: Codecs,
  upcasters: Upcasters,
  readOnly: boolean,
): EventStore => {
  const subscriptions = new AbortController()
  const ctx = { log, states: makeStateCache(), codecs, upcasters, closing: subscriptions.signal }
  const writer = readOnly ? refusingWriter() : makeWriter(ctx)
  const reads = readsOf(ctx, readOnly)
  const runs = makeRuns()
  const submit = (request: Request): Promise<unknown> => writer.submit(request)
  let closing: Promise<void> | undefined
  const close = (): Promise<void> =>
    (closing ??= closeStore(runs, writer, subscriptions, owned ? log : undefined))
  const running = runsOn({
    log,
    runs,
    submit,
    readOnly,
    closing: () => closing,
    context: (target) => ({ reads, closing: subscriptions.signal, target, logName }),
  })
  const store: EventStore = {
    log,
    appendToStream: (streamId, events, options) =>
      tracedAppend(logName, 'appendToStream', streamId, events, options, () =>
        appendToStream(ctx, writer, streamId, events, options),
      ),
    appendMulti: (writes, options) =>
      tracedAppend(logName, 'appendMulti', writes, undefined, options, () =>
        appendMulti(ctx, writer, writes, options),
      ),
    append: (events, options) =>
      tracedAppend(logName, 'append', undefined, events, options, () =>
        append(ctx, writer, events, options),
      ),
    read: (query, options) => read(reads(), query, options),
    subscribe: (query, options) =>
      tracedSubscription(
        { log: logName, subscriber: 'subscription', name: '$query' },
        subscribe(reads(), query, options),
      ),
    readStream: (streamId, options) => readStream(reads(), streamId, options),
    readAll: (options) => readAll(reads(), options),
    aggregateStream: (streamId, options) =>
      options?.snapshot === undefined
        ? aggregateStream(reads(), streamId, options)
        : aggregateWithSnapshot(reads(), readOnly ? undefined : submit, streamId, options),
    subscribeToAll: (options) =>
      tracedSubscription(
        { log: logName, subscriber: 'subscription', name: '$all' },
        subscribeToAll(reads(), options),
      ),
    subscribeToStream: (streamId, options) =>
      tracedSubscription(
        { log: logName, subscriber: 'subscription', name: String(streamId) },
        subscribeToStream(reads(), streamId, options),
      ),
    checkpoints: {
      save: (name, position) => saveCheckpoint(writer, name, position),
      load: (name) => loadCheckpoint(log, name),
    },
    consumer: (name, options) => running.start(options, (c) => startConsumer(c, name, options)),
    projection: (name, options) => running.start(options, (c) => startProjection(c, name, options)),
    documents: <D extends Json>(name: string) => documentsOf(log, name) as unknown as Documents<D>,
    deleteStream: async (streamId) => {
      await writer.submit({ kind: 'delete', streamId: orThrow(validateStreamId(streamId)) })
    },
    close,
    [Symbol.asyncDispose]: close,
  }
  running.register(store)
  return store
}

/**
 * Closes a store: stops its consumers and projections, refuses new appends, waits for the
 * queued ones, ends the subscriptions, then closes `ownLog` if the store opened one. REQUIRES: called once per store (`close` keeps its
 * promise).
 */
const closeStore = async (
  runs: Runs,
  writer: Writer,
  subscriptions: AbortController,
  ownLog: Log | undefined,
): Promise<void> => {
  // Consumers and projections stop first: a batch in hand is handled and saved.
  await runs.stopAll()
  await writer.close()
  subscriptions.abort()
  await ownLog?.close()
}
