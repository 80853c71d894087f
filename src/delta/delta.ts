/**
 * Delta: the immutable value of one commit. It holds the entries of every append taken into the
 * commit, each with its sequence, plus the SeqBlock record the allocator emitted for them, if
 * any. The storage writes a Delta as ONE atomic batch, which is how a SeqBlock is always durable
 * no later than the first entry that uses a number from it.
 */
import * as E from 'fp-ts/lib/Either.js'
import * as O from 'fp-ts/lib/Option.js'
import { pipe } from 'fp-ts/lib/function.js'
import { encodeCommitIndexKey, encodeRuns, toRuns } from '../codec/commitIndex.js'
import { encodeEntryKeys, seqBlockKey } from '../codec/keys.js'
import { allocate, type AllocatorError, type AllocatorState } from '../sequence/allocator.js'
import { encodeSeqBlock, type SeqBlock } from '../sequence/seqBlock.js'
import type { Batch, BatchOp } from '../storage/port.js'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** A record to append: a user key and a value, both already bytes. */
export interface EntryRecord {
  readonly key: Uint8Array
  readonly value: Uint8Array
}

/** A record with the sequence it was given. */
export interface Entry extends EntryRecord {
  readonly sequence: number
}

/** One commit: its entries in sequence order and the SeqBlock they need persisted, if any. */
export interface Delta {
  readonly entries: ReadonlyArray<Entry>
  readonly seqBlock: O.Option<SeqBlock>
}

/** The contiguous range one append was given: `[startSequence, startSequence + count)`. */
export interface AppendRange {
  readonly startSequence: number
  readonly count: number
}

/** The result of building a Delta: the commit, the allocator after it, and each append's range. */
export interface BuiltDelta {
  readonly delta: Delta
  readonly state: AllocatorState
  readonly ranges: ReadonlyArray<AppendRange>
}

// -------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------

/**
 * Builds the Delta for a group of pending appends. The whole group is allocated at once, so the
 * commit needs at most one SeqBlock record; each append's records keep their input order and
 * get a contiguous range, and the appends follow one another in the order given. On error the
 * caller keeps its old allocator state: nothing was handed out.
 */
export const buildDelta = (
  state: AllocatorState,
  appends: ReadonlyArray<ReadonlyArray<EntryRecord>>,
): E.Either<AllocatorError, BuiltDelta> => {
  const total = appends.reduce((n, records) => n + records.length, 0)
  return pipe(
    allocate(state, total),
    E.map(({ base, state: next, record }) => {
      const entries: Entry[] = []
      const ranges: AppendRange[] = []
      let sequence = base
      for (const records of appends) {
        ranges.push({ startSequence: sequence, count: records.length })
        for (const { key, value } of records) entries.push({ key, value, sequence: sequence++ })
      }
      return { delta: { entries, seqBlock: record }, state: next, ranges }
    }),
  )
}

// -------------------------------------------------------------------------------------
// destructors
// -------------------------------------------------------------------------------------

/**
 * The storage operations of one atomic batch for a Delta: the SeqBlock record (when there is
 * one), a put per entry, and the commit's index record, which gives global sequence order. The
 * storage layer executes this list as it is.
 */
export const toBatch = (delta: Delta): Batch => {
  const ops: BatchOp[] = []
  if (O.isSome(delta.seqBlock)) {
    ops.push({ type: 'put', key: seqBlockKey, value: encodeSeqBlock(delta.seqBlock.value) })
  }
  const first = delta.entries[0]
  if (first === undefined) return ops
  const keys = encodeEntryKeys(delta.entries)
  delta.entries.forEach((entry, i) => {
    ops.push({ type: 'put', key: keys[i] as Uint8Array, value: entry.value })
  })
  ops.push({
    type: 'put',
    key: encodeCommitIndexKey(first.sequence),
    value: encodeRuns(toRuns(delta.entries.map((e) => e.key))),
  })
  return ops
}
