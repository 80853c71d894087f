/// <reference lib="es2024.string" />
/**
 * Storage keys. Every key deltalog writes starts with a format-version byte and a record-type
 * byte, so record kinds never collide and the format can grow. Entry keys then carry the user
 * key, escaped and terminated, and the sequence as 8 big-endian bytes, which makes the byte
 * order of encoded keys equal (user key, sequence) order: one key's entries are contiguous and
 * no two keys' entries interleave. The full layout is in docs/format.md.
 */
import * as E from 'fp-ts/lib/Either.js'
import * as O from 'fp-ts/lib/Option.js'
import { corruption, type CorruptionError } from '../errors.js'
import { allocBytes } from './slab.js'
import { readU64, U64_BYTES, writeU64 } from './u64.js'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** The on-disk format this code reads and writes: the first byte of every key. */
export const FORMAT_VERSION = 0x01

/** The second byte of every key: which kind of record follows. */
export const RecordType = {
  /** The allocator's SeqBlock; one record. */
  SeqBlock: 0x01,
  /** A log entry, keyed by (user key, sequence). */
  Entry: 0x02,
  /** The commit index: one record per commit, giving global sequence order. */
  SequenceIndex: 0x03,
  /** Named metadata records, such as the truncation watermark. */
  Meta: 0x04,
} as const

export type RecordType = (typeof RecordType)[keyof typeof RecordType]

/** A decoded entry key. */
export interface EntryKey {
  readonly key: Uint8Array
  readonly sequence: number
}

/** A half-open range of storage keys, `[gte, lt)`. */
export interface KeyRange {
  readonly gte: Uint8Array
  readonly lt: Uint8Array
}

// The escape scheme: 0x00 → 0x01 0x01, 0x01 → 0x01 0x02, every other byte as itself, then a
// 0x00 terminator. Escaped bytes start at 0x01, so the terminator sorts before any continuation
// and a key sorts before every longer key it is a prefix of.
const TERMINATOR = 0x00
const ESCAPE = 0x01

// -------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------

/** The two-byte header every storage key of the given type starts with. */
export const recordPrefix = (type: RecordType): Uint8Array => Uint8Array.of(FORMAT_VERSION, type)

/** The single key under which the allocator's SeqBlock lives. */
export const seqBlockKey: Uint8Array = recordPrefix(RecordType.SeqBlock)

const utf8 = new TextEncoder()

/**
 * Whether a string is well-formed UTF-16: no lone surrogate (`'x\uD800'`, `'\uDC00y'`). Only
 * such a string has UTF-8 bytes; encoding any other replaces each lone surrogate with U+FFFD, so
 * two different strings would name one key. `String.prototype.isWellFormed` is native on every
 * Node.js line deltalog supports (`engines`: >= 20).
 */
export const isWellFormed = (s: string): boolean => s.isWellFormed()

/**
 * A string key means its UTF-8 bytes; byte keys are taken as they are. Callers check string
 * keys with `isWellFormed` first: this encoding is only one-to-one on well-formed strings. The
 * bytes of a string may be a slice of a shared buffer (see `allocBytes`): copy them to keep them.
 */
export const keyBytes = (key: string | Uint8Array): Uint8Array =>
  typeof key === 'string' ? utf8Bytes(key) : key

/** Longest string that `utf8Bytes` tries as ASCII first. */
const ASCII_TRY_CHARS = 4096

/**
 * The UTF-8 bytes of a string. ASCII strings, the common case for keys and JSON values, are
 * written byte by byte into an array from `allocBytes`: `TextEncoder.encode` costs ten times as
 * much for a short string. Any other string goes to `TextEncoder`.
 */
const utf8Bytes = (s: string): Uint8Array => {
  const n = s.length
  if (n > ASCII_TRY_CHARS) return utf8.encode(s)
  const out = allocBytes(n)
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i)
    if (c >= 0x80) return utf8.encode(s)
    out[i] = c
  }
  return out
}

/** Bytes `writeEscaped` takes for `key`, without the terminator. */
export const escapedLength = (key: Uint8Array): number => {
  let n = key.length
  for (const b of key) if (b <= ESCAPE) n++
  return n
}

/** Writes `key` escaped at `offset`, without the terminator; returns the offset after it. */
export const writeEscaped = (target: Uint8Array, offset: number, key: Uint8Array): number => {
  let at = offset
  for (const b of key) {
    if (b <= ESCAPE) {
      target[at++] = ESCAPE
      target[at++] = b + 1
    } else {
      target[at++] = b
    }
  }
  return at
}

// -------------------------------------------------------------------------------------
// codecs
// -------------------------------------------------------------------------------------

/**
 * Encodes the storage key of the entry with the given user key and sequence:
 * `version | Entry | escape(key) | 0x00 | sequence u64 BE`.
 *
 * Laws (checked by properties in test/codec/keys.test.ts):
 * - round trip: `decodeEntryKey(encodeEntryKey(k, s))` is `right({ key: k, sequence: s })`;
 * - order: comparing two encoded keys byte by byte orders them as (k, s) pairs, keys compared
 *   by raw bytes first, then sequences numerically.
 */
