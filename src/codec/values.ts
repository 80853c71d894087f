/**
 * Value lists: values each prefixed with its length as a varint, the body of a run in a commit
 * record and in an inline run record alike.
 *
 * Law (checked in test/codec/commit.test.ts through both records): `readValues` over what
 * `writeValues` wrote gives back the values and the offset after them.
 */
import * as E from 'fp-ts/lib/Either.js'
import * as O from 'fp-ts/lib/Option.js'
import { corruption, type CorruptionError } from '../errors.js'
import { readVarint, varintLength, writeVarint } from './varint.js'

/** Bytes of one run's values, each with its length. */
export const valuesLength = (values: ReadonlyArray<Uint8Array>): number => {
  let n = 0
  for (const v of values) n += varintLength(v.length) + v.length
  return n
}

/** Writes the values at `at`, each after its length; returns the offset after them. */
export const writeValues = (
  out: Uint8Array,
  at: number,
  values: ReadonlyArray<Uint8Array>,
): number => {
  for (const v of values) {
    at = writeVarint(out, at, v.length)
    out.set(v, at)
    at += v.length
  }
  return at
}

/** Reads `count` length-prefixed values from `bytes[at, end)`, as views of it. */
export const readValues = (
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
