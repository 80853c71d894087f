/**
 * Format 2's commit records: one per commit, holding every value of the commit in sequence
 * order and linked to the commit before it by a chained SHA-256. Each run of the commit (the
 * entries of one key at consecutive sequences) also has a run record (run.ts), which holds a
 * small run's values itself or points into its commit record.
 *
 * A global scan reads commit records in storage order; a key scan reads run records in storage
 * order and fetches a commit record only for a run too big to keep inline. docs/format.md has
 * the layout byte by byte, the measurements behind it, and hex examples that
 * test/codec/commit.test.ts checks.
 *
 * Commit key:   0x02 0x03 | firstSequence u64 BE
 * Commit value: prevEnd u64 BE | checksum (32 bytes) | runs
 *               run = varint(keyLength) key varint(count) (varint(valueLength) value) × count
 */
import { createHash } from 'node:crypto'
import * as E from 'fp-ts/lib/Either.js'
import * as O from 'fp-ts/lib/Option.js'
import { corruption, type CorruptionError } from '../errors.js'
import { sameBytes } from './bytes.js'
import { FORMAT_VERSION, RecordType } from './records.js'
import { readU64, U64_BYTES, writeU64 } from './u64.js'
import { readValues, valuesLength, writeValues } from './values.js'
import { readVarint, varintLength, writeVarint } from './varint.js'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** Bytes of a chain checksum: SHA-256. */
export const CHECKSUM_BYTES = 32

/**
 * Where the chain stands after a commit: one past its last sequence, and the checksum over it
 * and every commit before it. The chain of an empty log is `GENESIS`.
 */
export interface ChainLink {
  readonly end: number
  readonly checksum: Uint8Array
}

export const GENESIS: ChainLink = { end: 0, checksum: new Uint8Array(CHECKSUM_BYTES) }

/** The entries of one key at consecutive sequences in one commit. */
export interface CommitRun {
  readonly key: Uint8Array
  readonly values: ReadonlyArray<Uint8Array>
}

/** Where a run's values lie in its commit record's value. */
export interface RunPlace {
  /** Offset of the run's first value length. */
  readonly offset: number
  /** Bytes of the run's values with their lengths. */
  readonly length: number
}

/** A commit record as written, with the link it makes and where each run's values went. */
export interface EncodedCommit {
  readonly key: Uint8Array
  readonly value: Uint8Array
  readonly link: ChainLink
  readonly places: ReadonlyArray<RunPlace>
}

/** A commit record as read back. Values are views of the record's bytes. */
export interface DecodedCommit {
  readonly firstSequence: number
  /** One past the last sequence of the commit before it in the chain (0 for the first). */
  readonly prevEnd: number
  readonly checksum: Uint8Array
  readonly runs: ReadonlyArray<CommitRun>
  /** Where each run's values lie in the record's value, as `encodeCommit` reported them. */
  readonly places: ReadonlyArray<RunPlace>
  /** One past this commit's last sequence. */
  readonly end: number
}

const HEADER_BYTES = U64_BYTES + CHECKSUM_BYTES
const KEY_PREFIX_BYTES = 2

// -------------------------------------------------------------------------------------
// commit records
// -------------------------------------------------------------------------------------

/** The key of the commit record whose first sequence is `firstSequence`. */
export const encodeCommitKey = (firstSequence: number): Uint8Array => {
  const out = new Uint8Array(KEY_PREFIX_BYTES + U64_BYTES)
  out[0] = FORMAT_VERSION
  out[1] = RecordType.Commit
  writeU64(out, KEY_PREFIX_BYTES, firstSequence)
  return out
}

/** The first sequence a commit key names, or `CORRUPTION`. */
export const decodeCommitKey = (key: Uint8Array): E.Either<CorruptionError, number> => {
  if (
    key.length !== KEY_PREFIX_BYTES + U64_BYTES ||
    key[0] !== FORMAT_VERSION ||
    key[1] !== RecordType.Commit
  ) {
    return E.left(corruption('not a commit key'))
  }
  return E.fromOption(() => corruption('commit key sequence is beyond the safe range'))(
    readU64(key, KEY_PREFIX_BYTES),
  )
}

/**
 * The chain checksum of a commit record: SHA-256 over the previous checksum, the record's key,
 * and its value without the checksum field. Any changed byte of a commit changes its checksum
 * and, through the chain, every later one.
 */
export const chainChecksum = (
  previous: Uint8Array,
  key: Uint8Array,
  value: Uint8Array,
): Uint8Array =>
  new Uint8Array(
    createHash('sha256')
      .update(previous)
      .update(key)
      .update(value.subarray(0, U64_BYTES))
      .update(value.subarray(HEADER_BYTES))
      .digest(),
  )

