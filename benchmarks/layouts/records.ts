// The bytes the emulated format v2 layouts write: values, integers, escaped user keys, record
// keys and packed runs of values. Local to the layout benchmark and deliberately unchecked on
// decode (every record read back was written by the same run): what is measured is the cost of
// a layout, not of a codec to ship.
import type { RawRange } from '../raw.js'
import { valueOf } from '../measure.js'
import { varintLength, writeVarint } from '../../src/codec/varint.js'

// -------------------------------------------------------------------------------------
// values
// -------------------------------------------------------------------------------------

/** Bytes in every value. */
export const VALUE_BYTES = 100

// Distinct pseudo-random values, so that no layout gains from Snappy (on by default in the addon)
// finding a value repeated next to itself; a commit of 1000 entries never repeats one.
const POOL = Array.from({ length: 4096 }, (_, i) => valueOf(VALUE_BYTES, i + 1))

/** Writes the value of the entry at `sequence`: a pool value, the sequence in its first 8 bytes. */
const writeValue = (target: Buffer, at: number, sequence: number): void => {
  ;(POOL[sequence % POOL.length] as Buffer).copy(target, at)
  writeU64(target, at, sequence)
}

/** The value every layout writes for the entry at `sequence`. */
export const valueAt = (sequence: number): Buffer => {
  const out = Buffer.allocUnsafe(VALUE_BYTES)
  writeValue(out, 0, sequence)
  return out
}

/** The values of `count` entries from sequence `first`, as a caller would hand them over. */
export const valuesOf = (first: number, count: number): ReadonlyArray<Buffer> => {
  const slab = Buffer.allocUnsafe(count * VALUE_BYTES)
  return Array.from({ length: count }, (_, i) => {
    writeValue(slab, i * VALUE_BYTES, first + i)
    return slab.subarray(i * VALUE_BYTES, (i + 1) * VALUE_BYTES)
  })
}

// -------------------------------------------------------------------------------------
// integers
// -------------------------------------------------------------------------------------

const TWO_32 = 0x1_0000_0000

export const writeU64 = (target: Buffer, at: number, n: number): void => {
  target.writeUInt32BE(Math.floor(n / TWO_32), at)
  target.writeUInt32BE(n >>> 0, at + 4)
}

export const readU64 = (source: Buffer, at: number): number =>
  source.readUInt32BE(at) * TWO_32 + source.readUInt32BE(at + 4)

// The engine's own varints (unsigned LEB128), so the emulation writes the bytes format v2 does.
export { varintLength, writeVarint }

/** A read position, moved along by the readers below. */
export interface Cursor {
  at: number
}

export const readVarint = (source: Buffer, cursor: Cursor): number => {
  let n = 0
  let scale = 1
  for (;;) {
    const b = source[cursor.at++] ?? 0
    n += (b & 0x7f) * scale
    if (b < 0x80) return n
    scale *= 0x80
  }
}

/** Moves the cursor past a length-prefixed field, `varint(length) | bytes`. */
export const skipField = (source: Buffer, cursor: Cursor): void => {
  const length = readVarint(source, cursor)
  cursor.at += length
}

// -------------------------------------------------------------------------------------
// user keys
// -------------------------------------------------------------------------------------

/** A user key, with its escaped form computed once. */
export interface UserKey {
  readonly bytes: Buffer
  readonly escaped: Buffer
}

/** v1's escape scheme: 0x00 → 0x01 0x01, 0x01 → 0x01 0x02, any other byte as itself. */
export const escape = (bytes: Uint8Array): Buffer => {
  let length = bytes.length
  for (const b of bytes) if (b <= 0x01) length++
  const out = Buffer.allocUnsafe(length)
  let at = 0
  for (const b of bytes) {
    if (b <= 0x01) {
      out[at++] = 0x01
      out[at++] = b + 1
    } else {
      out[at++] = b
    }
  }
  return out
}

export const userKey = (name: string): UserKey => {
  const bytes = Buffer.from(name, 'utf8')
  return { bytes, escaped: escape(bytes) }
}

