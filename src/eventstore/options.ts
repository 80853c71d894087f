/**
 * What a caller hands the event store, declared once each: an io-ts codec, whose type is the
 * public type (`t.TypeOf`). Unknown fields are refused, and so are options whose spelling
 * changed, with what to write instead; every failure is an `INVALID_ARGUMENT` naming the field.
 */
import * as E from 'fp-ts/lib/Either.js'
import * as t from 'io-ts'
import { invalidArgument, type DeltalogErrorValue, type ExpectedRevision } from '../errors.js'
import type { Log } from '../openLog.js'
import {
  AbortSignalLike,
  decodeStrict,
  Durability,
  FileMode,
  fromGuard,
  lowerBound,
  Natural,
  Positive,
} from '../log/options.js'
import type { Storage } from '../storage/port.js'
import { MAX_ID_BYTES, validateId } from './envelope.js'
import { validateCondition, type AppendCondition } from './query.js'
import type { ReadEvent } from './model.js'
import type { Upcasters } from './upcast.js'

// -------------------------------------------------------------------------------------
// opening
// -------------------------------------------------------------------------------------

const isLog = (u: unknown): u is Log =>
  typeof u === 'object' &&
  u !== null &&
  ['append', 'scan', 'follow', 'close', 'nextSequence'].every(
    (m) => typeof (u as Record<string, unknown>)[m] === 'function',
  )

// Only an object here: `openLog` checks it in full as a Storage, and says what is missing.
const StorageObject = fromGuard(
  'Storage',
  (u): u is Storage => typeof u === 'object' && u !== null && !Array.isArray(u),
)

/** io-ts decoders per event type. */
export type Codecs = Record<string, t.Decoder<unknown, unknown>>

const isCodecs = (u: unknown): u is Codecs =>
  typeof u === 'object' &&
  u !== null &&
  Object.values(u).every(
    (d) =>
      typeof d === 'object' &&
      d !== null &&
      typeof (d as t.Decoder<unknown, unknown>).decode === 'function',
  )

/** How to open an event store: exactly one of `path`, `storage` and `log`. */
export const OpenEventStoreOptions = t.partial({
  /** A directory for a RocksDB log of the store's own (created when missing). */
  path: t.string,
  /** Any Storage adapter, for a log of the store's own. */
  storage: StorageObject,
  /** A log that is already open: the store shares it and leaves it open when it closes. */
  log: fromGuard('Log', isLog),
  /** As for `openLog`: `sync` (default) resolves appends after fsync, `buffered` after the write. */
  durability: Durability,
  /** As for `openLog`: sequence numbers reserved per SeqBlock record (default 4096). */
  blockSize: Positive,
  /** The mode of a directory a new store is created in (default 0o700, its owner's alone). */
  directoryMode: FileMode,
  /** io-ts codecs per event type: `data` is checked with them on append and decoded on read. */
  codecs: fromGuard('Record<eventType, io-ts codec>', isCodecs),
  /**
   * Read only, from any process: the log is opened read-only (or `log` is only read), nothing is
   * written, and every write rejects with `READ_ONLY`. See readOnly.ts.
   */
  readOnly: t.boolean,
  /** Per event type, its upcasters or history (upcast.ts; checked in full on open). */
  upcasters: fromGuard(
    'Record<eventType, upcasters>',
    (u): u is Upcasters => typeof u === 'object' && u !== null && !Array.isArray(u),
  ),
})
export type OpenEventStoreOptions = Readonly<t.TypeOf<typeof OpenEventStoreOptions>>

// -------------------------------------------------------------------------------------
// appending
// -------------------------------------------------------------------------------------

/** What an append may expect of its stream, with the forms named in its error. */
export const ExpectedRevisionCodec = fromGuard(
  "'any', 'no_stream', 'stream_exists' or a non-negative integer revision (the stream's last)",
  (u): u is ExpectedRevision =>
    u === 'any' || u === 'no_stream' || u === 'stream_exists' || Natural.is(u),
)

