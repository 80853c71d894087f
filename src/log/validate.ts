/**
 * The records a caller appends, checked and taken over: every record is `{ key, value }` of
 * strings or bytes within the size limits, strings (well-formed: no lone surrogate) become
 * their UTF-8 bytes, and the caller's
 * arrays are copied (`own`), so that a caller changing its array after `append` changes nothing
 * that gets written. Every failure is an `INVALID_ARGUMENT` naming the record and its field.
 */
import * as E from 'fp-ts/lib/Either.js'
import { pipe } from 'fp-ts/lib/function.js'
import { isWellFormed, keyBytes } from '../codec/keys.js'
import { allocBytes } from '../codec/slab.js'
import type { Entry, Records } from '../delta/delta.js'
import { invalidArgument, type InvalidArgumentError } from '../errors.js'
import { notWellFormed } from './options.js'
import { RECORD_OVERHEAD_BYTES } from './writer.js'

/** The size limits of a log's records. */
export interface RecordLimits {
  readonly maxKeyBytes: number
  readonly maxValueBytes: number
}

/** Records ready for the writer, and the bytes they count against `maxPendingBytes`. */
export interface ValidRecords {
  readonly records: Records
  readonly bytes: number
}

/**
 * Copies the caller's arrays among `bytes` (at the indices `callers`, ascending) into `pool`
 * from `at`, in place: one allocation per append instead of one per array, and the records then
 * view it. An array given for several of them in a row is copied once, and they share the copy.
 * Returns where the next copy goes. An entry kept alive (by a reader, or the hot tail) keeps the
 * pool alive, which is at most its append's size (and a slab of `allocBytes` for small ones).
 * REQUIRES: `pool` has room for every distinct run of arrays from `at` on.
 */
const own = (
  bytes: Uint8Array[],
  callers: ReadonlyArray<number>,
  pool: Uint8Array,
  at: number,
): number => {
  let last: Uint8Array | undefined
  let copy: Uint8Array = pool
  for (const i of callers) {
    const b = bytes[i] as Uint8Array
    if (b !== last) {
      pool.set(b, at)
      last = b
      copy = pool.subarray(at, at + b.length)
      at += b.length
    }
    bytes[i] = copy
  }
  return at
}

/** What is wrong with the shape of `records[i]`: not `{ key, value }` of strings or bytes. */
const shapeError = (item: unknown, i: number): InvalidArgumentError | undefined => {
  if (typeof item !== 'object' || item === null) {
    return invalidArgument(`records[${i}]`, 'must be { key, value }')
  }
  for (const field in item) {
    if (field !== 'key' && field !== 'value' && Object.hasOwn(item, field)) {
      return invalidArgument(`records[${i}].${field}`, 'is not a record field')
    }
  }
  const { key, value } = item as Record<string, unknown>
  if (typeof key !== 'string' && !(key instanceof Uint8Array)) {
    return invalidArgument(`records[${i}].key`, 'must be a string or Uint8Array')
  }
  if (typeof value !== 'string' && !(value instanceof Uint8Array)) {
    return invalidArgument(`records[${i}].value`, 'must be a string or Uint8Array')
  }
  return undefined
}

/** What is wrong with the size of `records[i]`, given as bytes. */
const sizeError = (
  key: Uint8Array,
  value: Uint8Array,
  i: number,
  limits: RecordLimits,
): InvalidArgumentError | undefined => {
  if (key.length === 0) return invalidArgument(`records[${i}].key`, 'must not be empty')
  if (key.length > limits.maxKeyBytes) {
    return invalidArgument(
      `records[${i}].key`,
      `is ${key.length} bytes; maxKeyBytes is ${limits.maxKeyBytes}`,
    )
  }
  if (value.length > limits.maxValueBytes) {
    return invalidArgument(
      `records[${i}].value`,
      `is ${value.length} bytes; maxValueBytes is ${limits.maxValueBytes}`,
    )
  }
  return undefined
}

