/**
 * `deltalog/core`: the pure core, for tools that build on deltalog's records — the SeqBlock
 * allocator, the Delta of a commit and its atomic batch, and the codecs of on-disk format 2.
 * Everything here takes values and returns values (failures as `Either`); nothing does I/O.
 * docs/format.md describes the bytes; docs/architecture.md where each piece sits.
 */
export {
  MAX_SEQUENCE,
  SEQ_BLOCK_BYTES,
  contains,
  decodeSeqBlock,
  encodeSeqBlock,
  nextBase,
  seqBlock,
  type SeqBlock,
} from '../sequence/seqBlock.js'
export {
  DEFAULT_BLOCK_SIZE,
  allocate,
  load,
  peekNextSequence,
  remaining,
  type Allocation,
  type AllocatorError,
  type AllocatorState,
} from '../sequence/allocator.js'
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
} from '../delta/delta.js'
export type { Batch, BatchOp, DelOp, PutOp } from '../delta/batch.js'
export { keyBytes, prefixSuccessor, type KeyRange } from '../codec/keys.js'
export { FORMAT_VERSION, RecordType, formatKey, metaKey, seqBlockKey } from '../codec/records.js'
export {
  GENESIS,
  chainChecksum,
  decodeCommit,
  decodeCommitKey,
  encodeCommitKey,
  verifyLink,
  type ChainLink,
  type DecodedCommit,
} from '../codec/commit.js'
export { decodeRunRecord, encodeRunKey, runRange, type RunRecord } from '../codec/run.js'
export {
  NO_TRUNCATION,
  decodeTruncation,
  encodeTruncation,
  truncationKey,
  type Truncation,
} from '../codec/truncation.js'
export type {
  CoreError,
  CorruptionError,
  InvalidArgumentError,
  SequenceOverflowError,
} from '../errors.js'
