/**
 * Format 2's records: one commit record per commit, holding every value of the commit in
 * sequence order and linked to the commit before it by a chained SHA-256, and one run record
 * per run (the entries of one key at consecutive sequences in one commit), in key order, that
 * either holds a small run's values itself or points into its commit record.
 *
 * A global scan reads commit records in storage order; a key scan reads run records in storage
 * order and fetches a commit record only for a run too big to keep inline. docs/format.md has
 * the layout byte by byte, the measurements behind it, and hex examples that
 * test/codec/commit.test.ts checks.
 *
 * Commit key:   0x02 0x03 | firstSequence u64 BE
 * Commit value: prevEnd u64 BE | checksum (32 bytes) | runs
 *               run = varint(keyLength) key varint(count) (varint(valueLength) value) × count
 * Run key:      0x02 0x02 | escape(userKey) 0x00 | firstSequence u64 BE
 * Run value:    0x01 varint(count) (varint(valueLength) value) × count               inline
 *               0x02 varint(count) varint(firstSequence − commitFirst) varint(offset)
 *                    varint(length)                                                 in commit
 */
import { createHash } from 'node:crypto'
import * as E from 'fp-ts/lib/Either.js'
import * as O from 'fp-ts/lib/Option.js'
import { corruption, type CorruptionError } from '../errors.js'
import {
  escapedLength,
  KEY_TERMINATOR,
  prefixSuccessor,
  readEscaped,
  writeEscaped,
  type KeyRange,
} from './keys.js'
import { FORMAT_VERSION, RecordType } from './records.js'
import { allocBytes } from './slab.js'
import { readU64, U64_BYTES, writeU64 } from './u64.js'
import { readVarint, varintLength, writeVarint } from './varint.js'
import { sameBytes } from './bytes.js'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** Bytes of a chain checksum: SHA-256. */
export const CHECKSUM_BYTES = 32

/** A run whose values take at most this many bytes (with their lengths) is stored inline. */
export const INLINE_MAX_BYTES = 1024

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

/** A run record as read back: its values, or where in which commit record they are. */
export type RunRecord =
  | {
      readonly form: 'inline'
      readonly key: Uint8Array
      readonly firstSequence: number
      readonly values: ReadonlyArray<Uint8Array>
    }
  | {
      readonly form: 'inCommit'
      readonly key: Uint8Array
      readonly firstSequence: number
      readonly count: number
      readonly commitFirstSequence: number
      readonly place: RunPlace
    }

const INLINE = 0x01
const IN_COMMIT = 0x02
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

/** Bytes of one run's values, each with its length. */
const valuesLength = (values: ReadonlyArray<Uint8Array>): number => {
  let n = 0
  for (const v of values) n += varintLength(v.length) + v.length
  return n
}

const writeValues = (out: Uint8Array, at: number, values: ReadonlyArray<Uint8Array>): number => {
  for (const v of values) {
    at = writeVarint(out, at, v.length)
    out.set(v, at)
    at += v.length
  }
  return at
}

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

