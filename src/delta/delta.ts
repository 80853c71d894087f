/**
 * Delta: the immutable value of one commit. It holds the records of every append taken into the
 * commit, each append as one segment of consecutive sequences, plus the SeqBlock record the
 * allocator emitted for them, if any. The storage writes a Delta as ONE atomic batch, which is
 * how a SeqBlock is always durable no later than the first entry that uses a number from it.
 *
 * Records are held column-wise (an array of keys, an array of values) from validation to the
 * batch: the append path makes no object per record.
 */
import * as E from 'fp-ts/lib/Either.js'
import * as O from 'fp-ts/lib/Option.js'
import { pipe } from 'fp-ts/lib/function.js'
import { encodeCommit, type ChainLink, type CommitRun } from '../codec/commit.js'
import { encodeRunRecord } from '../codec/run.js'
import { seqBlockKey } from '../codec/records.js'
import { invalidArgument } from '../errors.js'
import {
  allocate,
  nextBlock,
  nextBlockBase,
  remaining,
  type AllocatorError,
  type AllocatorState,
} from '../sequence/allocator.js'
import { MAX_SEQUENCE, encodeSeqBlock, type SeqBlock } from '../sequence/seqBlock.js'
import type { Batch, BatchOp } from './batch.js'
import { sameBytes } from '../codec/bytes.js'

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

/** Records column-wise: record `i` is `(keys[i], values[i])`; both arrays have one length. */
export interface Records {
  readonly keys: ReadonlyArray<Uint8Array>
  readonly values: ReadonlyArray<Uint8Array>
}

/** Records at consecutive sequences: record `i` has the sequence `first + i`. */
export interface Segment extends Records {
  readonly first: number
}

/**
 * One commit: its segments in ascending order, none empty and none overlapping another, and the
 * SeqBlock they need persisted, if any.
 */
export interface Delta {
  readonly segments: ReadonlyArray<Segment>
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
  appends: ReadonlyArray<Records>,
): E.Either<AllocatorError, BuiltDelta> => {
  const total = appends.reduce((n, records) => n + records.keys.length, 0)
  return pipe(
    allocate(state, total),
    E.map(({ base, state: next, record }) => {
      const segments: Segment[] = []
      const ranges: AppendRange[] = []
      let sequence = base
      for (const { keys, values } of appends) {
        ranges.push({ startSequence: sequence, count: keys.length })
        if (keys.length > 0) segments.push({ first: sequence, keys, values })
        sequence += keys.length
      }
      return { delta: { segments, seqBlock: record }, state: next, ranges }
    }),
  )
}

/**
 * The highest sequence `placeDelta` accepts: `MAX_SEQUENCE − 2`. An append can be handed at
 * most `MAX_SEQUENCE − 1` (a block ends at `MAX_SEQUENCE` at the latest), so an entry placed
 * any higher would leave a log that can never append again.
 */
export const MAX_PLACED_SEQUENCE = MAX_SEQUENCE - 2

/**
 * Builds the Delta that writes entries at sequences the caller chose, as an import reproducing
 * another log does. The sequences must strictly ascend, starting at or above the allocator's
 * next sequence, up to `MAX_PLACED_SEQUENCE`; gaps between them are allowed. When they pass the
 * current block, ONE new block starting at the current block's `nextBase` (0 when there is none)
 * covers them all, so the stored SeqBlock's `nextBase` stays above every persisted sequence,
 * and the allocator goes on after the last of them. That block ends below `MAX_SEQUENCE`, so
 * the log can still append afterwards, and after a restart too. On error the caller keeps its
 * old state.
 */
export const placeDelta = (
  state: AllocatorState,
  entries: ReadonlyArray<Entry>,
): E.Either<AllocatorError, Omit<BuiltDelta, 'ranges'>> => {
  let floor = state.nextSequence
  for (const [i, entry] of entries.entries()) {
    if (!Number.isSafeInteger(entry.sequence) || entry.sequence < floor) {
      return E.left(
        invalidArgument(
          `entries[${i}].sequence`,
          `must be a safe integer of at least ${floor}, got ${entry.sequence}`,
        ),
      )
    }
    if (entry.sequence > MAX_PLACED_SEQUENCE) {
      return E.left(
        invalidArgument(
          `entries[${i}].sequence`,
          `is ${entry.sequence}; at most ${MAX_PLACED_SEQUENCE} (Number.MAX_SAFE_INTEGER − 2), so that the log can still append after it`,
        ),
      )
    }
    floor = entry.sequence + 1
  }
  const last = entries[entries.length - 1]
  const segments = segmentsOf(entries)
  if (last === undefined) return E.right({ delta: { segments, seqBlock: O.none }, state })
  const end = last.sequence + 1
  if (end - state.nextSequence <= remaining(state)) {
    return E.right({
      delta: { segments, seqBlock: O.none },
      state: { ...state, nextSequence: end },
    })
  }
  return E.map((block: SeqBlock) => ({
    delta: { segments, seqBlock: O.some(block) },
    state: { ...state, current: O.some(block), nextSequence: end },
  }))(nextBlock(state, end - nextBlockBase(state)))
}