const CheckpointName = fromGuard(
  `a non-empty, well-formed string of at most ${MAX_ID_BYTES} UTF-8 bytes`,
  (u): u is string => E.isRight(validateId(u, 'name')),
)

const CheckpointOption = t.readonly(t.type({ name: CheckpointName, position: Natural }))

/** An append's condition, checked in full by `validateCondition` (query.ts). */
const ConditionOption = fromGuard(
  "{ failIfEventsMatch: 'all' | { items: [{ types?, tags? }, …] }, after?: position }",
  (u): u is AppendCondition => E.isRight(validateCondition(u, 'condition', {})),
)

/** The options of `appendToStream`. */
export const EventAppendOptions = t.partial({
  /** What the stream must look like for the append to go ahead (default `'any'`). */
  expectedRevision: ExpectedRevisionCodec,
  /** Saves a checkpoint in the same atomic commit as the events. */
  checkpoint: CheckpointOption,
  /** Fails the append if an event matching the query exists above `after`. */
  condition: ConditionOption,
})
export type EventAppendOptions = Readonly<t.TypeOf<typeof EventAppendOptions>>

/** The options of `appendMulti`: each write carries its own expectation. */
export const MultiAppendOptions = t.partial({
  checkpoint: CheckpointOption,
  /** Fails the append if an event matching the query exists above `after`. */
  condition: ConditionOption,
})
export type MultiAppendOptions = Readonly<t.TypeOf<typeof MultiAppendOptions>>

/** The options of `append`: events of no stream, with a condition and a checkpoint. */
export const AppendEventsOptions = MultiAppendOptions
export type AppendEventsOptions = MultiAppendOptions

// -------------------------------------------------------------------------------------
// reading and subscribing
// -------------------------------------------------------------------------------------

const RANGE = { from: Natural, after: Natural, to: Natural }

/**
 * Where a read starts and ends: in positions for `readAll` and `subscribeToAll`, in revisions
 * for `readStream` and `subscribeToStream`. Give `from` (inclusive) or `after` (exclusive: the
 * last one already handled, such as a checkpoint's position), not both; `to` is exclusive.
 * `reverse` changes a read's order, never its range: read backwards from `p` with
 * `{ to: p + 1, reverse: true }`.
 */
export const ReadRange = t.partial(RANGE)
export type ReadRange = Readonly<t.TypeOf<typeof ReadRange>>

/** Which events `readAll` and `subscribeToAll` deliver. */
export const ReadAllFilter = t.partial({
  streamPrefix: t.string,
  eventTypes: t.readonlyArray(t.string),
})
export type ReadAllFilter = Readonly<t.TypeOf<typeof ReadAllFilter>>

// What every bounded read takes besides its range, as the log's scan does.
const BOUNDED = {
  /** Newest first (default false): the order changes, the range does not. */
  reverse: t.boolean,
  /** At most this many events. */
  limit: Natural,
  /** Aborting it stops the read: its next step rejects with `ABORTED`. */
  signal: AbortSignalLike,
}

/** The options of `readStream`: a range of revisions. */
export const ReadStreamOptions = t.partial({ ...RANGE, ...BOUNDED })
export type ReadStreamOptions = Readonly<t.TypeOf<typeof ReadStreamOptions>>

/** The options of `readAll`: a range of positions. */
export const ReadAllOptions = t.partial({ ...RANGE, ...BOUNDED, filter: ReadAllFilter })
export type ReadAllOptions = Readonly<t.TypeOf<typeof ReadAllOptions>>

/** The options of `read`: a range of positions, in order. */
export const ReadQueryOptions = t.partial({ ...RANGE, limit: Natural, signal: AbortSignalLike })
export type ReadQueryOptions = Readonly<t.TypeOf<typeof ReadQueryOptions>>

