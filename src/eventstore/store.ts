/**
 * The event store: streams of events on the log, with dense per-stream revisions, optimistic
 * concurrency, idempotent retries, soft deletes, catch-up subscriptions and checkpoints.
 *
 * One writer queue decides every append: a batch of queued requests is planned against the
 * streams' states (src/eventstore/plan.ts) and written as ONE log append — one atomic commit
 * and, in sync mode, one fsync — so expectations are serialized with every other append and a
 * multi-stream append is all or nothing. Positions are log sequences.
 */
import { randomUUID } from 'node:crypto'
import * as E from 'fp-ts/lib/Either.js'
import * as t from 'io-ts'
import {
  closed,
  invalidArgument,
  toDeltalogError,
  type DeltalogErrorValue,
  type ExpectedRevision,
  errorValueOf,
} from '../errors.js'
import { openLog, type Log, type LogEntry } from '../log/log.js'
import { failing } from '../log/read.js'
import {
  AbortSignalLike,
  decodeStrict,
  Durability,
  fromGuard,
  lowerBound,
  Natural,
  Positive,
  FileMode,
} from '../log/options.js'
import type { Storage } from '../storage/port.js'
import {
  EVENTS,
  MARKER,
  MAX_ID_BYTES,
  checkpointKey,
  decodeCheckpoint,
  decodeEvent,
  decodeIdEntry,
  decodeMeta,
  eventsKey,
  idKey,
  metaKey,
  validateEvent,
  validateId,
  validateStreamId,
  type EventInput,
  type IdEntry,
  type Json,
  type StoredEvent,
} from './envelope.js'
import { plan, type Request, type StreamState, type StreamWrite } from './plan.js'
// Registers the event check that verifyStorage runs on a log holding an event store.
import './verifyEvents.js'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** An event as reads return it. */
export interface ReadEvent<Data = unknown> {
  readonly streamId: string
  readonly revision: number
  readonly position: number
  readonly type: string
  readonly data: Data
  readonly metadata: Json
  readonly id: string
  readonly recordedAt: Date
}

/** What an append resolves to: the stream's last revision and the last event's position. */
export interface AppendResult {
  readonly nextExpectedRevision: number
  readonly position: number
}

/** A subscription message: an event, or the one marker that history is done and live begins. */
export type SubscriptionMessage =
  { readonly type: 'event'; readonly event: ReadEvent } | { readonly type: 'caughtUp' }

export interface ReadAllFilter {
  readonly streamPrefix?: string
  readonly eventTypes?: ReadonlyArray<string>
}

/**
 * Where a read starts and ends: in positions for `readAll` and `subscribeToAll`, in revisions
 * for `readStream` and `subscribeToStream`. Give `from` (inclusive) or `after` (exclusive: the
 * last one already handled, such as a checkpoint's position), not both; `to` is exclusive. The
 * direction of a read changes its order, never its range: read backwards from `p` with
 * `{ to: p + 1 }`.
 */
export interface ReadRange {
  readonly from?: number
  readonly after?: number
  readonly to?: number
}

export interface AppendOptions {
  readonly expectedRevision?: ExpectedRevision
  /** Saves a checkpoint in the same atomic commit as the events. */
  readonly checkpoint?: { readonly name: string; readonly position: number }
}