// -------------------------------------------------------------------------------------
// destructors
// -------------------------------------------------------------------------------------

/** Records given one object each, column-wise. */
export const recordsOf = (records: ReadonlyArray<EntryRecord>): Records => ({
  keys: records.map((r) => r.key),
  values: records.map((r) => r.value),
})

/**
 * Entries in ascending sequence order as segments: one per run of consecutive sequences. The
 * inverse of `entriesOf`.
 */
export const segmentsOf = (entries: ReadonlyArray<Entry>): ReadonlyArray<Segment> => {
  const segments: Array<{ first: number; keys: Uint8Array[]; values: Uint8Array[] }> = []
  let current: { first: number; keys: Uint8Array[]; values: Uint8Array[] } | undefined
  for (const { key, value, sequence } of entries) {
    if (current === undefined || sequence !== current.first + current.keys.length) {
      current = { first: sequence, keys: [], values: [] }
      segments.push(current)
    }
    current.keys.push(key)
    current.values.push(value)
  }
  return segments
}

/** The entries of segments, one object per record: for tests and tools, not the append path. */
export const entriesOf = (segments: ReadonlyArray<Segment>): ReadonlyArray<Entry> =>
  segments.flatMap(({ first, keys, values }) =>
    keys.map((key, i) => ({ key, value: values[i] as Uint8Array, sequence: first + i })),
  )

/**
 * The segments of a Delta grouped into commits: each group's segments continue one another
 * without a gap, so the group is one range of consecutive sequences. Empty segments are left out.
 */
const commitGroups = (segments: ReadonlyArray<Segment>): ReadonlyArray<ReadonlyArray<Segment>> => {
  const groups: Segment[][] = []
  let current: Segment[] = []
  let end = -1
  for (const segment of segments) {
    if (segment.keys.length === 0) continue
    if (current.length > 0 && segment.first !== end) {
      groups.push(current)
      current = []
    }
    current.push(segment)
    end = segment.first + segment.keys.length
  }
  if (current.length > 0) groups.push(current)
  return groups
}

/** Splits segments at consecutive sequences into runs: neighbours with the same key. */
const toCommitRuns = (segments: ReadonlyArray<Segment>): ReadonlyArray<CommitRun> => {
  const runs: Array<{ key: Uint8Array; values: Uint8Array[] }> = []
  let current: { key: Uint8Array; values: Uint8Array[] } | undefined
  for (const { keys, values } of segments) {
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i] as Uint8Array
      const value = values[i] as Uint8Array
      if (current !== undefined && sameBytes(current.key, key)) {
        current.values.push(value)
      } else {
        current = { key, values: [value] }
        runs.push(current)
      }
    }
  }
  return runs
}

/**
 * The batch of a Delta, in on-disk format 2: the SeqBlock record (when there is one), then for each group
 * of consecutive sequences — one for every Delta the allocator built, one per gap for
 * `appendAt` — a commit record linked to the one before it and a run record per run. Returns
 * the link the last commit leaves, which the next batch continues.
 */
export const toCommitBatch = (
  delta: Delta,
  previous: ChainLink,
): { readonly ops: Batch; readonly link: ChainLink } => {
  const ops: BatchOp[] = []
  if (O.isSome(delta.seqBlock)) {
    ops.push({ type: 'put', key: seqBlockKey, value: encodeSeqBlock(delta.seqBlock.value) })
  }
  let link = previous
  for (const group of commitGroups(delta.segments)) {
    const first = (group[0] as Segment).first
    const runs = toCommitRuns(group)
    const commit = encodeCommit(link, first, runs)
    // The commit's records are keyed by its own sequences, which no record had before.
    ops.push({ type: 'put', key: commit.key, value: commit.value, fresh: true })
    let sequence = first
    runs.forEach((run, i) => {
      const place = commit.places[i]
      if (place !== undefined) {
        const record = encodeRunRecord(run, sequence, first, place)
        ops.push({ type: 'put', key: record.key, value: record.value, fresh: true })
      }
      sequence += run.values.length
    })
    link = commit.link
  }
  return { ops, link }
}
