import { fc, test } from '@fast-check/vitest'
import * as E from 'fp-ts/lib/Either.js'
import * as O from 'fp-ts/lib/Option.js'
import { describe, expect, it } from 'vitest'
import { decodeCommit, GENESIS } from '../../src/codec/commit.js'
import { RecordType } from '../../src/codec/records.js'
import { decodeCommitIndexKey, decodeRuns } from '../../src/format/v1/commitIndex.js'
import { keyBytes } from '../../src/codec/keys.js'
import { V1RecordType, decodeEntryKey, v1SeqBlockKey } from '../../src/format/v1/keys.js'
import {
  buildDelta,
  MAX_PLACED_SEQUENCE,
  placeDelta,
  entriesOf,
  recordsOf,
  toCommitBatch,
  type Entry,
  type EntryRecord,
} from '../../src/delta/delta.js'
import { toBatchV1 } from '../support/v1.js'
import { allocate, load, type AllocatorState } from '../../src/sequence/allocator.js'
import { MAX_SEQUENCE, decodeSeqBlock, nextBase } from '../../src/sequence/seqBlock.js'
import { arbKeyBytes, right } from '../support/arbitraries.js'

const record = (key: string, value: string): EntryRecord => ({
  key: keyBytes(key),
  value: keyBytes(value),
})

const arbRecord: fc.Arbitrary<EntryRecord> = fc.record({
  key: arbKeyBytes,
  value: fc.uint8Array({ maxLength: 8 }),
})
const arbAppends = fc.array(fc.array(arbRecord, { maxLength: 6 }), { maxLength: 6 })

/** An allocator somewhere in its life: a small block size and some numbers already used. */
const arbState: fc.Arbitrary<AllocatorState> = fc
  .tuple(fc.integer({ min: 1, max: 8 }), fc.nat({ max: 20 }), fc.boolean())
  .map(([blockSize, used, restarted]) => {
    const a = right(allocate(right(load(O.none, blockSize)), used))
    return restarted ? right(load(a.state.current, blockSize)) : a.state
  })

