import { fc, test } from '@fast-check/vitest'
import * as E from 'fp-ts/lib/Either.js'
import * as O from 'fp-ts/lib/Option.js'
import { describe, expect, it } from 'vitest'
import {
  DEFAULT_BLOCK_SIZE,
  allocate,
  load,
  peekNextSequence,
  type Allocation,
  type AllocatorState,
} from '../../src/sequence/allocator.js'
import {
  MAX_SEQUENCE,
  decodeSeqBlock,
  encodeSeqBlock,
  nextBase,
  type SeqBlock,
} from '../../src/sequence/seqBlock.js'
import { right } from '../support/arbitraries.js'

const fresh = (): AllocatorState => right(load(O.none))
const alloc = (state: AllocatorState, count: number): Allocation => right(allocate(state, count))
const block = (a: Allocation): SeqBlock => {
  if (O.isNone(a.record)) throw new Error('expected a SeqBlock record')
  // Go through the bytes, as a restart would.
  return right(decodeSeqBlock(encodeSeqBlock(a.record.value)))
}

// The reference allocator's test cases, one for one.
describe('SequenceAllocator (reference behaviour)', () => {
  it('loads next sequence 0 and no block when none was stored', () => {
    const state = fresh()
    expect(state.nextSequence).toBe(0)
    expect(state.current).toEqual(O.none)
  })

  it('emits the first block on the first allocation', () => {
    const a = alloc(fresh(), 1)
    expect(a.base).toBe(0)
    expect(block(a)).toEqual({ baseSequence: 0, blockSize: DEFAULT_BLOCK_SIZE })
  })

  it('emits a larger block when a request exceeds the block size', () => {
    const large = DEFAULT_BLOCK_SIZE * 2
    const a = alloc(fresh(), large)
    expect(a.base).toBe(0)
    expect(block(a)).toEqual({ baseSequence: 0, blockSize: large })
    expect(alloc(a.state, 1).base).toBe(large)
  })

  it('emits sequential blocks', () => {
    let state = fresh()
    const blocks: SeqBlock[] = []
    for (let i = 0; i < DEFAULT_BLOCK_SIZE * 3; i++) {
      const a = alloc(state, 1)
      if (O.isSome(a.record)) blocks.push(block(a))
      state = a.state
    }
    expect(blocks.map((b) => b.baseSequence)).toEqual([
      0,
      DEFAULT_BLOCK_SIZE,
      DEFAULT_BLOCK_SIZE * 2,
    ])
  })

  it('recovers from the stored block', () => {
    const first = alloc(fresh(), DEFAULT_BLOCK_SIZE)
    const second = alloc(first.state, DEFAULT_BLOCK_SIZE)
    const stored = block(second)

    const reloaded = right(load(O.some(stored)))
    expect(reloaded.current).toEqual(
      O.some({ baseSequence: DEFAULT_BLOCK_SIZE, blockSize: DEFAULT_BLOCK_SIZE }),
    )
    expect(reloaded.nextSequence).toBe(DEFAULT_BLOCK_SIZE * 2)
    const next = alloc(reloaded, DEFAULT_BLOCK_SIZE)
    expect(block(next).baseSequence).toBe(DEFAULT_BLOCK_SIZE * 2)
    expect(next.base).toBe(DEFAULT_BLOCK_SIZE * 2)
  })

  it('resumes at the next block after a partly used one', () => {
    const stored = block(alloc(fresh(), DEFAULT_BLOCK_SIZE / 2))

    const reloaded = right(load(O.some(stored)))
    expect(reloaded.current).toEqual(O.some({ baseSequence: 0, blockSize: DEFAULT_BLOCK_SIZE }))
    expect(reloaded.nextSequence).toBe(DEFAULT_BLOCK_SIZE)
    const next = alloc(reloaded, DEFAULT_BLOCK_SIZE)
    expect(block(next).baseSequence).toBe(DEFAULT_BLOCK_SIZE)
    expect(next.base).toBe(DEFAULT_BLOCK_SIZE)
  })

  it('hands out sequential single numbers', () => {
    const a = alloc(fresh(), 1)
    const b = alloc(a.state, 1)
    const c = alloc(b.state, 1)
    expect([a.base, b.base, c.base]).toEqual([0, 1, 2])
  })

  it('hands out batches back to back', () => {
    const a = alloc(fresh(), 10)
    const b = alloc(a.state, 5)
    expect([a.base, b.base]).toEqual([0, 10])
  })

  it('spans blocks when a batch exceeds what remains', () => {
    const a = alloc(fresh(), DEFAULT_BLOCK_SIZE - 10)
    const b = alloc(a.state, 25)
    expect(b.base).toBe(DEFAULT_BLOCK_SIZE - 10)
    expect(block(b).baseSequence).toBe(DEFAULT_BLOCK_SIZE)
  })

  it('emits a new block when the current one is exhausted', () => {
    const a = alloc(fresh(), DEFAULT_BLOCK_SIZE)
    const b = alloc(a.state, 1)
    expect(b.base).toBe(DEFAULT_BLOCK_SIZE)
    expect(O.isSome(b.record)).toBe(true)
  })

  it('allocates exactly what remains without a new block', () => {
    const a = alloc(fresh(), 100)
    const b = alloc(a.state, DEFAULT_BLOCK_SIZE - 100)
    expect(b.base).toBe(100)
    expect(b.record).toEqual(O.none)
    const c = alloc(b.state, 1)
    expect(c.base).toBe(DEFAULT_BLOCK_SIZE)
    expect(O.isSome(c.record)).toBe(true)
  })

  it('serves a large batch from a partly used block', () => {
    const a = alloc(fresh(), DEFAULT_BLOCK_SIZE - 100)
    const large = DEFAULT_BLOCK_SIZE + 500
    const b = alloc(a.state, large)
    expect(b.base).toBe(DEFAULT_BLOCK_SIZE - 100)
    expect(alloc(b.state, 1).base).toBe(DEFAULT_BLOCK_SIZE - 100 + large)
  })

  it('peeks the next sequence without consuming it', () => {
    const a = alloc(fresh(), 10)
    const peeked = peekNextSequence(a.state)
    expect(peeked).toBe(10)
    expect(alloc(a.state, 1).base).toBe(peeked)
  })
})

