/**
 * Format 1's commit index: one record per commit that lists, in sequence order, which user key
 * each of the commit's entries belongs to. A commit's sequences are contiguous, so the record needs only
 * its first sequence (in the storage key) and runs of `(user key, count)` (in the value). A
 * global scan walks these records in sequence order and reads each run's values with one range
 * read of that key's entries, so it never filters the whole log and never merges per-key streams.
 *
 * Format 1 only; format 2's commit records (src/codec/commit.ts) replaced it.
 *
 * Key:   version | SequenceIndex | firstSequence u64 BE
 * Value: repeated  varint(keyLength) | key bytes | varint(count)      (count >= 1)
 */
import * as E from 'fp-ts/lib/Either.js'
import * as O from 'fp-ts/lib/Option.js'
import { sameBytes } from '../../codec/bytes.js'
import { readU64, U64_BYTES, writeU64 } from '../../codec/u64.js'
import { readVarint, varintLength, writeVarint } from '../../codec/varint.js'
import { corruption, type CorruptionError } from '../../errors.js'
import { V1_FORMAT_VERSION, V1RecordType } from './keys.js'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** Consecutive entries of one commit that share a user key. */
export interface Run {
  readonly key: Uint8Array
  readonly count: number
}

/** One commit's index record: its first sequence and its runs, in sequence order. */
export interface CommitIndex {
  readonly firstSequence: number
  readonly runs: ReadonlyArray<Run>
}

// -------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------

/** Collapses a commit's keys, in sequence order, into runs. */
export const toRuns = (keys: ReadonlyArray<Uint8Array>): ReadonlyArray<Run> => {
  const runs: Run[] = []
  let current: { key: Uint8Array; count: number } | undefined
  for (const key of keys) {
    if (current !== undefined && sameBytes(current.key, key)) {
      current.count++
    } else {
      current = { key, count: 1 }
      runs.push(current)
    }
  }
  return runs
}

/** The number of entries a commit holds. */
export const entryCount = (index: CommitIndex): number =>
  index.runs.reduce((n, run) => n + run.count, 0)

// -------------------------------------------------------------------------------------
// codecs
// -------------------------------------------------------------------------------------

/** The storage key of the index record of the commit starting at `firstSequence`. */
export const encodeCommitIndexKey = (firstSequence: number): Uint8Array => {
  const out = new Uint8Array(2 + U64_BYTES)
  out[0] = V1_FORMAT_VERSION
  out[1] = V1RecordType.SequenceIndex
  writeU64(out, 2, firstSequence)
  return out
}

/** The first sequence named by an index record's key, or `CORRUPTION`. */
export const decodeCommitIndexKey = (key: Uint8Array): E.Either<CorruptionError, number> => {
  if (
    key.length !== 2 + U64_BYTES ||
    key[0] !== V1_FORMAT_VERSION ||
    key[1] !== V1RecordType.SequenceIndex
  ) {
    return E.left(corruption('not a commit index key'))
  }
  return E.fromOption(() => corruption('commit index sequence is beyond the safe range'))(
    readU64(key, 2),
  )
}

/**
 * Encodes an index record's runs.
 *
 * Law (checked in test/format/v1/commitIndex.test.ts): `decodeRuns(encodeRuns(r))` is `right(r)`
 * for runs with non-empty counts.
 */
export const encodeRuns = (runs: ReadonlyArray<Run>): Uint8Array => {
  let size = 0
  for (const run of runs) {
    size += varintLength(run.key.length) + run.key.length + varintLength(run.count)
  }
  const out = new Uint8Array(size)
  let at = 0
  for (const run of runs) {
    at = writeVarint(out, at, run.key.length)
    out.set(run.key, at)
    at = writeVarint(out, at + run.key.length, run.count)
  }
  return out
}

/** Decodes an index record's runs; anything malformed is `CORRUPTION`. */
export const decodeRuns = (bytes: Uint8Array): E.Either<CorruptionError, ReadonlyArray<Run>> => {
  const runs: Run[] = []
  let at = 0
  while (at < bytes.length) {
    const length = readVarint(bytes, at)
    if (O.isNone(length)) return E.left(corruption('commit index: bad key length'))
    const [keyLength, keyStart] = length.value
    const keyEnd = keyStart + keyLength
    if (keyEnd > bytes.length) return E.left(corruption('commit index: key runs past the end'))
    const count = readVarint(bytes, keyEnd)
    if (O.isNone(count) || count.value[0] < 1) {
      return E.left(corruption('commit index: bad run count'))
    }
    runs.push({ key: bytes.slice(keyStart, keyEnd), count: count.value[0] })
    at = count.value[1]
  }
  return E.right(runs)
}
