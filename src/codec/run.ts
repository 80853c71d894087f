/**
 * Format 2's run records: one per run (the entries of one key at consecutive sequences in one
 * commit), in key order, that holds a small run's values itself or points into its commit
 * record (commit.ts). A key scan reads them in storage order. docs/format.md has the layout.
 *
 * Run key:      0x02 0x02 | escape(userKey) 0x00 | firstSequence u64 BE
 * Run value:    0x01 varint(count) (varint(valueLength) value) × count               inline
 *               0x02 varint(count) varint(firstSequence − commitFirst) varint(offset)
 *                    varint(length)                                                 in commit
 */
import * as E from 'fp-ts/lib/Either.js'
import * as O from 'fp-ts/lib/Option.js'
import { corruption, type CorruptionError } from '../errors.js'
import type { CommitRun, RunPlace } from './commit.js'
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
import { readValues, writeValues } from './values.js'
import { readVarint, varintLength, writeVarint } from './varint.js'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** A run whose values take at most this many bytes (with their lengths) is stored inline. */
export const INLINE_MAX_BYTES = 1024

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
const KEY_PREFIX_BYTES = 2

// -------------------------------------------------------------------------------------
// codecs
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