export const encodeEntryKey = (key: Uint8Array, sequence: number): Uint8Array => {
  const out = new Uint8Array(2 + escapedLength(key) + 1 + U64_BYTES)
  out[0] = FORMAT_VERSION
  out[1] = RecordType.Entry
  const end = writeEscaped(out, 2, key)
  out[end] = TERMINATOR
  writeU64(out, end + 1, sequence)
  return out
}

/**
 * Encodes the storage keys of many entries into one shared buffer and returns them as views of
 * it: a commit's keys cost one allocation, not one each, and a key repeated from one entry to
 * the next is escaped once and copied after that.
 *
 * Law (checked by a property in test/codec/keys.test.ts): element `i` has the bytes of
 * `encodeEntryKey(entries[i].key, entries[i].sequence)`.
 */
export const encodeEntryKeys = (
  entries: ReadonlyArray<{ readonly key: Uint8Array; readonly sequence: number }>,
): ReadonlyArray<Uint8Array> => {
  // Bytes before the sequence, per entry: header, escaped key, terminator.
  const heads = new Array<number>(entries.length)
  let total = 0
  let previous: Uint8Array | undefined
  let head = 0
  for (let i = 0; i < entries.length; i++) {
    const key = (entries[i] as { readonly key: Uint8Array }).key
    if (key !== previous) head = 2 + escapedLength(key) + 1
    previous = key
    heads[i] = head
    total += head + U64_BYTES
  }
  const out = new Uint8Array(total)
  const keys = new Array<Uint8Array>(entries.length)
  let at = 0
  let previousStart = 0
  previous = undefined
  for (let i = 0; i < entries.length; i++) {
    const { key, sequence } = entries[i] as { readonly key: Uint8Array; readonly sequence: number }
    const start = at
    const length = heads[i] as number
    if (key === previous) {
      out.copyWithin(start, previousStart, previousStart + length)
    } else {
      out[start] = FORMAT_VERSION
      out[start + 1] = RecordType.Entry
      out[writeEscaped(out, start + 2, key)] = TERMINATOR
    }
    writeU64(out, start + length, sequence)
    at = start + length + U64_BYTES
    keys[i] = out.subarray(start, at)
    previous = key
    previousStart = start
  }
  return keys
}

/**
 * Reads an escaped, terminated user key starting at `at`: the key and the offset after its
 * terminator, or `CORRUPTION` when there is no terminator or an escape is invalid.
 */
export const readEscaped = (
  bytes: Uint8Array,
  at: number,
): E.Either<CorruptionError, readonly [Uint8Array, number]> => {
  const key: number[] = []
  for (;;) {
    const b = bytes[at]
    if (b === undefined) return E.left(corruption('key has no terminator'))
    if (b === TERMINATOR) return E.right([Uint8Array.from(key), at + 1])
    if (b === ESCAPE) {
      const next = bytes[at + 1]
      if (next !== 0x01 && next !== 0x02) {
        return E.left(corruption('key has an invalid escape sequence'))
      }
      key.push(next - 1)
      at += 2
    } else {
      key.push(b)
      at += 1
    }
  }
}

/** Decodes an entry key; anything that `encodeEntryKey` cannot have produced is `CORRUPTION`. */
export const decodeEntryKey = (bytes: Uint8Array): E.Either<CorruptionError, EntryKey> => {
  if (bytes[0] !== FORMAT_VERSION || bytes[1] !== RecordType.Entry) {
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

/**
 * The smallest byte string greater than every string that starts with `prefix`: drop trailing
 * 0xFF bytes and increment the last remaining one. Storage keys always start with the version
 * byte, which is not 0xFF, so a successor always exists.
 */
export const prefixSuccessor = (prefix: Uint8Array): Uint8Array => {
  let end = prefix.length
  while (end > 0 && prefix[end - 1] === 0xff) end--
  const out = prefix.slice(0, end)
  if (end > 0) out[end - 1] = (out[end - 1] ?? 0) + 1
  return out
}

/** Every storage key of one record type. */
export const recordRange = (type: RecordType): KeyRange => {
  const gte = recordPrefix(type)
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
  gte[0] = FORMAT_VERSION
  gte[1] = RecordType.Entry
  writeEscaped(gte, 2, prefix)
  return { gte, lt: prefixSuccessor(gte) }
}

// -------------------------------------------------------------------------------------
// metadata
// -------------------------------------------------------------------------------------

/** The key of a named metadata record: `version | Meta | UTF-8 name`. */
export const metaKey = (name: string, version: number = FORMAT_VERSION): Uint8Array => {
  const nameBytes = utf8.encode(name)
  const out = new Uint8Array(2 + nameBytes.length)
  out[0] = version
  out[1] = RecordType.Meta
  out.set(nameBytes, 2)
  return out
}

/** The metadata record holding the truncation watermark: entries below it are removed. */
export const truncatedBeforeKey: Uint8Array = metaKey('truncatedBefore')