describe('Delta', () => {
  it('gives each append a contiguous range in input order and carries the first block', () => {
    const state = right(load(O.none, 4))
    const built = right(
      buildDelta(
        state,
        [[record('a', '1'), record('b', '2')], [], [record('a', '3')]].map(recordsOf),
      ),
    )
    expect(built.ranges).toEqual([
      { startSequence: 0, count: 2 },
      { startSequence: 2, count: 0 },
      { startSequence: 2, count: 1 },
    ])
    expect(entriesOf(built.delta.segments).map((e) => e.sequence)).toEqual([0, 1, 2])
    expect(built.delta.seqBlock).toEqual(O.some({ baseSequence: 0, blockSize: 4 }))
    // The next commit fits in the block: no record.
    const next = right(buildDelta(built.state, [recordsOf([record('c', '4')])]))
    expect(next.delta.seqBlock).toEqual(O.none)
    expect(next.ranges).toEqual([{ startSequence: 3, count: 1 }])
  })

  it('writes nothing and allocates nothing for no appends', () => {
    const state = right(load(O.none))
    const built = right(buildDelta(state, []))
    expect(built.delta).toEqual({ segments: [], seqBlock: O.none })
    expect(built.state).toEqual(state)
    expect(toBatchV1(built.delta)).toEqual([])
  })

  it('writes the appends of one Delta as one commit, and a placed Delta as one per gap', () => {
    const commitsOf = (ops: ReturnType<typeof toCommitBatch>['ops']) =>
      ops.flatMap((op) =>
        op.type === 'put' && op.key[1] === RecordType.Commit
          ? [right(decodeCommit(op.key, op.value))]
          : [],
      )
    const built = right(
      buildDelta(
        right(load(O.none, 16)),
        [[record('a', '1'), record('a', '2')], [], [record('a', '3'), record('b', '4')]].map(
          recordsOf,
        ),
      ),
    )
    const one = commitsOf(toCommitBatch(built.delta, GENESIS).ops)
    expect(one.map((c) => [c.firstSequence, c.end])).toEqual([[0, 4]])
    // The run of `a` goes on from the first append into the third.
    expect(one[0]?.runs.map((r) => r.values.length)).toEqual([3, 1])
    const placed = right(
      placeDelta(built.state, [
        { ...record('c', '5'), sequence: 4 },
        { ...record('c', '6'), sequence: 5 },
        { ...record('c', '7'), sequence: 9 },
      ]),
    )
    const two = commitsOf(toCommitBatch(placed.delta, GENESIS).ops)
    expect(two.map((c) => [c.firstSequence, c.end])).toEqual([
      [4, 6],
      [9, 10],
    ])
  })

  it('reports an overflow and leaves the caller with its old state', () => {
    const state = right(load(O.some({ baseSequence: MAX_SEQUENCE - 2, blockSize: 1 })))
    const result = buildDelta(state, [recordsOf([record('a', '1'), record('a', '2')])])
    expect(E.isLeft(result) && result.left.code).toBe('SEQUENCE_OVERFLOW')
  })

  it('turns a Delta into one batch: the SeqBlock record, a put per entry, the index', () => {
    const built = right(buildDelta(right(load(O.none, 16)), [recordsOf([record('k', 'v')])]))
    const batch = toBatchV1(built.delta)
    expect(batch).toHaveLength(3)
    const [blockOp, entryOp, indexOp] = batch
    expect(indexOp?.type === 'put' && decodeCommitIndexKey(indexOp.key)).toEqual(E.right(0))
    expect(indexOp?.type === 'put' && decodeRuns(indexOp.value)).toEqual(
      E.right([{ key: keyBytes('k'), count: 1 }]),
    )
    expect(blockOp?.type === 'put' && blockOp.key).toEqual(v1SeqBlockKey)
    expect(blockOp?.type === 'put' && decodeSeqBlock(blockOp.value)).toEqual(
      E.right({ baseSequence: 0, blockSize: 16 }),
    )
    expect(entryOp?.type === 'put' && decodeEntryKey(entryOp.key)).toEqual(
      E.right({ key: keyBytes('k'), sequence: 0 }),
    )
    expect(entryOp?.type === 'put' && entryOp.value).toEqual(keyBytes('v'))
  })

  test.prop([arbState, arbAppends])(
    'entries are contiguous, ascending, and in input order; ranges tile them',
    (state, appends) => {
      const built = right(buildDelta(state, appends.map(recordsOf)))
      const entries = entriesOf(built.delta.segments)
      expect(entries.map((e) => ({ key: e.key, value: e.value }))).toEqual(appends.flat())
      entries.forEach((e, i) => expect(e.sequence).toBe(state.nextSequence + i))
      let expectedStart = state.nextSequence
      built.ranges.forEach((range, i) => {
        expect(range).toEqual({ startSequence: expectedStart, count: appends[i]?.length })
        expectedStart += range.count
      })
      expect(built.state.nextSequence).toBe(state.nextSequence + entries.length)
    },
  )

  test.prop([arbState, arbAppends])(
    'an entry beyond the last persisted block only appears with that block in the Delta',
    (state, appends) => {
      const built = right(buildDelta(state, appends.map(recordsOf)))
      // Everything the caller has persisted so far is `state.current`.
      const persistedEnd = O.isSome(state.current) ? nextBase(state.current.value) : 0
      const beyond = entriesOf(built.delta.segments).filter((e) => e.sequence >= persistedEnd)
      if (beyond.length === 0) {
        expect(built.delta.seqBlock).toEqual(O.none)
      } else {
        expect(O.isSome(built.delta.seqBlock)).toBe(true)
        const block = O.toUndefined(built.delta.seqBlock)
        for (const e of beyond) {
          expect(e.sequence).toBeGreaterThanOrEqual(block?.baseSequence ?? Infinity)
          expect(e.sequence).toBeLessThan(block === undefined ? -1 : nextBase(block))
        }
        // And the batch carries the block's record.
        expect(
          toBatchV1(built.delta).some((op) => op.type === 'put' && op.key === v1SeqBlockKey),
        ).toBe(true)
      }
    },
  )

  test.prop([arbState, arbAppends])(
    'toBatchV1 holds exactly the Delta, decodably',
    (state, appends) => {
      const { delta } = right(buildDelta(state, appends.map(recordsOf)))
      const entries = entriesOf(delta.segments)
      const batch = toBatchV1(delta)
      const entryOps = batch.filter((op) => op.key[1] === V1RecordType.Entry)
      const indexOps = batch.filter((op) => op.key[1] === V1RecordType.SequenceIndex)
      expect(batch.length).toBe(
        entries.length + (O.isSome(delta.seqBlock) ? 1 : 0) + (entries.length > 0 ? 1 : 0),
      )
      // The index lists every entry's key in sequence order, from the first sequence.
      if (entries.length > 0) {
        const [indexOp] = indexOps
        expect(indexOp?.type === 'put' && decodeCommitIndexKey(indexOp.key)).toEqual(
          E.right(entries[0]?.sequence),
        )
        const runs = indexOp?.type === 'put' ? right(decodeRuns(indexOp.value)) : []
        expect(runs.flatMap((r) => Array.from({ length: r.count }, () => r.key))).toEqual(
          entries.map((e) => e.key),
        )
      } else {
        expect(indexOps).toEqual([])
      }
      entryOps.forEach((op, i) => {
        const entry = entries[i]
        expect(op.type === 'put' && decodeEntryKey(op.key)).toEqual(
          E.right({ key: entry?.key, sequence: entry?.sequence }),
        )
        expect(op.type === 'put' && op.value).toBe(entry?.value)
      })
    },
  )

  describe('placeDelta', () => {
    /** Entries at ascending sequences from `from`, with gaps, as an import brings them. */
    const arbPlaced = (from: number): fc.Arbitrary<Entry[]> =>
      fc.array(fc.tuple(arbRecord, fc.nat({ max: 12 })), { maxLength: 8 }).map((items) => {
        let sequence = from
        return items.map(([r, gap]) => {
          sequence += gap
          return { ...r, sequence: sequence++ }
        })
      })
    const arbCase = arbState.chain((state) =>
      fc.tuple(
        fc.constant(state),
        fc.nat({ max: 10 }).chain((skip) => arbPlaced(state.nextSequence + skip)),
      ),
    )

    test.prop([arbCase])(
      'keeps the given sequences, covers them with the stored block, and indexes each once',
      ([state, entries]) => {
        const built = right(placeDelta(state, entries))
        expect(entriesOf(built.delta.segments)).toEqual(entries)
        const last = entries[entries.length - 1]
        expect(built.state.nextSequence).toBe(
          last === undefined ? state.nextSequence : last.sequence + 1,
        )
        // The block the store holds after this batch: the new one, or the one it held.
        const stored = O.isSome(built.delta.seqBlock) ? built.delta.seqBlock : state.current
        for (const e of entries) {
          expect(O.isSome(stored) && e.sequence < nextBase(stored.value)).toBe(true)
        }
        if (O.isSome(built.delta.seqBlock) && O.isSome(state.current)) {
          expect(built.delta.seqBlock.value.baseSequence).toBe(nextBase(state.current.value))
        }
        // Every entry is named by exactly one index record, at its own sequence.
        const named: Array<{ key: Uint8Array; sequence: number }> = []
        for (const op of toBatchV1(built.delta)) {
          if (op.type !== 'put' || op.key[1] !== V1RecordType.SequenceIndex) continue
          let sequence = right(decodeCommitIndexKey(op.key))
          for (const run of right(decodeRuns(op.value))) {
            for (let i = 0; i < run.count; i++) named.push({ key: run.key, sequence: sequence++ })
          }
        }
        expect(named).toEqual(entries.map((e) => ({ key: e.key, sequence: e.sequence })))
      },
    )

    it('refuses sequences that do not ascend or lie below the next sequence', () => {
      const state = right(allocate(right(load(O.none, 4)), 3)).state
      const at = (sequence: number): Entry => ({ ...record('k', 'v'), sequence })
      const below = placeDelta(state, [at(2)])
      expect(E.isLeft(below) && below.left.message).toBe(
        'entries[0].sequence: must be a safe integer of at least 3, got 2',
      )
      const repeated = placeDelta(state, [at(5), at(5)])
      expect(E.isLeft(repeated) && repeated.left.code).toBe('INVALID_ARGUMENT')
    })

    it('reserves one block from the old nextBase up to past the last sequence', () => {
      const state = right(allocate(right(load(O.none, 4)), 1)).state
      const built = right(placeDelta(state, [{ ...record('k', 'v'), sequence: 10 }]))
      expect(built.delta.seqBlock).toEqual(O.some({ baseSequence: 4, blockSize: 7 }))
      expect(built.state.nextSequence).toBe(11)
      const inBlock = right(placeDelta(state, [{ ...record('k', 'v'), sequence: 3 }]))
      expect(inBlock.delta.seqBlock).toEqual(O.none)
      expect(inBlock.state.nextSequence).toBe(4)
    })

    /** An allocator whose stored block ends close to MAX_SEQUENCE, maybe restarted. */
    const arbStateNearTheEnd: fc.Arbitrary<AllocatorState> = fc
      .tuple(
        fc.integer({ min: 1, max: 64 }),
        fc.integer({ min: 1, max: 64 }),
        fc.integer({ min: 1, max: 128 }),
        fc.nat({ max: 64 }),
        fc.boolean(),
      )
      .map(([gap, size, blockSize, used, restarted]) => {
        const block = { baseSequence: MAX_SEQUENCE - gap - size, blockSize: size }
        const loaded = right(load(O.some(block), blockSize))
        const a = allocate(loaded, Math.min(used, gap - 1))
        return E.isRight(a) && !restarted ? a.right.state : loaded
      })

    const canAppend = (state: AllocatorState): boolean => E.isRight(allocate(state, 1))

    test.prop([
      arbStateNearTheEnd.chain((state) =>
        fc.tuple(
          fc.constant(state),
          fc
            .uniqueArray(fc.integer({ min: state.nextSequence, max: MAX_SEQUENCE }), {
              minLength: 1,
              maxLength: 4,
            })
            .map((sequences) =>
              [...sequences]
                .sort((a, b) => a - b)
                .map((sequence) => ({ ...record('k', 'v'), sequence })),
            ),
        ),
      ),
    ])(
      'never leaves a log that cannot append, now or after a restart: it refuses instead',
      ([state, entries]) => {
        const built = placeDelta(state, entries)
        const last = entries[entries.length - 1]?.sequence ?? 0
        if (last > MAX_PLACED_SEQUENCE) {
          expect(E.isLeft(built) && built.left.code).toBe('INVALID_ARGUMENT')
          return
        }
        const placed = right(built)
        expect(canAppend(placed.state)).toBe(true)
        // A block it stores must leave room too: a restart resumes at that block's end.
        if (O.isSome(placed.delta.seqBlock)) {
          expect(canAppend(right(load(placed.delta.seqBlock, state.blockSize)))).toBe(true)
        }
      },
    )

    it('refuses a sequence past MAX_SEQUENCE − 2, naming it and the limit', () => {
      const state = right(load(O.none, 4))
      const at = (sequence: number): Entry => ({ ...record('k', 'v'), sequence })
      const refused = placeDelta(state, [at(1), at(MAX_SEQUENCE - 1)])
      expect(E.isLeft(refused) && refused.left.message).toBe(
        `entries[1].sequence: is ${MAX_SEQUENCE - 1}; at most ${MAX_SEQUENCE - 2} (Number.MAX_SAFE_INTEGER − 2), so that the log can still append after it`,
      )
      const placed = right(placeDelta(state, [at(MAX_PLACED_SEQUENCE)]))
      expect(placed.state.nextSequence).toBe(MAX_SEQUENCE - 1)
      expect(right(allocate(placed.state, 1)).base).toBe(MAX_SEQUENCE - 1)
    })
  })
})
