/**
 * The event store in fp-ts form: every operation that resolves or rejects in the Promise API is
 * here a TaskEither whose Left is the error value the `DeltalogError` would carry. Reads and
 * subscriptions stay async iterators, as in the log's `LogTE` (they throw `DeltalogError`).
 */
import * as TE from 'fp-ts/lib/TaskEither.js'
import { pipe } from 'fp-ts/lib/function.js'
import { errorValueOf, type DeltalogErrorValue } from '../errors.js'
import type { AggregateOptions } from '../eventstore/options.js'
import {
  openEventStore as openEventStorePromise,
  type EventStore,
  type OpenEventStoreOptions,
} from '../eventstore/store.js'
import type {
  AppendRecord,
  CountOptions,
  FollowOptions,
  KeysOptions,
  ScanOptions,
} from '../log/options.js'
import type { Log, LogTE, PlacedRecord } from '../log/types.js'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** A Promise-returning operation as a TaskEither of the same arguments. */
type TaskOf<F> = F extends (...args: infer A) => Promise<infer R>
  ? (...args: A) => TE.TaskEither<DeltalogErrorValue, R>
  : F

/** An open event store, every effect a TaskEither; see `EventStore` for what each one does. */
export interface EventStoreTE {
  readonly appendToStream: TaskOf<EventStore['appendToStream']>
  readonly appendMulti: TaskOf<EventStore['appendMulti']>
  readonly append: TaskOf<EventStore['append']>
  readonly read: EventStore['read']
  readonly subscribe: EventStore['subscribe']
  readonly readStream: EventStore['readStream']
  readonly readAll: EventStore['readAll']
  readonly aggregateStream: <S>(
    streamId: string,
    options: AggregateOptions<S>,
  ) => TE.TaskEither<DeltalogErrorValue, S>
  readonly subscribeToAll: EventStore['subscribeToAll']
  readonly subscribeToStream: EventStore['subscribeToStream']
  readonly checkpoints: {
    readonly save: TaskOf<EventStore['checkpoints']['save']>
    readonly load: TaskOf<EventStore['checkpoints']['load']>
  }
  readonly deleteStream: TaskOf<EventStore['deleteStream']>
  /** The event store's log, for tools, in its TaskEither form. */
  readonly log: LogTE
  readonly close: () => TE.TaskEither<DeltalogErrorValue, void>
}

// -------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------

const task =
  <A extends ReadonlyArray<unknown>, R>(f: (...args: A) => Promise<R>) =>
  (...args: A): TE.TaskEither<DeltalogErrorValue, R> =>
    TE.tryCatch(() => f(...args), errorValueOf)

/**
 * The TaskEither form of an open store. REQUIRES: `log` is the TaskEither form of `store.log`
 * (the fp entry point opens both, so that each call goes to the same engine).
 */
const fromStore = (store: EventStore, log: LogTE): EventStoreTE => ({
  appendToStream: task(store.appendToStream),
  appendMulti: task(store.appendMulti),
  append: task(store.append),
  read: store.read,
  subscribe: store.subscribe,
  readStream: store.readStream,
  readAll: store.readAll,
  aggregateStream: (streamId, options) =>
    TE.tryCatch(() => store.aggregateStream(streamId, options), errorValueOf),
  subscribeToAll: store.subscribeToAll,
  subscribeToStream: store.subscribeToStream,
  checkpoints: { save: task(store.checkpoints.save), load: task(store.checkpoints.load) },
  deleteStream: task(store.deleteStream),
  log,
  close: task(store.close),
})

/**
 * The log of a Promise-API store as a LogTE: each effect the same call, as a TaskEither. The
 * LogTE takes its arguments as `unknown` because the engine checks them; so does the Log it calls.
 */
const logOf = (log: Log): LogTE => ({
  append: (records) => task(log.append)(records as ReadonlyArray<AppendRecord>),
  appendAt: (entries) => task(log.appendAt)(entries as ReadonlyArray<PlacedRecord>),
  flush: task(log.flush),
  nextSequence: log.nextSequence,
  durableSequence: log.durableSequence,
  head: log.head,
  scan: (options) => log.scan(options as ScanOptions | undefined),
  count: (options) => task(log.count)(options as CountOptions | undefined),
  follow: (options) => log.follow(options as FollowOptions | undefined),
  keys: (options) => log.keys(options as KeysOptions | undefined),
  truncateBefore: (sequence) => task(log.truncateBefore)(sequence as number),
  close: task(log.close),
  metrics: log.metrics,
})

/** Opens an event store (as `openEventStore` does) in its TaskEither form. */
export const openEventStore = (
  options: OpenEventStoreOptions,
): TE.TaskEither<DeltalogErrorValue, EventStoreTE> =>
  pipe(
    TE.tryCatch(() => openEventStorePromise(options), errorValueOf),
    TE.map((store) => fromStore(store, logOf(store.log))),
  )