export interface EventStore {
  readonly appendToStream: (
    streamId: string,
    events: ReadonlyArray<EventInput>,
    options?: AppendOptions,
  ) => Promise<AppendResult>
  readonly appendMulti: (
    writes: ReadonlyArray<{
      readonly streamId: string
      readonly events: ReadonlyArray<EventInput>
      readonly expectedRevision?: ExpectedRevision
    }>,
    options?: Pick<AppendOptions, 'checkpoint'>,
  ) => Promise<ReadonlyArray<AppendResult>>
  /** A stream's events whose revisions lie in the range. */
  readonly readStream: (
    streamId: string,
    options?: ReadRange & {
      readonly direction?: 'forwards' | 'backwards'
      readonly maxCount?: number
    },
  ) => AsyncIterableIterator<ReadEvent>
  /** Every stream's events whose positions lie in the range, in position order. */
  readonly readAll: (
    options?: ReadRange & {
      readonly direction?: 'forwards' | 'backwards'
      readonly maxCount?: number
      readonly filter?: ReadAllFilter
    },
  ) => AsyncIterableIterator<ReadEvent>
  readonly aggregateStream: <S>(
    streamId: string,
    options: { readonly initialState: S; readonly evolve: (state: S, event: ReadEvent) => S },
  ) => Promise<S>
  /**
   * Events from position `from` (inclusive) or `after` (exclusive) — by default from the
   * beginning — then `caughtUp`, then live events.
   */
  readonly subscribeToAll: (
    options?: Omit<ReadRange, 'to'> & {
      readonly filter?: ReadAllFilter
      readonly signal?: AbortSignal
    },
  ) => AsyncIterableIterator<SubscriptionMessage>
  /** As `subscribeToAll`, for one stream, in revisions. */
  readonly subscribeToStream: (
    streamId: string,
    options?: Omit<ReadRange, 'to'> & { readonly signal?: AbortSignal },
  ) => AsyncIterableIterator<SubscriptionMessage>
  readonly checkpoints: {
    readonly save: (name: string, position: number) => Promise<void>
    readonly load: (name: string) => Promise<number | undefined>
  }
  /** Soft delete: reads skip the stream's events so far; the stream can continue. */
  readonly deleteStream: (streamId: string) => Promise<void>
  /** The log underneath, for tools; the event store owns its keys. */
  readonly log: Log
  /** Waits for queued appends; closes the log if the store opened it. */
  readonly close: () => Promise<void>
}

const isLog = (u: unknown): u is Log =>
  typeof u === 'object' &&
  u !== null &&
  ['append', 'scan', 'follow', 'close', 'nextSequence'].every(
    (m) => typeof (u as Record<string, unknown>)[m] === 'function',
  )

const LogLike = fromGuard('Log', isLog)

const isDecoders = (u: unknown): u is Record<string, t.Decoder<unknown, unknown>> =>
  typeof u === 'object' &&
  u !== null &&
  Object.values(u).every(
    (d) =>
      typeof d === 'object' &&
      d !== null &&
      typeof (d as t.Decoder<unknown, unknown>).decode === 'function',
  )

const Codecs = fromGuard('Record<eventType, io-ts codec>', isDecoders)

/** How to open an event store: exactly one of `path`, `storage` and `log`. */
export const OpenEventStoreOptions = t.partial({
  path: t.string,
  storage: t.unknown,
  log: LogLike,
  durability: Durability,
  blockSize: Positive,
  directoryMode: FileMode,
  codecs: Codecs,
})
export type OpenEventStoreOptions = {
  readonly path?: string
  readonly storage?: Storage
  readonly log?: Log
  readonly durability?: 'sync' | 'buffered'
  readonly blockSize?: number
  /** The mode of a directory a new store is created in (default 0o700, its owner's alone). */
  readonly directoryMode?: number
  /** io-ts codecs per event type: `data` is checked with them on append and decoded on read. */
  readonly codecs?: Record<string, t.Decoder<unknown, unknown>>
}

const ExpectedRevisionCodec = fromGuard(
  "'any', 'no_stream', 'stream_exists' or a non-negative integer revision (the stream's last)",
  (u): u is ExpectedRevision =>
    u === 'any' || u === 'no_stream' || u === 'stream_exists' || Natural.is(u),
)

const CheckpointName = fromGuard(
  `a non-empty, well-formed string of at most ${MAX_ID_BYTES} UTF-8 bytes`,
  (u): u is string => E.isRight(validateId(u, 'name')),
)

const CheckpointOption = t.type({ name: CheckpointName, position: Natural })
const AppendOptionsCodec = t.partial({
  expectedRevision: ExpectedRevisionCodec,
  checkpoint: CheckpointOption,
})
const Direction = t.keyof({ forwards: null, backwards: null })
const ReadStreamOptions = t.partial({
  from: Natural,
  after: Natural,
  to: Natural,
  direction: Direction,
  maxCount: Natural,
})
const FilterCodec = t.partial({ streamPrefix: t.string, eventTypes: t.readonlyArray(t.string) })
const ReadAllOptions = t.partial({
  from: Natural,
  after: Natural,
  to: Natural,
  direction: Direction,
  maxCount: Natural,
  filter: FilterCodec,
})
const SubscribeAllOptions = t.partial({
  from: Natural,
  after: Natural,
  filter: FilterCodec,
  signal: AbortSignalLike,
})
const SubscribeStreamOptions = t.partial({ from: Natural, after: Natural, signal: AbortSignalLike })