// -------------------------------------------------------------------------------------
// record keys
// -------------------------------------------------------------------------------------

// Every key starts with a format byte and a record-type byte; L0 writes v1's entry key exactly.
export const V1 = 0x01
export const V2 = 0x02
export const ENTRY = 0x02
export const COMMIT = 0x43 // 'C'
export const INDEX = 0x4b // 'K'
export const RUN = 0x52 // 'R'

/** `format | type | escape(key) | 0x00 | sequence u64 BE` */
export const keyedRecord = (
  format: number,
  type: number,
  escaped: Buffer,
  sequence: number,
): Buffer => {
  const out = Buffer.allocUnsafe(2 + escaped.length + 1 + 8)
  out[0] = format
  out[1] = type
  escaped.copy(out, 2)
  out[2 + escaped.length] = 0x00
  writeU64(out, 3 + escaped.length, sequence)
  return out
}

/** The sequence at the end of a keyed record's key. */
export const keySequence = (key: Buffer): number => readU64(key, key.length - 8)

/** `V2 | C | firstSequence u64 BE` */
export const commitKey = (first: number): Buffer => {
  const out = Buffer.allocUnsafe(10)
  out[0] = V2
  out[1] = COMMIT
  writeU64(out, 2, first)
  return out
}

/** The first sequence of a commit record's key. */
export const commitSequence = (key: Buffer): number => readU64(key, 2)

/** Every record of one type. */
export const typeRange = (format: number, type: number): RawRange => ({
  gte: Buffer.of(format, type),
  lt: Buffer.of(format, type + 1),
})

/** Every keyed record of one type and one user key: its terminator up to the successor. */
export const keyRange = (format: number, type: number, key: UserKey): RawRange => {
  const gte = Buffer.concat([Buffer.of(format, type), key.escaped, Buffer.of(0x00)])
  const lt = Buffer.from(gte)
  lt[lt.length - 1] = 0x01
  return { gte, lt }
}

// -------------------------------------------------------------------------------------
// packed values
// -------------------------------------------------------------------------------------

/** Receives one entry read back: its sequence and a view of its value. */
export type Visit = (sequence: number, value: Buffer) => void

/** Bytes of `values[from, from + count)` packed, `varint(length) | value` each. */
export const packedLength = (
  values: ReadonlyArray<Buffer>,
  from: number,
  count: number,
): number => {
  let length = 0
  for (let i = from; i < from + count; i++) {
    const n = (values[i] as Buffer).length
    length += varintLength(n) + n
  }
  return length
}

/** Packs `values[from, from + count)` at `at`, copying each; returns where they end. */
export const pack = (
  target: Buffer,
  at: number,
  values: ReadonlyArray<Buffer>,
  from: number,
  count: number,
): number => {
  for (let i = from; i < from + count; i++) {
    const value = values[i] as Buffer
    at = writeVarint(target, at, value.length)
    value.copy(target, at)
    at += value.length
  }
  return at
}

/** Visits `count` packed values from the cursor, the first at sequence `first`. */
export const unpack = (
  source: Buffer,
  cursor: Cursor,
  first: number,
  count: number,
  visit: Visit,
): void => {
  for (let s = first; s < first + count; s++) {
    const length = readVarint(source, cursor)
    visit(s, source.subarray(cursor.at, cursor.at + length))
    cursor.at += length
  }
}

/** Visits every packed value from the cursor to the end of `source`. */
export const unpackAll = (source: Buffer, cursor: Cursor, first: number, visit: Visit): void => {
  for (let s = first; cursor.at < source.length; s++) {
    const length = readVarint(source, cursor)
    visit(s, source.subarray(cursor.at, cursor.at + length))
    cursor.at += length
  }
}

/** The packed value `skip` places after the cursor. */
export const packedAt = (source: Buffer, cursor: Cursor, skip: number): Buffer => {
  for (let i = 0; i < skip; i++) skipField(source, cursor)
  const length = readVarint(source, cursor)
  return source.subarray(cursor.at, cursor.at + length)
}