describe('SequenceAllocator (deltalog additions)', () => {
  it('allocate(0) returns the next sequence and changes nothing', () => {
    const a = alloc(fresh(), 3)
    const zero = alloc(a.state, 0)
    expect(zero.base).toBe(3)
    expect(zero.record).toEqual(O.none)
    expect(zero.state).toEqual(a.state)
    // Even with no block at all, allocate(0) emits none.
    expect(alloc(fresh(), 0)).toEqual({ base: 0, count: 0, state: fresh(), record: O.none })
  })

  it('uses a configurable block size', () => {
    const state = right(load(O.none, 8))
    const a = alloc(state, 3)
    expect(block(a)).toEqual({ baseSequence: 0, blockSize: 8 })
    expect(block(alloc(alloc(a.state, 5).state, 1))).toEqual({ baseSequence: 8, blockSize: 8 })
  })

  it.each([0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY])(
    'refuses block size %d with INVALID_ARGUMENT',
    (size) => {
      const result = load(O.none, size)
      expect(E.isLeft(result) && result.left.code).toBe('INVALID_ARGUMENT')
    },
  )

  it.each([-1, 0.5, Number.NaN])('refuses count %d with INVALID_ARGUMENT', (count) => {
    const result = allocate(fresh(), count)
    expect(E.isLeft(result) && result.left.code).toBe('INVALID_ARGUMENT')
  })

  it('reports SEQUENCE_OVERFLOW instead of passing 2^53 − 1, and changes nothing', () => {
    const nearTop = right(load(O.some({ baseSequence: MAX_SEQUENCE - 20, blockSize: 10 })))
    expect(nearTop.nextSequence).toBe(MAX_SEQUENCE - 10)
    // The last 10 numbers still fit: the new block shrinks to what is left.
    const last = alloc(nearTop, 10)
    expect(last.base).toBe(MAX_SEQUENCE - 10)
    expect(block(last)).toEqual({ baseSequence: MAX_SEQUENCE - 10, blockSize: 10 })
    const over = allocate(last.state, 1)
    expect(E.isLeft(over) && over.left.code).toBe('SEQUENCE_OVERFLOW')
    const tooMany = allocate(nearTop, 11)
    expect(E.isLeft(tooMany) && tooMany.left.code).toBe('SEQUENCE_OVERFLOW')
    expect(alloc(nearTop, 0).base).toBe(MAX_SEQUENCE - 10)
  })
})

/** One step of an allocator's life. */
type Step =
  | { readonly kind: 'allocate'; readonly count: number }
  | { readonly kind: 'restart' }
  // An allocation whose commit never reached storage, followed by a crash: its record is lost.
  | { readonly kind: 'lost'; readonly count: number }

const arbStep = (blockSize: number): fc.Arbitrary<Step> =>
  fc.oneof(
    {
      weight: 6,
      arbitrary: fc
        .oneof(fc.nat({ max: blockSize + 1 }), fc.nat({ max: blockSize * 3 }))
        .map((count) => ({ kind: 'allocate' as const, count })),
    },
    { weight: 1, arbitrary: fc.constant({ kind: 'restart' as const }) },
    {
      weight: 1,
      arbitrary: fc.nat({ max: blockSize * 2 }).map((count) => ({ kind: 'lost' as const, count })),
    },
  )

const arbLife = fc
  .oneof(fc.integer({ min: 1, max: 8 }), fc.constant(DEFAULT_BLOCK_SIZE))
  .chain((blockSize) =>
    fc.tuple(fc.constant(blockSize), fc.array(arbStep(blockSize), { maxLength: 60 })),
  )

