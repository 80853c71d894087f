/**
 * deltalog: an embedded write-ahead log engine. This entry point exports the public API; the pure
 * core (allocator, Delta, key codec) is exported too, for tools and tests that build on it.
 */
export {
  corruption,
  invalidArgument,
  sequenceOverflow,
  type CoreError,
  type CoreErrorCode,
  type CorruptionError,
  type InvalidArgumentError,
  type SequenceOverflowError,
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
  toBatch,
  type AppendRange,
  type BuiltDelta,
  type Delta,
  type Entry,
  type EntryRecord,
} from './delta/delta.js'
export {
  FORMAT_VERSION,
  RecordType,
  decodeEntryKey,
  encodeEntryKey,
  entryPrefixRange,
  entryRange,
  keyBytes,
  prefixSuccessor,
  recordPrefix,
  recordRange,
  seqBlockKey,
  type EntryKey,
  type KeyRange,
} from './codec/keys.js'
export type { Batch, BatchOp, DelOp, PutOp } from './storage/port.js'
