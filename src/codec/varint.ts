/**
 * Unsigned LEB128 varints: seven bits a byte, low bits first, the high bit set on every byte but
 * the last. Lengths and counts inside records use them, so that small numbers take one byte.
 * Values are JavaScript numbers: only safe integers are written or accepted back.
 */
import * as O from 'fp-ts/lib/Option.js'

/** Bytes `writeVarint` takes for `n`. */
export const varintLength = (n: number): number => {
  let length = 1
  while (n >= 0x80) {
    n = Math.floor(n / 0x80)
    length++
  }
  return length
}

/** Writes `n` at `at` and returns the offset after it. */
export const writeVarint = (out: Uint8Array, at: number, n: number): number => {
  while (n >= 0x80) {
    out[at++] = (n % 0x80) | 0x80
    n = Math.floor(n / 0x80)
  }
  out[at++] = n
  return at
}

/**
 * Reads a varint at `at`: the value and the offset after it, or `none` when the bytes end first,
 * it runs past 8 bytes, it is an overlong spelling (a last byte of 0 after others) or its value
 * is not a safe integer.
 *
 * Law (checked in test/codec/varint.test.ts): after `end = writeVarint(b, o, n)`,
 * `readVarint(b, o)` is `some([n, end])` for every safe `n >= 0` below 2^56.
 */
export const readVarint = (bytes: Uint8Array, at: number): O.Option<readonly [number, number]> => {
  let n = 0
  let scale = 1
  for (let i = at; i < bytes.length && i < at + 8; i++) {
    const b = bytes[i] ?? 0
    n += (b & 0x7f) * scale
    // A last byte of 0 after others would be an overlong spelling of a smaller number: each
    // number has one encoding, so that equal values are equal bytes.
    if (b < 0x80)
      return Number.isSafeInteger(n) && (b > 0 || i === at) ? O.some([n, i + 1] as const) : O.none
    scale *= 0x80
  }
  return O.none
}
