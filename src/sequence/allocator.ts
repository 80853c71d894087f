/**
 * The sequence allocator as a pure state machine. It hands out contiguous ranges of one global,
 * strictly increasing sequence and, whenever the current block runs out, emits exactly one new
 * SeqBlock record that the caller must persist in the same atomic batch as the entries that use
 * it. Persisting nothing itself is what lets a commit carry entries and block together: the
 * allocator never promises a number whose block is not in the commit that uses it.
 *
 * Behaviour follows the reference block allocator: after a restart it resumes at the stored
 * block's `nextBase`, skipping the unused rest of that block, so numbers are never reused.
 */
import * as E from 'fp-ts/lib/Either.js'
import * as O from 'fp-ts/lib/Option.js'
import {
  invalidArgument,
  sequenceOverflow,
  type InvalidArgumentError,
  type SequenceOverflowError,
} from '../errors.js'
import { MAX_SEQUENCE, nextBase, seqBlock, type SeqBlock } from './seqBlock.js'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** Numbers reserved per block unless a single request needs more. */
export const DEFAULT_BLOCK_SIZE = 4096

/**
 * The allocator's whole state. `nextSequence` is the next number it hands out; `current` is the
 * newest block it knows of (loaded or emitted), whose `nextBase` bounds what it may hand out
 * without emitting another.
 */
export interface AllocatorState {
  readonly current: O.Option<SeqBlock>
  readonly nextSequence: number
  readonly blockSize: number
}

/**
 * One allocation: the range `[base, base + count)`, the state after it, and the SeqBlock record
 * to persist with the entries that use the range — `some` exactly when a new block was needed.
 */
export interface Allocation {
  readonly base: number
  readonly count: number
  readonly state: AllocatorState
  readonly record: O.Option<SeqBlock>
}

export type AllocatorError = InvalidArgumentError | SequenceOverflowError

// -------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------

/**
 * Restores an allocator from the last persisted block. With a block, the next sequence is that
 * block's `nextBase`, so the first allocation emits a fresh block; with none, it starts at 0.
 */
export const load = (
  stored: O.Option<SeqBlock>,
  blockSize: number = DEFAULT_BLOCK_SIZE,
): E.Either<InvalidArgumentError, AllocatorState> =>
  !Number.isSafeInteger(blockSize) || blockSize < 1
    ? E.left(invalidArgument('blockSize', `must be a positive safe integer, got ${blockSize}`))
    : E.right({
        current: stored,
        nextSequence: O.isSome(stored) ? nextBase(stored.value) : 0,
        blockSize,
      })

// -------------------------------------------------------------------------------------
// destructors
// -------------------------------------------------------------------------------------

/** The base the next non-empty allocation returns. */
export const peekNextSequence = (state: AllocatorState): number => state.nextSequence

/** How many numbers are left in the current block before a new one must be emitted. */
export const remaining = (state: AllocatorState): number =>
  O.isSome(state.current) ? Math.max(0, nextBase(state.current.value) - state.nextSequence) : 0

// -------------------------------------------------------------------------------------
// combinators
// -------------------------------------------------------------------------------------

/**
 * Allocates `count` contiguous numbers. What is left of the current block is used first; when it
 * does not suffice, ONE new block starting at the current block's `nextBase` (0 when there is
 * none) and of size `max(count − remaining, blockSize)` is emitted (`nextBlock`, which cuts it
 * short near `MAX_SEQUENCE`), so the range stays contiguous across the boundary. A count of 0 returns the next sequence and changes nothing.
 * A range that would pass `MAX_SEQUENCE` is `SEQUENCE_OVERFLOW`, and the state is left as it was.
 */
export const allocate = (
  state: AllocatorState,
  count: number,
): E.Either<AllocatorError, Allocation> => {
  if (!Number.isSafeInteger(count) || count < 0) {
    return E.left(invalidArgument('count', `must be a non-negative safe integer, got ${count}`))
  }
  const base = state.nextSequence
  if (base > MAX_SEQUENCE - count) {
    return E.left(sequenceOverflow(`allocating ${count} from ${base} passes ${MAX_SEQUENCE}`))
  }
  const left = remaining(state)
  if (left >= count) {
    return E.right({
      base,
      count,
      state: { ...state, nextSequence: base + count },
      record: O.none,
    })
  }
  const fromNewBlock = count - left
  return E.map((block: SeqBlock) => ({
    base: left > 0 ? base : block.baseSequence,
    count,
    state: {
      ...state,
      current: O.some(block),
      nextSequence: block.baseSequence + fromNewBlock,
    },
    record: O.some(block),
  }))(nextBlock(state, fromNewBlock))
}

/**
 * The block to emit after `state`'s current one when `needed` more numbers are wanted than it
 * has left: it starts at the current block's `nextBase` (0 when there is none) and holds
 * `max(needed, blockSize)` numbers — except near the top, where it is cut to end at
 * `MAX_SEQUENCE − 1`, so that a restart, which resumes at its end, still has a number to hand
 * out. Only a request that itself reaches `MAX_SEQUENCE` gets a block ending there. A block
 * past `MAX_SEQUENCE` is `SEQUENCE_OVERFLOW`. Both `allocate` and `placeDelta` size their
 * blocks here.
 */
export const nextBlock = (
  state: AllocatorState,
  needed: number,
): E.Either<SequenceOverflowError, SeqBlock> => {
  const base = nextBlockBase(state)
  return seqBlock(base, Math.max(needed, Math.min(state.blockSize, MAX_SEQUENCE - 1 - base)))
}

/** Where the next block starts: at the current block's `nextBase`, or 0 when there is none. */
export const nextBlockBase = (state: AllocatorState): number =>
  O.isSome(state.current) ? nextBase(state.current.value) : 0