// The options of 0.1 whose meaning changed from one read to another (inclusive in `readAll`
// and `readStream`, exclusive in the subscriptions): refused with what to write instead, never
// read with a new meaning.
const RENAMED: Record<string, Record<string, string>> = {
  readAll: {
    fromPosition:
      'from: p (inclusive) or after: p (exclusive); to read backwards from p, to: p + 1',
  },
  readStream: {
    fromRevision:
      'from: r (inclusive) or after: r (exclusive); to read backwards from r, to: r + 1',
  },
  subscribeToAll: {
    fromPosition:
      "after: p for what fromPosition meant (exclusive, e.g. a checkpoint's last processed position), or from: p (inclusive)",
  },
  subscribeToStream: {
    fromRevision: 'after: r for what fromRevision meant (exclusive), or from: r (inclusive)',
  },
}

/** Decodes a read's options: a renamed option is refused first, then the range is resolved. */
const decodeRead = <A extends { readonly from?: number; readonly after?: number }>(
  read: keyof typeof RENAMED,
  codec: t.Decoder<unknown, A> & { readonly props: Record<string, unknown> },
  input: unknown,
): E.Either<DeltalogErrorValue, A & { readonly lower: number | undefined }> => {
  const renamed = Object.entries(RENAMED[read] ?? {}).find(
    ([old]) => typeof input === 'object' && input !== null && Object.hasOwn(input, old),
  )
  if (renamed !== undefined) {
    const [old, instead] = renamed
    return E.left(invalidArgument(`options.${old}`, `is no longer accepted; use ${instead}`))
  }
  const decoded = decodeStrict(codec, 'options', input)
  if (E.isLeft(decoded)) return decoded
  return E.map((lower: number | undefined) => ({ ...decoded.right, lower }))(
    lowerBound(decoded.right),
  )
}

// The most stream states kept in memory; older ones are read again from the log when needed.
const STATE_CACHE_LIMIT = 100_000

const untext = new TextDecoder()

const orThrow = <A>(result: E.Either<DeltalogErrorValue, A>): A => {
  if (E.isLeft(result)) throw toDeltalogError(result.left)
  return result.right
}

const lastOf = async (log: Log, key: string): Promise<LogEntry | undefined> => {
  for await (const entry of log.scan({ key, reverse: true, limit: 1 })) return entry
  return undefined
}

const firstFrom = async (log: Log, key: string, from: number): Promise<LogEntry | undefined> => {
  for await (const entry of log.scan({ key, from, limit: 1 })) return entry
  return undefined
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
  const logOptions = {
    ...(options.durability === undefined ? {} : { durability: options.durability }),
    ...(options.blockSize === undefined ? {} : { blockSize: options.blockSize }),
  }
  if (options.directoryMode !== undefined && options.path === undefined) {
    throw toDeltalogError(invalidArgument('options.directoryMode', 'is only for a path'))
  }
  const directoryMode =
    options.directoryMode === undefined ? {} : { directoryMode: options.directoryMode }
  const owned = options.log === undefined
  const log =
    options.log ??
    (options.path !== undefined
      ? await openLog({ path: options.path, ...logOptions, ...directoryMode })
      : await openLog({ storage: options.storage as Storage, ...logOptions }))
  if ((await lastOf(log, MARKER)) === undefined) {
    await log.append([{ key: MARKER, value: JSON.stringify({ version: 1 }) }])
  }
  return makeEventStore(log, owned, options.codecs ?? {})
}

