/**
 * deltalog: an embedded write-ahead log engine. This entry point exports the public API; the pure
 * core (allocator, Delta, key codec) is exported too, for tools and tests that build on it.
 */
export {
  DeltalogError,
  closed,
  corruption,
  ioError,
  locked,
  invalidArgument,
  sequenceOverflow,
  type CoreError,
  type CoreErrorCode,
  type ClosedError,
  type CorruptionError,
  type DeltalogErrorValue,
  type ErrorCode,
  type InvalidArgumentError,
  type IoError,
  type LockedError,
  type SequenceOverflowError,
  type StorageError,
  type WriterFailedError,
  type BackpressureError,
  type NotEmptyError,
  notEmpty,
  type LogError,
  type DecodeFailedError,
  type EventIdConflictError,
  type EventStoreError,
  type ExpectedRevision,
  type WrongExpectedRevisionError,
} from './errors.js'
export {
  MAX_SEQUENCE,
  SEQ_BLOCK_BYTES,
  contains,
  decodeSeqBlock,
  encodeSeqBlock,
  nextBase,
  seqBlock,
  type SeqBlock,
} from './sequence/seqBlock.js'
export {
  DEFAULT_BLOCK_SIZE,
  allocate,
  load,
  peekNextSequence,
  remaining,
  type Allocation,
  type AllocatorError,
  type AllocatorState,
} from './sequence/allocator.js'
export {
  buildDelta,
  entriesOf,
  placeDelta,
  recordsOf,
  segmentsOf,
  toCommitBatch,
  type AppendRange,
  type BuiltDelta,
  type Delta,
  type Entry,
  type EntryRecord,
  type Records,
  type Segment,
} from './delta/delta.js'
export { keyBytes, prefixSuccessor, type KeyRange } from './codec/keys.js'
export {
  iterate,
  type Batch,
  type BatchOp,
  type Capabilities,
  type DelOp,
  type IterateOptions,
  type KeyValue,
  type PutOp,
  type Storage,
  type StorageIterator,
  type WriteOptions,
} from './storage/port.js'
export { openMemoryStorage } from './storage/memory.js'
export { openRocksStorage, type RocksStorageOptions } from './storage/rocksdb.js'
export {
  DEFAULTS,
  openLog,
  openLogTE,
  type AppendRecord,
  type AppendResult,
  type CountOptions,
  type FollowOptions,
  type KeysOptions,
  type Log,
  type LogEntry,
  type LogHead,
  type LogTE,
  type OpenOptions,
  type PlacedRecord,
  type ScanOptions,
} from './openLog.js'
export { migrateLog, type MigrationOptions, type MigrationReport } from './format/migrate.js'
export { verifyStorage, type VerifyReport } from './verify/verify.js'
export {
  openEventStore,
  type EventAppendOptions,
  type EventAppendResult,
  type EventStore,
  type OpenEventStoreOptions,
  type ReadAllFilter,
  type ReadEvent,
  type SubscriptionMessage,
} from './eventstore/store.js'
export type { EventInput, Json } from './eventstore/envelope.js'
