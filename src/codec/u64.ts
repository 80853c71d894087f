/**
 * Unsigned 64-bit big-endian integers, the width of every sequence number on disk. Big-endian
 * makes byte order equal numeric order, which is what lets sequences sit inside ordered keys.
 * Values are JavaScript numbers, so only the safe-integer part of the range is ever written or
 * accepted back.
 */
import * as O from 'fp-ts/lib/Option.js'

const TWO_32 = 0x1_0000_0000
// The high word of Number.MAX_SAFE_INTEGER: 2^53 − 1 = 0x1F_FFFF_FFFF_FFFF.
const MAX_SAFE_HIGH = 0x1f_ffff

/** Bytes in one encoded integer. */
export const U64_BYTES = 8

/** Writes a non-negative safe integer at `offset` as 8 big-endian bytes. */
export const writeU64 = (target: Uint8Array, offset: number, n: number): void => {
  const high = Math.floor(n / TWO_32)
  const low = n - high * TWO_32
  target[offset] = high >>> 24
  target[offset + 1] = (high >>> 16) & 0xff
  target[offset + 2] = (high >>> 8) & 0xff
  target[offset + 3] = high & 0xff
  target[offset + 4] = low >>> 24
  target[offset + 5] = (low >>> 16) & 0xff
  target[offset + 6] = (low >>> 8) & 0xff
  target[offset + 7] = low & 0xff
}

/**
 * Reads 8 big-endian bytes at `offset`; `none` when the value is above
 * `Number.MAX_SAFE_INTEGER` (and so could not be represented exactly). The caller checks that
 * the 8 bytes exist.
 *
 * Law: `readU64(b, o)` is `some(n)` after `writeU64(b, o, n)` for every safe `n >= 0`.
 */
export const readU64 = (source: Uint8Array, offset: number): O.Option<number> => {
  const high =
    ((source[offset] ?? 0) * 0x100_0000 +
      ((source[offset + 1] ?? 0) << 16) +
      ((source[offset + 2] ?? 0) << 8) +
      (source[offset + 3] ?? 0)) >>>
    0
  const low =
    ((source[offset + 4] ?? 0) * 0x100_0000 +
      ((source[offset + 5] ?? 0) << 16) +
      ((source[offset + 6] ?? 0) << 8) +
      (source[offset + 7] ?? 0)) >>>
    0
  return high > MAX_SAFE_HIGH ? O.none : O.some(high * TWO_32 + low)
}