/** Reads `count` length-prefixed values from `bytes[at, end)`, as views of it. */
const readValues = (
  bytes: Uint8Array,
  at: number,
  end: number,
  count: number,
): E.Either<CorruptionError, readonly [ReadonlyArray<Uint8Array>, number]> => {
  const values: Uint8Array[] = []
  for (let i = 0; i < count; i++) {
    const length = readVarint(bytes, at)
    if (O.isNone(length)) return E.left(corruption('bad value length'))
    const [n, start] = length.value
    if (start + n > end) return E.left(corruption('value runs past the end of its record'))
    values.push(bytes.subarray(start, start + n))
    at = start + n
  }
  return E.right([values, at])
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

// -------------------------------------------------------------------------------------
// run records
// -------------------------------------------------------------------------------------

/** The key of the run record of `key` starting at `firstSequence`. */
export const encodeRunKey = (key: Uint8Array, firstSequence: number): Uint8Array => {
  const out = allocBytes(KEY_PREFIX_BYTES + escapedLength(key) + 1 + U64_BYTES)
  out[0] = FORMAT_VERSION
  out[1] = RecordType.Run
  const end = writeEscaped(out, KEY_PREFIX_BYTES, key)
  out[end] = KEY_TERMINATOR
  writeU64(out, end + 1, firstSequence)
  return out
}

/**
 * The run records of `key` that start in `[from, to)` (`to` defaults to past every sequence).
 * The run holding `from` may start below it: a reader finds that one with a reverse seek.
 */
export const runRange = (key: Uint8Array, from = 0, to?: number): KeyRange => {
  const gte = encodeRunKey(key, from)
  if (to !== undefined) return { gte, lt: encodeRunKey(key, to) }
  return { gte, lt: prefixSuccessor(gte.subarray(0, gte.length - U64_BYTES)) }
}

/**
 * The run record for a run of `key` from `firstSequence`: its values inline when they take at
 * most `INLINE_MAX_BYTES`, else a pointer to `place` in the commit starting at `commitFirst`.
 */
export const encodeRunRecord = (
  run: CommitRun,
  firstSequence: number,
  commitFirst: number,
  place: RunPlace,
): { readonly key: Uint8Array; readonly value: Uint8Array } => {
  const key = encodeRunKey(run.key, firstSequence)
  const count = run.values.length
  if (place.length <= INLINE_MAX_BYTES) {
    const value = allocBytes(1 + varintLength(count) + place.length)
    value[0] = INLINE
    writeValues(value, writeVarint(value, 1, count), run.values)
    return { key, value }
  }
  const delta = firstSequence - commitFirst
  const value = new Uint8Array(
    1 +
      varintLength(count) +
      varintLength(delta) +
      varintLength(place.offset) +
      varintLength(place.length),
  )
  value[0] = IN_COMMIT
  let at = writeVarint(value, 1, count)
  at = writeVarint(value, at, delta)
  at = writeVarint(value, at, place.offset)
  writeVarint(value, at, place.length)
  return { key, value }
}

/** Decodes a run record; anything `encodeRunRecord` cannot have produced is `CORRUPTION`. */
export const decodeRunRecord = (
  key: Uint8Array,
  value: Uint8Array,
): E.Either<CorruptionError, RunRecord> => {
  if (key[0] !== FORMAT_VERSION || key[1] !== RecordType.Run) {
    return E.left(corruption('not a run key'))
  }
  const escaped = readEscaped(key, KEY_PREFIX_BYTES)
  if (E.isLeft(escaped)) return E.left(corruption(`run ${escaped.left.message}`))
  const [userKey, end] = escaped.right
  const first = key.length === end + U64_BYTES ? readU64(key, end) : O.none
  if (O.isNone(first)) return E.left(corruption('run key has a bad sequence'))
  const firstSequence = first.value
  const count = readVarint(value, 1)
  if (O.isNone(count) || count.value[0] < 1) {
    return E.left(corruption(`run ${firstSequence}: bad count`))
  }
  if (value[0] === INLINE) {
    const values = readValues(value, count.value[1], value.length, count.value[0])
    if (E.isLeft(values)) return E.left(corruption(`run ${firstSequence}: ${values.left.message}`))
    if (values.right[1] !== value.length) {
      return E.left(corruption(`run ${firstSequence}: bytes after its values`))
    }
    return E.right({ form: 'inline', key: userKey, firstSequence, values: values.right[0] })
  }
  if (value[0] === IN_COMMIT) {
    const delta = readVarint(value, count.value[1])
    const offset = O.chain(([, at]: readonly [number, number]) => readVarint(value, at))(delta)
    const length = O.chain(([, at]: readonly [number, number]) => readVarint(value, at))(offset)
    if (
      O.isNone(delta) ||
      O.isNone(offset) ||
      O.isNone(length) ||
      length.value[1] !== value.length ||
      delta.value[0] > firstSequence
    ) {
      return E.left(corruption(`run ${firstSequence}: bad pointer into its commit`))
    }
    return E.right({
      form: 'inCommit',
      key: userKey,
      firstSequence,
      count: count.value[0],
      commitFirstSequence: firstSequence - delta.value[0],
      place: { offset: offset.value[0], length: length.value[0] },
    })
  }
  return E.left(corruption(`run ${firstSequence}: unknown form ${value[0]}`))
}

/** The values of an in-commit run, read from its commit record's value. */
export const valuesInCommit = (
  commitValue: Uint8Array,
  place: RunPlace,
  count: number,
): E.Either<CorruptionError, ReadonlyArray<Uint8Array>> => {
  const end = place.offset + place.length
  if (place.offset < HEADER_BYTES || end > commitValue.length) {
    return E.left(corruption('run points past the end of its commit'))
  }
  const values = readValues(commitValue, place.offset, end, count)
  if (E.isLeft(values)) return values
  return values.right[1] === end
    ? E.right(values.right[0])
    : E.left(corruption('run length does not match its values'))
}
