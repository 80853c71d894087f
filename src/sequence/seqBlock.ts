/**
 * SeqBlock: the one record the sequence allocator persists. It reserves the range of sequence
 * numbers `[baseSequence, baseSequence + blockSize)`; after a restart the allocator continues at
 * the block's `nextBase`, so numbers are never reused. Its 16-byte encoding is byte-compatible
 * with the reference allocator's: `baseSequence u64 BE | blockSize u64 BE`.
 */
import * as E from 'fp-ts/lib/Either.js'
import * as O from 'fp-ts/lib/Option.js'
import { readU64, U64_BYTES, writeU64 } from '../codec/u64.js'
import {
  corruption,
  sequenceOverflow,
  type CorruptionError,
  type SequenceOverflowError,
} from '../errors.js'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/**
 * A reserved block of sequence numbers. Both fields are non-negative safe integers, the size is
 * at least 1, and `baseSequence + blockSize` never exceeds `Number.MAX_SAFE_INTEGER`, so every
 * number in the block and the block's `nextBase` are exact.
 */
export interface SeqBlock {
  readonly baseSequence: number
  readonly blockSize: number
}

/** The size in bytes of an encoded SeqBlock. */
export const SEQ_BLOCK_BYTES = 16

/** Sequences are JavaScript numbers; this is the largest the allocator ever hands out or stores. */
export const MAX_SEQUENCE = Number.MAX_SAFE_INTEGER

// -------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------

/**
 * Builds a block, refusing any whose range would leave the safe integers: sequences must stay
 * exact, so an overflow is an error value rather than a silent loss of precision.
 */
export const seqBlock = (
  baseSequence: number,
  blockSize: number,
): E.Either<SequenceOverflowError, SeqBlock> =>
  !Number.isSafeInteger(baseSequence) || baseSequence < 0
    ? E.left(sequenceOverflow(`block base ${baseSequence} is not a safe non-negative integer`))
    : !Number.isSafeInteger(blockSize) || blockSize < 1
      ? E.left(sequenceOverflow(`block size ${blockSize} is not a safe positive integer`))
      : baseSequence > MAX_SEQUENCE - blockSize
        ? E.left(
            sequenceOverflow(
              `block [${baseSequence}, ${baseSequence} + ${blockSize}) ends past ${MAX_SEQUENCE}`,
            ),
          )
        : E.right({ baseSequence, blockSize })

// -------------------------------------------------------------------------------------
// destructors
// -------------------------------------------------------------------------------------

/** The first sequence after the block: where the next block starts. */
export const nextBase = (block: SeqBlock): number => block.baseSequence + block.blockSize

/** Whether `sequence` lies inside the block's range. */
export const contains =
  (sequence: number) =>
  (block: SeqBlock): boolean =>
    sequence >= block.baseSequence && sequence < nextBase(block)

// -------------------------------------------------------------------------------------
// codecs
// -------------------------------------------------------------------------------------

/**
 * Encodes a block as 16 bytes: `baseSequence` then `blockSize`, each an unsigned 64-bit
 * big-endian integer.
 *
 * Laws (checked by properties in test/sequence/seqBlock.test.ts):
 * - round trip: `decodeSeqBlock(encodeSeqBlock(b))` is `right(b)` for every valid block `b`;
 * - length: `encodeSeqBlock(b).length === 16`.
 */
export const encodeSeqBlock = (block: SeqBlock): Uint8Array => {
  const bytes = new Uint8Array(SEQ_BLOCK_BYTES)
  writeU64(bytes, 0, block.baseSequence)
  writeU64(bytes, U64_BYTES, block.blockSize)
  return bytes
}

/**
 * Decodes the 16-byte encoding. Anything of another length, or a zero size, is `CORRUPTION`;
 * a well-formed block whose range leaves the safe integers is `SEQUENCE_OVERFLOW`.
 */
export const decodeSeqBlock = (
  bytes: Uint8Array,
): E.Either<CorruptionError | SequenceOverflowError, SeqBlock> => {
  if (bytes.length !== SEQ_BLOCK_BYTES) {
    return E.left(corruption(`SeqBlock must be ${SEQ_BLOCK_BYTES} bytes, got ${bytes.length}`))
  }
  const base = readU64(bytes, 0)
  const size = readU64(bytes, U64_BYTES)
  if (O.isNone(base) || O.isNone(size)) {
    return E.left(sequenceOverflow(`stored SeqBlock lies past ${MAX_SEQUENCE}`))
  }
  if (size.value === 0) return E.left(corruption('SeqBlock has size 0'))
  return seqBlock(base.value, size.value)
}
