/**
 * deltalog: an embedded write-ahead log and event store. This entry point is the Promise API:
 * every call resolves with its value or rejects with a `DeltalogError` carrying a stable `code`
 * (docs/errors.md). The same operations as fp-ts TaskEithers are in `deltalog/fp`; the pure core
 * (allocator, Delta, codecs) in `deltalog/core`; PostgreSQL in `deltalog/postgres`; the
 * crash-simulation toolkit in `deltalog/testing`.
 */
export {
  DeltalogError,
  type DeltalogErrorValue,
  type ErrorCode,
  type ExpectedRevision,
} from './errors.js'
export type { DisposableStorage, Storage } from './storage/port.js'
export { openMemoryStorage } from './storage/memory.js'
export { openRocksStorage, type RocksStorageOptions } from './storage/rocksdb.js'
export {
  DEFAULTS,
  openLog,
  type AppendRecord,
  type AppendResult,
  type CountOptions,
  type FollowOptions,
  type KeysOptions,
  type Log,
  type LogEntry,
  type LogHead,
  type OpenOptions,
  type PlacedRecord,
  type ScanOptions,
} from './openLog.js'
export type { CommitMetrics, FollowerMetrics, LogMetrics } from './log/metrics.js'
export type { HistogramBucket, HistogramSnapshot } from './diagnostics/histogram.js'
export { CHANNEL_NAMES, type ChannelKey, type TraceContext } from './diagnostics/channels.js'
export type { AppendContext, TruncateContext } from './log/engine.js'
export type { CommitContext, WriteContext } from './log/observe.js'
export { migrateLog, type MigrationOptions, type MigrationReport } from './format/migrate.js'
export { verifyStorage, type VerifyOptions, type VerifyReport } from './verify/verify.js'
export {
  openEventStore,
  type AppendCondition,
  type AppendEventsOptions,
  type AppendEventsResult,
  type Query,
  type QueryItem,
  type ReadQueryOptions,
  type SubscribeQueryOptions,
  type EventAppendOptions,
  type EventAppendResult,
  type EventStore,
  type OpenEventStoreOptions,
  type ReadAllOptions,
  type ReadEvent,
  type ReadStreamOptions,
  type SubscriptionMessage,
  type EventTypeHistory,
  type UpcastInput,
  type UpcastOutput,
  type Upcaster,
  type Upcasters,
  type Consumer,
  type ConsumerOptions,
  type RetryOptions,
  type Documents,
  type KeyedDocument,
  type ProjectionState,
  type ScanDocumentsOptions,
  type Projection,
  type ProjectionOptions,
  type Lag,
  type Partition,
  partitionOf,
} from './eventstore/store.js'
export type { EventInput, Json } from './eventstore/envelope.js'
// What the event store's tracing channels carry (docs/event-store.md, Tracing).
export type { DeliverContext, EventAppendContext } from './diagnostics/channels.js'