/** Checks the records of an `append` and takes them over (see the module comment). */
export const validateRecords = (
  input: unknown,
  limits: RecordLimits,
): E.Either<InvalidArgumentError, ValidRecords> => {
  if (!Array.isArray(input)) return E.left(invalidArgument('records', 'must be an array'))
  const items = input as ReadonlyArray<unknown>
  const keys: Uint8Array[] = []
  const values: Uint8Array[] = []
  let bytes = 0
  // Bytes the caller owns, which are copied: a caller mutating its array after append must
  // not change what gets written.
  let owned = 0
  // Bulk appends repeat a key from record to record: its bytes are encoded once and shared,
  // which also lets a commit see the run without comparing bytes.
  let lastKey: string | undefined
  let lastKeyBytes: Uint8Array = new Uint8Array(0)
  // The records whose key (value) is the caller's array, not bytes of a string.
  const callerKeys: number[] = []
  const callerValues: number[] = []
  let lastCallerKey: Uint8Array | undefined
  let lastCallerValue: Uint8Array | undefined
  for (let i = 0; i < items.length; i++) {
    const item = items[i]
    const badShape = shapeError(item, i)
    if (badShape !== undefined) return E.left(badShape)
    const { key: givenKey, value: givenValue } = item as {
      key: string | Uint8Array
      value: string | Uint8Array
    }
    if (typeof givenKey === 'string' && givenKey !== lastKey && !isWellFormed(givenKey)) {
      return E.left(notWellFormed(`records[${i}].key`))
    }
    // A value as a key: a lone surrogate has no UTF-8, and is refused rather than replaced.
    if (typeof givenValue === 'string' && !isWellFormed(givenValue)) {
      return E.left(notWellFormed(`records[${i}].value`))
    }
    const key =
      typeof givenKey !== 'string'
        ? givenKey
        : givenKey === lastKey
          ? lastKeyBytes
          : (lastKeyBytes = keyBytes((lastKey = givenKey)))
    const value = typeof givenValue === 'string' ? keyBytes(givenValue) : givenValue
    const badSize = sizeError(key, value, i, limits)
    if (badSize !== undefined) return E.left(badSize)
    // What `own` will copy: a caller's array once for the records that give it one after
    // another (records with a string in between included).
    if (typeof givenKey !== 'string') {
      if (key !== lastCallerKey) owned += key.length
      lastCallerKey = key
      callerKeys.push(i)
    }
    if (typeof givenValue !== 'string') {
      if (value !== lastCallerValue) owned += value.length
      lastCallerValue = value
      callerValues.push(i)
    }
    keys.push(key)
    values.push(value)
    bytes += key.length + value.length + RECORD_OVERHEAD_BYTES
  }
  if (owned > 0) {
    const pool = allocBytes(owned)
    own(values, callerValues, pool, own(keys, callerKeys, pool, 0))
  }
  return E.right({ records: { keys, values }, bytes })
}

/** Checks the entries of an `appendAt`: records as for `append`, each with its sequence. */
export const validatePlaced = (
  input: unknown,
  limits: RecordLimits,
): E.Either<InvalidArgumentError, { entries: ReadonlyArray<Entry> }> => {
  if (!Array.isArray(input)) return E.left(invalidArgument('entries', 'must be an array'))
  const items = input as ReadonlyArray<unknown>
  const sequences: number[] = []
  const records: unknown[] = []
  for (const [i, item] of items.entries()) {
    if (typeof item !== 'object' || item === null) {
      return E.left(invalidArgument(`entries[${i}]`, 'must be { sequence, key, value }'))
    }
    const { sequence, ...record } = item as Record<string, unknown>
    if (typeof sequence !== 'number' || !Number.isSafeInteger(sequence) || sequence < 0) {
      return E.left(
        invalidArgument(`entries[${i}].sequence`, 'must be a non-negative safe integer'),
      )
    }
    sequences.push(sequence)
    records.push(record)
  }
  return pipe(
    validateRecords(records, limits),
    // The records checked are the caller's entries: name them so.
    E.mapLeft((e) => ({
      ...e,
      field: e.field.replace(/^records/, 'entries'),
      message: e.message.replace(/^records/, 'entries'),
    })),
    E.map(({ records: valid }) => ({
      entries: valid.keys.map((key, i) => ({
        key,
        value: valid.values[i] as Uint8Array,
        sequence: sequences[i] ?? 0,
      })),
    })),
  )
}