/** The options of `subscribe`: a start position; aborting `signal` ends it quietly. */
export const SubscribeQueryOptions = t.partial({
  from: Natural,
  after: Natural,
  signal: AbortSignalLike,
})
export type SubscribeQueryOptions = Readonly<t.TypeOf<typeof SubscribeQueryOptions>>

/** The options of `aggregateStream`: a left fold over the stream's events, in order. */
export interface AggregateOptions<S> {
  readonly initialState: S
  readonly evolve: (state: S, event: ReadEvent) => S
  /** Aborting it stops the fold: the promise rejects with `ABORTED`. */
  readonly signal?: AbortSignal
  /**
   * Keeps the folded state (which must be JSON) every `every` events and starts later folds
   * from it; a snapshot of another `version` is ignored (snapshots.ts).
   */
  readonly snapshot?: { readonly every: number; readonly version: number }
}

/** The options of `subscribeToAll`: a start position; aborting `signal` ends it quietly. */
export const SubscribeToAllOptions = t.partial({
  from: Natural,
  after: Natural,
  filter: ReadAllFilter,
  signal: AbortSignalLike,
})
export type SubscribeToAllOptions = Readonly<t.TypeOf<typeof SubscribeToAllOptions>>

/** The options of `subscribeToStream`: a start revision; aborting `signal` ends it quietly. */
export const SubscribeToStreamOptions = t.partial({
  from: Natural,
  after: Natural,
  signal: AbortSignalLike,
})
export type SubscribeToStreamOptions = Readonly<t.TypeOf<typeof SubscribeToStreamOptions>>

// Options refused with what to write instead, never read with another meaning: 0.1's
// `fromPosition` and `fromRevision` (inclusive in reads, exclusive in subscriptions), and
// `direction` and `maxCount`, which deltalog spells `reverse` and `limit` everywhere.
const ORDER_AND_LIMIT = {
  direction: 'is not an option; write reverse: true to read backwards (forwards is the default)',
  maxCount: 'is not an option; write limit',
}
const REFUSED = {
  readAll: {
    fromPosition:
      'is no longer accepted; use from: p (inclusive) or after: p (exclusive); to read backwards from p, to: p + 1',
    ...ORDER_AND_LIMIT,
  },
  readStream: {
    fromRevision:
      'is no longer accepted; use from: r (inclusive) or after: r (exclusive); to read backwards from r, to: r + 1',
    ...ORDER_AND_LIMIT,
  },
  subscribeToAll: {
    fromPosition:
      "is no longer accepted; use after: p for what fromPosition meant (exclusive, e.g. a checkpoint's last processed position), or from: p (inclusive)",
  },
  read: {
    reverse: 'is not an option of read by query, which reads in position order',
    ...ORDER_AND_LIMIT,
  },
  subscribe: {},
  subscribeToStream: {
    fromRevision:
      'is no longer accepted; use after: r for what fromRevision meant (exclusive), or from: r (inclusive)',
  },
}

/**
 * Decodes a read's options: a refused option is named first, then the codec checks the rest,
 * then `from`/`after` become `lower`, the first position or revision the range includes.
 */
export const decodeRead = <A extends { readonly from?: number; readonly after?: number }>(
  read: keyof typeof REFUSED,
  codec: t.Decoder<unknown, A> & { readonly props: Record<string, unknown> },
  input: unknown,
): E.Either<DeltalogErrorValue, A & { readonly lower: number | undefined }> => {
  const refused = Object.entries(REFUSED[read]).find(
    ([name]) => typeof input === 'object' && input !== null && Object.hasOwn(input, name),
  )
  if (refused !== undefined) {
    const [name, instead] = refused
    return E.left(invalidArgument(`options.${name}`, instead))
  }
  const decoded = decodeStrict(codec, 'options', input)
  if (E.isLeft(decoded)) return decoded
  return E.map((lower: number | undefined) => ({ ...decoded.right, lower }))(
    lowerBound(decoded.right),
  )
}