/**
 * Encodes the commit of `runs` starting at `firstSequence`, linked to `previous`.
 *
 * Laws (checked in test/codec/commit.test.ts): `decodeCommit` gives back the runs, the
 * sequence, `previous.end` and the checksum of the returned link; `verifyLink(previous, …)`
 * holds for the encoded record and fails for any other previous link or any changed byte.
 */
export const encodeCommit = (
  previous: ChainLink,
  firstSequence: number,
  runs: ReadonlyArray<CommitRun>,
): EncodedCommit => {
  let size = HEADER_BYTES
  let count = 0
  const lengths = runs.map((run) => {
    const length = valuesLength(run.values)
    size += varintLength(run.key.length) + run.key.length + varintLength(run.values.length) + length
    count += run.values.length
    return length
  })
  const key = encodeCommitKey(firstSequence)
  const value = new Uint8Array(size)
  writeU64(value, 0, previous.end)
  let at = HEADER_BYTES
  const places: RunPlace[] = []
  runs.forEach((run, i) => {
    at = writeVarint(value, at, run.key.length)
    value.set(run.key, at)
    at = writeVarint(value, at + run.key.length, run.values.length)
    places.push({ offset: at, length: lengths[i] ?? 0 })
    at = writeValues(value, at, run.values)
  })
  const checksum = chainChecksum(previous.checksum, key, value)
  value.set(checksum, U64_BYTES)
  return { key, value, link: { end: firstSequence + count, checksum }, places }
}

/** Decodes a commit record; anything `encodeCommit` cannot have produced is `CORRUPTION`. */
export const decodeCommit = (
  key: Uint8Array,
  value: Uint8Array,
): E.Either<CorruptionError, DecodedCommit> => {
  const first = decodeCommitKey(key)
  if (E.isLeft(first)) return first
  if (value.length < HEADER_BYTES) return E.left(corruption('commit record is too short'))
  const prevEnd = readU64(value, 0)
  if (O.isNone(prevEnd) || prevEnd.value > first.right) {
    return E.left(corruption(`commit ${first.right} names a previous end past its start`))
  }
  const runs: CommitRun[] = []
  const places: RunPlace[] = []
  let count = 0
  let at = HEADER_BYTES
  while (at < value.length) {
    const keyLength = readVarint(value, at)
    if (O.isNone(keyLength)) return E.left(corruption(`commit ${first.right}: bad key length`))
    const [n, keyStart] = keyLength.value
    const runCount = readVarint(value, keyStart + n)
    if (keyStart + n > value.length || O.isNone(runCount) || runCount.value[0] < 1) {
      return E.left(corruption(`commit ${first.right}: bad run`))
    }
    const values = readValues(value, runCount.value[1], value.length, runCount.value[0])
    if (E.isLeft(values)) return E.left(corruption(`commit ${first.right}: ${values.left.message}`))
    runs.push({ key: value.subarray(keyStart, keyStart + n), values: values.right[0] })
    places.push({ offset: runCount.value[1], length: values.right[1] - runCount.value[1] })
    count += runCount.value[0]
    at = values.right[1]
  }
  if (runs.length === 0) return E.left(corruption(`commit ${first.right} holds no entries`))
  return E.right({
    firstSequence: first.right,
    prevEnd: prevEnd.value,
    checksum: value.subarray(U64_BYTES, HEADER_BYTES),
    runs,
    places,
    end: first.right + count,
  })
}

/**
 * Whether a commit record continues the chain at `previous`: it names `previous.end` as the end
 * before it, and its stored checksum is the one its bytes and `previous.checksum` give.
 */
export const verifyLink = (previous: ChainLink, key: Uint8Array, value: Uint8Array): boolean => {
  if (value.length < HEADER_BYTES) return false
  const prevEnd = readU64(value, 0)
  return (
    O.isSome(prevEnd) &&
    prevEnd.value === previous.end &&
    sameBytes(value.subarray(U64_BYTES, HEADER_BYTES), chainChecksum(previous.checksum, key, value))
  )
}

/** The values of an in-commit run, read from its commit record's value. */
export const valuesInCommit = (
  commitValue: Uint8Array,
  place: RunPlace,
  count: number,
): E.Either<CorruptionError, ReadonlyArray<Uint8Array>> => {
  const end = place.offset + place.length
  if (place.offset < HEADER_BYTES || end > commitValue.length) {
    return E.left(corruption('run points outside the values of its commit'))
  }
  const values = readValues(commitValue, place.offset, end, count)
  if (E.isLeft(values)) return values
  return values.right[1] === end
    ? E.right(values.right[0])
    : E.left(corruption('run length does not match its values'))
}