describe('SequenceAllocator (properties)', () => {
  test.prop([arbLife])(
    'across restarts, ranges are disjoint and above all earlier ones, and lie in emitted blocks',
    ([blockSize, steps]) => {
      let persisted: O.Option<SeqBlock> = O.none
      let state = right(load(persisted, blockSize))
      // The exclusive upper end of every number handed out so far (and kept).
      let highWater = 0
      const emitted: SeqBlock[] = []
      for (const step of steps) {
        if (step.kind === 'restart') {
          state = right(load(persisted, blockSize))
          expect(peekNextSequence(state)).toBeGreaterThanOrEqual(highWater)
          continue
        }
        const a = alloc(state, step.count)
        expect(a.count).toBe(step.count)
        expect(a.base).toBe(peekNextSequence(state))
        if (step.kind === 'lost') {
          // The commit failed and the process died: nothing was handed out.
          state = right(load(persisted, blockSize))
          continue
        }
        if (O.isSome(a.record)) {
          const b = a.record.value
          const previous = emitted[emitted.length - 1]
          expect(b.baseSequence).toBe(previous === undefined ? 0 : nextBase(previous))
          expect(b.blockSize).toBeGreaterThanOrEqual(blockSize)
          emitted.push(b)
          persisted = O.some(b)
        }
        if (a.count > 0) {
          expect(a.base).toBeGreaterThanOrEqual(highWater)
          // Every number lies in a block emitted at or before this call.
          const last = a.base + a.count - 1
          const covering = emitted.filter((b) => b.baseSequence <= last && a.base < nextBase(b))
          const covered = covering.reduce(
            (n, b) => n + Math.min(last + 1, nextBase(b)) - Math.max(a.base, b.baseSequence),
            0,
          )
          expect(covered).toBe(a.count)
          highWater = a.base + a.count
        }
        expect(peekNextSequence(a.state)).toBe(a.base + a.count)
        state = a.state
      }
    },
  )

  test.prop([fc.integer({ min: 1, max: 64 }), fc.array(fc.nat({ max: 200 }), { maxLength: 40 })])(
    'a single allocation emits at most one block, sized max(count − remaining, blockSize)',
    (blockSize, counts) => {
      let state = right(load(O.none, blockSize))
      for (const count of counts) {
        const before = state
        const a = alloc(state, count)
        const left = O.isSome(before.current)
          ? nextBase(before.current.value) - before.nextSequence
          : 0
        if (count <= left) expect(a.record).toEqual(O.none)
        else
          expect(O.map((b: SeqBlock) => b.blockSize)(a.record)).toEqual(
            O.some(Math.max(count - left, blockSize)),
          )
        state = a.state
      }
    },
  )

  /** An allocator whose block ends a little below MAX_SEQUENCE, some of it used, maybe restarted. */
  const arbNearTheTop: fc.Arbitrary<AllocatorState> = fc
    .tuple(
      fc.integer({ min: 1, max: 64 }),
      fc.integer({ min: 1, max: 64 }),
      fc.oneof(fc.integer({ min: 1, max: 128 }), fc.constant(DEFAULT_BLOCK_SIZE)),
      fc.nat({ max: 64 }),
      fc.boolean(),
    )
    .map(([gap, size, blockSize, used, restarted]) => {
      const loaded = right(
        load(O.some({ baseSequence: MAX_SEQUENCE - gap - size, blockSize: size }), blockSize),
      )
      const a = allocate(loaded, Math.min(used, gap - 1))
      return E.isRight(a) && !restarted ? a.right.state : loaded
    })

  // allocate and placeDelta size blocks alike (nextBlock): a block padded to the block size
  // stops at MAX_SEQUENCE − 1, so that a restart, which resumes at the block's end, can still
  // hand out a number. Only a request that itself reaches MAX_SEQUENCE gets a block ending there.
  test.prop([
    arbNearTheTop.chain((state) =>
      fc.tuple(fc.constant(state), fc.nat({ max: MAX_SEQUENCE - state.nextSequence })),
    ),
  ])(
    'near the top, a block leaves a number for after a restart unless the request took them all',
    ([state, count]) => {
      const a = alloc(state, count)
      if (O.isNone(a.record)) return
      const end = nextBase(a.record.value)
      const restarted = right(load(a.record, state.blockSize))
      if (a.base + count < MAX_SEQUENCE) {
        expect(end).toBeLessThan(MAX_SEQUENCE)
        expect(E.isRight(allocate(restarted, 1))).toBe(true)
      } else {
        expect(end).toBe(MAX_SEQUENCE)
      }
    },
  )

  it('near the top, pads a block to MAX_SEQUENCE − 1, not to MAX_SEQUENCE', () => {
    const state = right(load(O.some({ baseSequence: MAX_SEQUENCE - 20, blockSize: 10 })))
    const a = alloc(state, 1)
    expect(block(a)).toEqual({ baseSequence: MAX_SEQUENCE - 10, blockSize: 9 })
    expect(alloc(right(load(a.record)), 1).base).toBe(MAX_SEQUENCE - 1)
  })
})
