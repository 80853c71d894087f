/**
 * `deltalog/fp`: the operations of the Promise API as fp-ts values, under the same names, for
 * code that composes with fp-ts. Each effect is a `TaskEither` whose Left is the error value a
 * `DeltalogError` would carry (`DeltalogErrorValue`, discriminated by `code`); reads stay async
 * iterators. The Storage port, which adapter authors implement, is TaskEither-shaped too, and
 * its types are here. See docs/fp.md.
 */
export { openLogTE as openLog } from '../openLog.js'
export type { LogTE } from '../log/types.js'
export type { LogMetrics } from '../log/metrics.js'
export { openEventStore, type EventStoreTE } from './eventStore.js'
export { openMemoryStorageTE as openMemoryStorage } from '../storage/memory.js'
export { openRocksStorageTE as openRocksStorage } from '../storage/rocksdb.js'
export { openPostgresStorageTE as openPostgresStorage } from '../postgres/storage.js'
export { openCrashStorageTE as openCrashStorage } from '../testing/crashStorage.js'
export { verifyStorageTE as verifyStorage } from '../verify/verify.js'
export { migrateLogTE as migrateLog } from '../format/migrate.js'
export type {
  Batch,
  BatchOp,
  Capabilities,
  DelOp,
  DisposableStorage,
  IterateOptions,
  KeyValue,
  PutOp,
  Storage,
  StorageIterator,
  WriteOptions,
} from '../storage/port.js'
export type {
  AbortedError,
  AppendConditionFailedError,
  BackpressureError,
  ClosedError,
  CorruptionError,
  DecodeFailedError,
  DeltalogErrorValue,
  ErrorCode,
  EventIdConflictError,
  EventStoreError,
  ExpectedRevision,
  FencedError,
  HandlerFailedError,
  InvalidArgumentError,
  IoError,
  LockedError,
  LogError,
  MigrationNeededError,
  NotALogError,
  NotEmptyError,
  ReadOnlyError,
  SequenceOverflowError,
  StorageError,
  WriterFailedError,
  WrongExpectedRevisionError,
} from '../errors.js'
