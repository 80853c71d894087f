/**
 * The event store: streams of events on the log, with dense per-stream revisions, optimistic
 * concurrency, idempotent retries, soft deletes, catch-up subscriptions and checkpoints.
 * Positions are log sequences.
 *
 * This module opens a store and wires its rooms together: options.ts (what callers hand it),
 * writer.ts (the one writer queue that decides every append), streams.ts, cache.ts and
 * revisions.ts (what the log holds about streams), reads.ts, subscriptions.ts, checkpoints.ts,
 * upcast.ts and upcasters.ts (reading events stored in older versions of their type's schema).
 */
import { invalidArgument, orThrow, toDeltalogError } from '../errors.js'
import { openLog, type Log } from '../openLog.js'
import { decodeStrict } from '../log/options.js'
import type { Storage } from '../storage/port.js'
import { makeStateCache } from './cache.js'
import { loadCheckpoint, saveCheckpoint } from './checkpoints.js'
import { MARKER, validateStreamId, type EventInput } from './envelope.js'
import type { EventAppendResult, ReadEvent, SubscriptionMessage } from './model.js'
import {
  EventAppendOptions,
  MultiAppendOptions,
  OpenEventStoreOptions,
  type AggregateOptions,
  type Codecs,
  type ReadAllOptions,
  type ReadStreamOptions,
  type SubscribeToAllOptions,
  type SubscribeToStreamOptions,
} from './options.js'
import type { ExpectedRevision, Request } from './plan.js'
import { aggregateStream, readAll, readStream, type ReadContext } from './reads.js'
import { lastOf } from './streams.js'
import { subscribeToAll, subscribeToStream } from './subscriptions.js'
import { versionEvents, versionWrites, type Upcasters } from './upcast.js'
import { validateUpcasters } from './upcasters.js'
import { validateEvents, validateWrites } from './validate.js'
import { makeWriter, type Writer } from './writer.js'
// Registers the event check that verifyStorage runs on a log holding an event store.
import './verifyEvents.js'

export type { EventAppendResult, ReadEvent, SubscriptionMessage } from './model.js'
export type {
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
  /** A stream's events whose revisions lie in the range; `reverse` for newest first. */
  readonly readStream: (
    streamId: string,
    options?: ReadStreamOptions,
  ) => AsyncIterableIterator<ReadEvent>
  /** Every stream's events whose positions lie in the range, in position order. */
  readonly readAll: (options?: ReadAllOptions) => AsyncIterableIterator<ReadEvent>
  /** A left fold over a stream's events. */
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
 * is already open (`log`, which the store then shares and does not close).
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
  if ((await lastOf(log, MARKER)) === undefined) {
    await log.append([{ key: MARKER, value: JSON.stringify({ version: 1 }) }])
  }
  return makeEventStore(log, options.log === undefined, options.codecs ?? {}, upcasters)
}

/** The store's own log. REQUIRES: options name a `path` or a `storage`, not a `log`. */
const openOwnLog = (options: OpenEventStoreOptions): Promise<Log> => {
  const logOptions = {
    ...(options.durability === undefined ? {} : { durability: options.durability }),
    ...(options.blockSize === undefined ? {} : { blockSize: options.blockSize }),
  }
  if (options.path !== undefined) {
    const directoryMode =
      options.directoryMode === undefined ? {} : { directoryMode: options.directoryMode }
    return openLog({ path: options.path, ...logOptions, ...directoryMode })
  }
  return openLog({ storage: options.storage as Storage, ...logOptions })
}

/** The store's calls over `log`. REQUIRES: `log` is open and holds the store's marker. */
const makeEventStore = (
  log: Log,
  owned: boolean,
  codecs: Codecs,
  upcasters: Upcasters,
): EventStore => {
  const subscriptions = new AbortController()
  const ctx = { log, states: makeStateCache(), codecs, upcasters, closing: subscriptions.signal }
  const writer = makeWriter(ctx)
  let closing: Promise<void> | undefined
  const close = (): Promise<void> =>
    (closing ??= closeStore(writer, subscriptions, owned ? log : undefined))
  return {
    log,
    appendToStream: (streamId, events, options) =>
      appendToStream(ctx, writer, streamId, events, options),
    appendMulti: async (writes, options) => {
      const checked = orThrow(versionWrites(upcasters, orThrow(validateWrites(codecs, writes))))
      const o = orThrow(decodeStrict(MultiAppendOptions, 'options', options))
      return writer.submit({ kind: 'append', writes: checked, ...checkpointOf(o) })
    },
    readStream: (streamId, options) => readStream(ctx, streamId, options),
    readAll: (options) => readAll(ctx, options),
    aggregateStream: (streamId, options) => aggregateStream(ctx, streamId, options),
    subscribeToAll: (options) => subscribeToAll(ctx, options),
    subscribeToStream: (streamId, options) => subscribeToStream(ctx, streamId, options),
    checkpoints: {
      save: (name, position) => saveCheckpoint(writer, name, position),
      load: (name) => loadCheckpoint(log, name),
    },
    deleteStream: async (streamId) => {
      await writer.submit({ kind: 'delete', streamId: orThrow(validateStreamId(streamId)) })
    },
    close,
    [Symbol.asyncDispose]: close,
  }
}

/** An append's checkpoint option as a request's field: absent when not given. */
const checkpointOf = (o: MultiAppendOptions): Pick<Request & { kind: 'append' }, 'checkpoint'> =>
  o.checkpoint === undefined ? {} : { checkpoint: o.checkpoint }

/** `appendToStream`: its arguments checked before the append is queued. */
const appendToStream = async (
  { codecs, upcasters }: Pick<ReadContext, 'codecs' | 'upcasters'>,
  writer: Writer,
  streamId: unknown,
  events: unknown,
  options: unknown,
): Promise<EventAppendResult> => {
  const id = orThrow(validateStreamId(streamId))
  const checked = orThrow(validateEvents(codecs, events, 'events'))
  const valid = orThrow(versionEvents(upcasters, checked, 'events'))
  const o = orThrow(decodeStrict(EventAppendOptions, 'options', options))
  const [result] = await writer.submit({
    kind: 'append',
    writes: [{ streamId: id, events: valid, expected: o.expectedRevision ?? 'any' }],
    ...checkpointOf(o),
    single: true,
  })
  if (result === undefined) throw toDeltalogError(invalidArgument('events', 'nothing appended'))
  return result
}

/**
 * Closes a store: refuses new appends, waits for the queued ones, ends the subscriptions, then
 * closes `ownLog` if the store opened one. REQUIRES: called once per store (`close` keeps its
 * promise).
 */
const closeStore = async (
  writer: Writer,
  subscriptions: AbortController,
  ownLog: Log | undefined,
): Promise<void> => {
  await writer.close()
  subscriptions.abort()
  await ownLog?.close()
}
