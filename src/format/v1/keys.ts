/**
 * Format 1's keys, as deltalog 0.1 wrote them; this version reads them only to convert them
 * (src/format/migrate.ts). Every key starts with `V1_FORMAT_VERSION` and a record type. Entry
 * keys then carry the user key, escaped and terminated, and the sequence as 8 big-endian bytes,
 * which makes the byte order of encoded keys equal (user key, sequence) order: one key's entries
 * are contiguous and no two keys' entries interleave. docs/format.md has the layout.
 */
import * as E from 'fp-ts/lib/Either.js'
import * as O from 'fp-ts/lib/Option.js'
import {
  escapedLength,
  KEY_TERMINATOR,
  metaKeyOf,
  prefixSuccessor,
  readEscaped,
  writeEscaped,
  type KeyRange,
} from '../../codec/keys.js'
import { readU64, U64_BYTES, writeU64 } from '../../codec/u64.js'
import { corruption, type CorruptionError } from '../../errors.js'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** On-disk format 1, deltalog 0.1's, read only to convert it: the first byte of its keys. */
export const V1_FORMAT_VERSION = 0x01

/** The second byte of every format 1 key: which kind of record follows. */
export const V1RecordType = {
  /** The allocator's SeqBlock; one record. */
  SeqBlock: 0x01,
  /** A log entry, keyed by (user key, sequence). */
  Entry: 0x02,
  /** The commit index: one record per commit, giving global sequence order. */
  SequenceIndex: 0x03,
  /** Named metadata records, such as the truncation watermark. */
  Meta: 0x04,
} as const

export type V1RecordType = (typeof V1RecordType)[keyof typeof V1RecordType]

/** A decoded entry key. */
export interface EntryKey {
  readonly key: Uint8Array
  readonly sequence: number
}

// -------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------

/** The two-byte header every format 1 key of the given type starts with. */
export const v1RecordPrefix = (type: V1RecordType): Uint8Array =>
  Uint8Array.of(V1_FORMAT_VERSION, type)

/** The single key under which format 1 kept the allocator's SeqBlock. */
export const v1SeqBlockKey: Uint8Array = v1RecordPrefix(V1RecordType.SeqBlock)

/** The metadata record holding format 1's truncation watermark: entries below it are removed. */
export const v1TruncatedBeforeKey: Uint8Array = metaKeyOf(V1_FORMAT_VERSION, 'truncatedBefore')

// -------------------------------------------------------------------------------------
// codecs
// -------------------------------------------------------------------------------------

/**
 * Encodes the storage key of the entry with the given user key and sequence:
 * `version | Entry | escape(key) | 0x00 | sequence u64 BE`.
 *
 * Laws (checked by properties in test/format/v1/keys.test.ts):
 * - round trip: `decodeEntryKey(encodeEntryKey(k, s))` is `right({ key: k, sequence: s })`;
 * - order: comparing two encoded keys byte by byte orders them as (k, s) pairs, keys compared
 *   by raw bytes first, then sequences numerically.
 */
export const encodeEntryKey = (key: Uint8Array, sequence: number): Uint8Array => {
  const out = new Uint8Array(2 + escapedLength(key) + 1 + U64_BYTES)
  out[0] = V1_FORMAT_VERSION
  out[1] = V1RecordType.Entry
  const end = writeEscaped(out, 2, key)
  out[end] = KEY_TERMINATOR
  writeU64(out, end + 1, sequence)
  return out
}

/** Decodes an entry key; anything that `encodeEntryKey` cannot have produced is `CORRUPTION`. */
export const decodeEntryKey = (bytes: Uint8Array): E.Either<CorruptionError, EntryKey> => {
  if (bytes[0] !== V1_FORMAT_VERSION || bytes[1] !== V1RecordType.Entry) {
    return E.left(corruption('not an entry key of this format version'))
  }
  const escaped = readEscaped(bytes, 2)
  if (E.isLeft(escaped)) return E.left(corruption(`entry ${escaped.left.message}`))
  const [key, end] = escaped.right
  if (bytes.length !== end + U64_BYTES) {
    return E.left(corruption(`entry key has ${bytes.length - end} sequence bytes, not 8`))
  }
  const sequence = readU64(bytes, end)
  return O.isNone(sequence)
    ? E.left(corruption('entry key sequence is beyond the safe integer range'))
    : E.right({ key, sequence: sequence.value })
}

// -------------------------------------------------------------------------------------
// ranges
// -------------------------------------------------------------------------------------

/** Every format 1 key of one record type. */
export const v1RecordRange = (type: V1RecordType): KeyRange => {
  const gte = v1RecordPrefix(type)
  return { gte, lt: prefixSuccessor(gte) }
}

/**
 * The entries of one user key with sequences in `[from, to)`. `to` defaults to past every
 * possible sequence.
 */
export const entryRange = (key: Uint8Array, from = 0, to?: number): KeyRange => {
  const gte = encodeEntryKey(key, from)
  if (to !== undefined) return { gte, lt: encodeEntryKey(key, to) }
  // Everything of this key: up to, not including, the terminator's successor.
  return { gte, lt: prefixSuccessor(gte.subarray(0, gte.length - U64_BYTES)) }
}

/**
 * The entries of every user key that starts with `prefix`. Because the escape scheme is a prefix
 * code, a key starts with `prefix` exactly when its encoding starts with the unterminated
 * encoding of `prefix`.
 */
export const entryPrefixRange = (prefix: Uint8Array): KeyRange => {
  const gte = new Uint8Array(2 + escapedLength(prefix))
  gte[0] = V1_FORMAT_VERSION
  gte[1] = V1RecordType.Entry
  writeEscaped(gte, 2, prefix)
  return { gte, lt: prefixSuccessor(gte) }
}
