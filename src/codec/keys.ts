/// <reference lib="es2024.string" />
/**
 * The pieces of storage keys that both on-disk formats share: a user key's bytes (a string key
 * means its UTF-8), the escape that makes encoded user keys sort as the keys do, the successor
 * that closes a prefix range, and metadata keys. Every key starts with a format-version byte and
 * a record-type byte: format 2's are in records.ts, format 1's in src/format/v1/keys.ts. The
 * layout is in docs/format.md.
 */
import * as E from 'fp-ts/lib/Either.js'
import { corruption, type CorruptionError } from '../errors.js'
import { allocBytes } from './slab.js'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** A half-open range of storage keys, `[gte, lt)`. */
export interface KeyRange {
  readonly gte: Uint8Array
  readonly lt: Uint8Array
}

// The escape scheme: 0x00 → 0x01 0x01, 0x01 → 0x01 0x02, every other byte as itself, then a
// 0x00 terminator. Escaped bytes start at 0x01, so the terminator sorts before any continuation
// and a key sorts before every longer key it is a prefix of.

/** The byte that ends an escaped user key. */
export const KEY_TERMINATOR = 0x00
const ESCAPE = 0x01

// -------------------------------------------------------------------------------------
// user keys
// -------------------------------------------------------------------------------------

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
    if (b === KEY_TERMINATOR) return E.right([Uint8Array.from(key), at + 1])
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

// -------------------------------------------------------------------------------------
// ranges and metadata
// -------------------------------------------------------------------------------------

/**
 * The smallest byte string greater than every string that starts with `prefix`: drop trailing
 * 0xFF bytes and increment the last remaining one. Storage keys always start with a version
 * byte, which is not 0xFF, so a successor always exists.
 */
export const prefixSuccessor = (prefix: Uint8Array): Uint8Array => {
  let end = prefix.length
  while (end > 0 && prefix[end - 1] === 0xff) end--
  const out = prefix.slice(0, end)
  if (end > 0) out[end - 1] = (out[end - 1] ?? 0) + 1
  return out
}

/** The record type of named metadata, the same in both formats. */
const META = 0x04

/**
 * The key of a named metadata record in the format whose first key byte is `version`:
 * `version | 0x04 | UTF-8 name`. Both formats lay metadata keys out alike.
 */
export const metaKeyOf = (version: number, name: string): Uint8Array => {
  const nameBytes = utf8.encode(name)
  const out = new Uint8Array(2 + nameBytes.length)
  out[0] = version
  out[1] = META
  out.set(nameBytes, 2)
  return out
}
