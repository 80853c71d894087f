/**
 * The truncation record of format 2: where the log is cut and the link the chain resumes from,
 * in one metadata record. `truncateBefore(s)` writes it (src/log/truncate.ts); every read and
 * the chain check (src/verify/chain.ts) start from it.
 *
 * Key:   FORMAT_VERSION | Meta | "truncation"
 * Value: before u64 BE | anchor end u64 BE | anchor checksum (32 bytes)
 */
import * as E from 'fp-ts/lib/Either.js'
import * as O from 'fp-ts/lib/Option.js'
import { corruption, type CorruptionError } from '../errors.js'
import { CHECKSUM_BYTES, GENESIS, type ChainLink } from './commit.js'
import { metaKey } from './records.js'
import { readU64, U64_BYTES, writeU64 } from './u64.js'

/** The key of the truncation record. */
export const truncationKey: Uint8Array = metaKey('truncation')

/** Where the log is cut: entries below `before` are gone; the chain resumes at `anchor`. */
export interface Truncation {
  readonly before: number
  readonly anchor: ChainLink
}

/** A log never cut: nothing hidden, the chain starts at `GENESIS`. */
export const NO_TRUNCATION: Truncation = { before: 0, anchor: GENESIS }

/**
 * `before u64 BE | anchor end u64 BE | anchor checksum (32 bytes)`.
 *
 * Law (checked in test/codec/truncation.test.ts): `decodeTruncation(encodeTruncation(t))` is
 * `right(t)` for every truncation whose anchor ends at or below its cut.
 */
export const encodeTruncation = (t: Truncation): Uint8Array => {
  const out = new Uint8Array(2 * U64_BYTES + CHECKSUM_BYTES)
  writeU64(out, 0, t.before)
  writeU64(out, U64_BYTES, t.anchor.end)
  out.set(t.anchor.checksum, 2 * U64_BYTES)
  return out
}

/** Decodes a truncation record; anything `encodeTruncation` cannot have produced is `CORRUPTION`. */
export const decodeTruncation = (bytes: Uint8Array): E.Either<CorruptionError, Truncation> => {
  const before = readU64(bytes, 0)
  const end = readU64(bytes, U64_BYTES)
  if (bytes.length !== 2 * U64_BYTES + CHECKSUM_BYTES || O.isNone(before) || O.isNone(end)) {
    return E.left(corruption('the truncation record is malformed'))
  }
  if (end.value > before.value) return E.left(corruption('the truncation anchor is past its cut'))
  return E.right({
    before: before.value,
    anchor: { end: end.value, checksum: bytes.slice(2 * U64_BYTES) },
  })
}