const makeEventStore = (
  log: Log,
  owned: boolean,
  codecs: Record<string, t.Decoder<unknown, unknown>>,
): EventStore => {
  const states = new Map<string, StreamState>()
  let isClosed = false
  let writing = false
  const queue: Array<{
    readonly request: Request
    readonly settle: (outcome: E.Either<DeltalogErrorValue, ReadonlyArray<AppendResult>>) => void
  }> = []
  const idle: Array<() => void> = []
  const subscriptions = new AbortController()

  const remember = (streamId: string, state: StreamState): void => {
    states.delete(streamId)
    states.set(streamId, state)
    if (states.size > STATE_CACHE_LIMIT) {
      const oldest = states.keys().next()
      if (oldest.done !== true) states.delete(oldest.value)
    }
  }

  const loadState = async (streamId: string): Promise<StreamState> => {
    const cached = states.get(streamId)
    if (cached !== undefined) return cached
    const [last, meta] = await Promise.all([
      lastOf(log, eventsKey(streamId)),
      lastOf(log, metaKey(streamId)),
    ])
    const state: StreamState = {
      lastRevision: last === undefined ? -1 : orThrow(decodeEvent(last.value)).revision,
      deletedBefore: meta === undefined ? 0 : orThrow(decodeMeta(meta.value)).deletedBefore,
    }
    remember(streamId, state)
    return state
  }

  const loadId = async (id: string): Promise<IdEntry | undefined> => {
    const entry = await lastOf(log, idKey(id))
    return entry === undefined ? undefined : orThrow(decodeIdEntry(entry.value))
  }

  /** The smallest position of an event of the stream with a revision at or above `revision`. */
  const seekRevision = async (streamId: string, revision: number): Promise<number | undefined> => {
    const key = eventsKey(streamId)
    const first = await firstFrom(log, key, 0)
    const last = await lastOf(log, key)
    if (first === undefined || last === undefined) return undefined
    if (orThrow(decodeEvent(last.value)).revision < revision) return undefined
    // Reading from the first event kept, as most reads do, needs no search.
    if (orThrow(decodeEvent(first.value)).revision >= revision) return first.sequence
    // Revisions grow with positions: bisect positions, one seek per step.
    let lo = first.sequence
    let hi = last.sequence
    let found = last.sequence
    while (lo <= hi) {
      const mid = lo + Math.floor((hi - lo) / 2)
      const probe = await firstFrom(log, key, mid)
      if (probe === undefined) break
      if (orThrow(decodeEvent(probe.value)).revision >= revision) {
        found = probe.sequence
        hi = mid - 1
      } else {
        lo = probe.sequence + 1
      }
    }
    return found
  }

  const toReadEvent = (streamId: string, entry: LogEntry, stored: StoredEvent): ReadEvent => {
    const codec = codecs[stored.type]
    let data: unknown = stored.data
    if (codec !== undefined) {
      const decoded = codec.decode(stored.data)
      if (E.isLeft(decoded)) {
        throw toDeltalogError({
          code: 'DECODE_FAILED',
          message: `stream ${JSON.stringify(streamId)} revision ${stored.revision}: data does not decode as ${stored.type}`,
          streamId,
          revision: stored.revision,
        })
      }
      data = decoded.right
    }
    return {
      streamId,
      revision: stored.revision,
      position: entry.sequence,
      type: stored.type,
      data,
      metadata: stored.metadata,
      id: stored.id,
      recordedAt: new Date(stored.recordedAt),
    }
  }

  // ------------------------------------------------------------------ the writer

  const pump = async (): Promise<void> => {
    if (writing) return
    writing = true
    try {
      while (queue.length > 0) {
        const batch = queue.splice(0)
        await writeBatch(batch)
        // The callers a batch settled usually append again at once, a few promise steps later.
        // A tick runs once the microtask queue is empty, so after it the next batch takes all
        // of them, instead of a batch (and an fsync) for the quickest alone — as the log's
        // writer does.
        await new Promise<void>((resolve) => process.nextTick(resolve))
      }
    } finally {
      writing = false
      for (const done of idle.splice(0)) done()
    }
  }

  const writeBatch = async (batch: typeof queue): Promise<void> => {
    const requests = batch.map((b) => b.request)
    try {
      const streamIds = new Set<string>()
      const ids = new Set<string>()
      for (const r of requests) {
        if (r.kind === 'delete') streamIds.add(r.streamId)
        if (r.kind === 'append') {
          for (const w of r.writes) {
            streamIds.add(w.streamId)
            for (const e of w.events) if (e.id !== undefined) ids.add(e.id)
          }
        }
      }
      // Reads of states and ids not cached run side by side: one round of reads per batch.
      const [loaded, hitList] = await Promise.all([
        Promise.all([...streamIds].map(async (id) => [id, await loadState(id)] as const)),
        Promise.all([...ids].map(async (id) => [id, await loadId(id)] as const)),
      ])
      const known = new Map<string, StreamState>(loaded)
      const hits = new Map<string, IdEntry>()
      for (const [id, hit] of hitList) if (hit !== undefined) hits.set(id, hit)
      const planned = plan(
        { streams: known, ids: hits, head: log.nextSequence(), now: Date.now(), newId: randomUUID },
        requests,
      )
      let start = 0
      if (planned.records.length > 0) {
        const appended = await log.append(planned.records)
        start = appended.startSequence
      }
      for (const [id, state] of planned.states) remember(id, state)
      for (const [i, { settle }] of batch.entries()) {
        const outcome = planned.outcomes[i]
        if (outcome === undefined) continue
        if (E.isLeft(outcome)) {
          settle(outcome)
          continue
        }
        const results: AppendResult[] = []
        for (const w of outcome.right) {
          if (w.kind === 'written') {
            results.push({
              nextExpectedRevision: w.lastRevision,
              position: start + w.first + w.count - 1,
            })
          } else {
            const position = await seekRevision(w.streamId, w.lastRevision)
            results.push({ nextExpectedRevision: w.lastRevision, position: position ?? -1 })
          }
        }
        settle(E.right(results))
      }
    } catch (error) {
      // What storage holds is no longer known for sure: read states again next time.
      states.clear()
      const value = errorValueOf(error)
      for (const { settle } of batch) settle(E.left(value))
    }
  }

  const submit = (request: Request): Promise<ReadonlyArray<AppendResult>> => {
    if (isClosed) return Promise.reject(toDeltalogError(closed('event store')))
    return new Promise((resolve, reject) => {
      queue.push({
        request,
        settle: (outcome) =>
          E.isLeft(outcome) ? reject(toDeltalogError(outcome.left)) : resolve(outcome.right),
      })
      void pump()
    })
  }

  const validateEvents = (
    events: unknown,
    field: string,
  ): E.Either<DeltalogErrorValue, ReadonlyArray<EventInput>> => {
    if (!Array.isArray(events) || events.length === 0) {
      return E.left(invalidArgument(field, 'must be a non-empty array of events'))
    }
    const out: EventInput[] = []
    for (const [i, u] of (events as ReadonlyArray<unknown>).entries()) {
      const event = validateEvent(u, `${field}[${i}]`)
      if (E.isLeft(event)) return event
      const codec = codecs[event.right.type]
      if (codec !== undefined && E.isLeft(codec.decode(event.right.data ?? null))) {
        return E.left(
          invalidArgument(
            `${field}[${i}].data`,
            `does not match the codec for ${event.right.type}`,
          ),
        )
      }
      out.push(event.right)
    }
    return E.right(out)
  }

  // ------------------------------------------------------------------ reads

  /** The stream's events with revisions in `[from, to)`, below position `before`. */
  async function* streamEvents(
    streamId: string,
    from: number | undefined,
    to: number | undefined,
    backwards: boolean,
    maxCount: number | undefined,
    before: number | undefined,
  ): AsyncGenerator<ReadEvent> {
    const state = await loadState(streamId)
    let left = maxCount ?? Infinity
    if (left <= 0) return
    const key = eventsKey(streamId)
    const first = Math.max(from ?? 0, state.deletedBefore)
    if (!backwards) {
      const position = await seekRevision(streamId, first)
      if (position === undefined) return
      for await (const entry of log.scan({
        key,
        from: position,
        ...(before === undefined ? {} : { to: before }),
      })) {
        const stored = orThrow(decodeEvent(entry.value))
        if (to !== undefined && stored.revision >= to) return
        yield toReadEvent(streamId, entry, stored)
        if (--left <= 0) return
      }
      return
    }
    const upper = to === undefined ? undefined : await seekRevision(streamId, to)
    for await (const entry of log.scan({
      key,
      reverse: true,
      ...(upper === undefined ? {} : { to: upper }),
    })) {
      const stored = orThrow(decodeEvent(entry.value))
      if (stored.revision < first) return
      yield toReadEvent(streamId, entry, stored)
      if (--left <= 0) return
    }
  }

  const matches = (filter: ReadAllFilter | undefined, streamId: string, type: string): boolean =>
    (filter?.streamPrefix === undefined || streamId.startsWith(filter.streamPrefix)) &&
    (filter?.eventTypes === undefined || filter.eventTypes.includes(type))

  /** Turns a log entry into a visible event, or undefined for other records and deleted events. */
  const visibleEvent = async (
    entry: LogEntry,
    filter: ReadAllFilter | undefined,
  ): Promise<ReadEvent | undefined> => {
    const key = untext.decode(entry.key)
    if (!key.startsWith(EVENTS)) return undefined
    const streamId = key.slice(EVENTS.length)
    const stored = orThrow(decodeEvent(entry.value))
    if (!matches(filter, streamId, stored.type)) return undefined
    const state = await loadState(streamId)
    if (stored.revision < state.deletedBefore) return undefined
    return toReadEvent(streamId, entry, stored)
  }

  async function* allEvents(
    entries: AsyncIterable<LogEntry>,
    filter: ReadAllFilter | undefined,
    maxCount: number | undefined,
  ): AsyncGenerator<ReadEvent> {
    let left = maxCount ?? Infinity
    if (left <= 0) return
    for await (const entry of entries) {
      const event = await visibleEvent(entry, filter)
      if (event === undefined) continue
      yield event
      if (--left <= 0) return
    }
  }

  const combinedSignal = (signal: AbortSignal | undefined): AbortSignal =>
    signal === undefined ? subscriptions.signal : AbortSignal.any([signal, subscriptions.signal])

  // ------------------------------------------------------------------ the API

  return {
    log,
    appendToStream: async (streamId, events, options) => {
      const id = orThrow(validateStreamId(streamId))
      const valid = orThrow(validateEvents(events, 'events'))
      const o = orThrow(decodeStrict(AppendOptionsCodec, 'options', options))
      const write: StreamWrite = {
        streamId: id,
        events: valid,
        expected: o.expectedRevision ?? 'any',
      }
      const [result] = await submit({
        kind: 'append',
        writes: [write],
        ...(o.checkpoint === undefined ? {} : { checkpoint: o.checkpoint }),
      })
      if (result === undefined) throw toDeltalogError(invalidArgument('events', 'nothing appended'))
      return result
    },
    appendMulti: async (writes, options) => {
      if (!Array.isArray(writes) || writes.length === 0) {
        throw toDeltalogError(invalidArgument('writes', 'must be a non-empty array'))
      }
      const checked: StreamWrite[] = (writes as ReadonlyArray<unknown>).map((u, i) => {
        if (typeof u !== 'object' || u === null) {
          throw toDeltalogError(
            invalidArgument(`writes[${i}]`, 'must be { streamId, events, expectedRevision }'),
          )
        }
        const w = u as Record<string, unknown>
        const extra = Object.keys(w).find(
          (k) => !['streamId', 'events', 'expectedRevision'].includes(k),
        )
        if (extra !== undefined)
          throw toDeltalogError(invalidArgument(`writes[${i}].${extra}`, 'is not a known field'))
        const expected = w['expectedRevision'] ?? 'any'
        if (!ExpectedRevisionCodec.is(expected)) {
          throw toDeltalogError(
            invalidArgument(
              `writes[${i}].expectedRevision`,
              `must be ${ExpectedRevisionCodec.name}`,
            ),
          )
        }
        return {
          streamId: orThrow(validateStreamId(w['streamId'], `writes[${i}].streamId`)),
          events: orThrow(validateEvents(w['events'], `writes[${i}].events`)),
          expected,
        }
      })
      const o = orThrow(
        decodeStrict(t.partial({ checkpoint: CheckpointOption }), 'options', options),
      )
      return submit({
        kind: 'append',
        writes: checked,
        ...(o.checkpoint === undefined ? {} : { checkpoint: o.checkpoint }),
      })
    },
    readStream: (streamId, options) => {
      const id = validateStreamId(streamId)
      if (E.isLeft(id)) return failing(id.left)
      const o = decodeRead('readStream', ReadStreamOptions, options)
      if (E.isLeft(o)) return failing(o.left)
      return streamEvents(
        id.right,
        o.right.lower,
        o.right.to,
        o.right.direction === 'backwards',
        o.right.maxCount,
        undefined,
      )
    },
    readAll: (options) => {
      const decoded = decodeRead('readAll', ReadAllOptions, options)
      if (E.isLeft(decoded)) return failing(decoded.left)
      const o = decoded.right
      const entries = log.scan({
        reverse: o.direction === 'backwards',
        ...(o.lower === undefined ? {} : { from: o.lower }),
        ...(o.to === undefined ? {} : { to: o.to }),
      })
      return allEvents(entries, o.filter, o.maxCount)
    },
    aggregateStream: async (streamId, { initialState, evolve }) => {
      let state = initialState
      for await (const event of streamEvents(
        orThrow(validateStreamId(streamId)),
        0,
        undefined,
        false,
        undefined,
        undefined,
      )) {
        state = evolve(state, event)
      }
      return state
    },
    subscribeToAll: (options) => {
      const decoded = decodeRead('subscribeToAll', SubscribeAllOptions, options)
      if (E.isLeft(decoded)) return failing(decoded.left)
      const o = decoded.right
      const signal = combinedSignal(o.signal)
      const from = o.lower ?? 0
      return (async function* (): AsyncGenerator<SubscriptionMessage> {
        const end = Math.max(from, log.nextSequence())
        for await (const event of allEvents(log.scan({ from, to: end }), o.filter, undefined)) {
          if (signal.aborted) return
          yield { type: 'event', event }
        }
        if (signal.aborted) return
        yield { type: 'caughtUp' }
        for await (const event of allEvents(
          log.follow({ from: end, signal }),
          o.filter,
          undefined,
        )) {
          yield { type: 'event', event }
        }
      })()
    },
    subscribeToStream: (streamId, options) => {
      const id = validateStreamId(streamId)
      if (E.isLeft(id)) return failing(id.left)
      const decoded = decodeRead('subscribeToStream', SubscribeStreamOptions, options)
      if (E.isLeft(decoded)) return failing(decoded.left)
      const o = decoded.right
      const signal = combinedSignal(o.signal)
      const from = o.lower ?? 0
      return (async function* (): AsyncGenerator<SubscriptionMessage> {
        const end = log.nextSequence()
        for await (const event of streamEvents(id.right, from, undefined, false, undefined, end)) {
          if (signal.aborted) return
          yield { type: 'event', event }
        }
        if (signal.aborted) return
        yield { type: 'caughtUp' }
        for await (const entry of log.follow({ key: eventsKey(id.right), from: end, signal })) {
          const event = await visibleEvent(entry, undefined)
          if (event !== undefined && event.revision >= from) yield { type: 'event', event }
        }
      })()
    },
    checkpoints: {
      save: async (name, position) => {
        orThrow(validateId(name, 'name'))
        if (!Natural.is(position)) {
          throw toDeltalogError(invalidArgument('position', 'must be a non-negative safe integer'))
        }
        await submit({ kind: 'checkpoint', name, position })
      },
      load: async (name) => {
        orThrow(validateId(name, 'name'))
        const entry = await lastOf(log, checkpointKey(name))
        return entry === undefined ? undefined : orThrow(decodeCheckpoint(entry.value))
      },
    },
    deleteStream: async (streamId) => {
      await submit({ kind: 'delete', streamId: orThrow(validateStreamId(streamId)) })
    },
    close: async () => {
      if (!isClosed) {
        isClosed = true
        if (writing || queue.length > 0) await new Promise<void>((resolve) => idle.push(resolve))
        subscriptions.abort()
        if (owned) await log.close()
      }
    },
  }
}
