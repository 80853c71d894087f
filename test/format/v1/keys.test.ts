// Format 1's keys (src/format/v1/keys.ts), which this version reads only to convert them.
import { fc, test } from '@fast-check/vitest'
import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import { keyBytes, type KeyRange } from '../../../src/codec/keys.js'
import {
  V1_FORMAT_VERSION,
  V1RecordType,
  decodeEntryKey,
  encodeEntryKey,
  entryPrefixRange,
  entryRange,
  v1RecordRange,
  v1SeqBlockKey,
} from '../../../src/format/v1/keys.js'
import { MAX_SEQUENCE } from '../../../src/sequence/seqBlock.js'
import { arbKeyBytes, arbSequence } from '../../support/arbitraries.js'

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex')
const compareBytes = (a: Uint8Array, b: Uint8Array): number => Math.sign(Buffer.compare(a, b))
const compareNumbers = (a: number, b: number): number => Math.sign(a - b)
const inRange = (r: KeyRange) => (k: Uint8Array) =>
  compareBytes(k, r.gte) >= 0 && compareBytes(k, r.lt) < 0
const startsWith = (key: Uint8Array, prefix: Uint8Array): boolean =>
  prefix.every((b, i) => key[i] === b)

describe('entry keys', () => {
  it('lays out version, type, escaped key, terminator and big-endian sequence', () => {
    expect(hex(encodeEntryKey(keyBytes('ab'), 1))).toBe('0102' + '6162' + '00' + '0000000000000001')
    expect(hex(encodeEntryKey(Uint8Array.of(0x00, 0x01, 0x02, 0xff), 258))).toBe(
      '0102' + '0101' + '0102' + '02' + 'ff' + '00' + '0000000000000102',
    )
    expect(hex(encodeEntryKey(new Uint8Array(0), 0))).toBe('0102' + '00' + '0000000000000000')
  })

  it('uses distinct record types under one version byte', () => {
    expect(hex(v1SeqBlockKey)).toBe('0101')
    const types = Object.values(V1RecordType)
    expect(new Set(types).size).toBe(types.length)
    expect(encodeEntryKey(keyBytes('x'), 0)[0]).toBe(V1_FORMAT_VERSION)
  })

  test.prop([arbKeyBytes, arbSequence])('round trip', (key, sequence) => {
    expect(decodeEntryKey(encodeEntryKey(key, sequence))).toEqual(E.right({ key, sequence }))
  })

  test.prop([arbKeyBytes, arbSequence, arbKeyBytes, arbSequence])(
    'byte order of encoded keys is (key, sequence) order',
    (k1, s1, k2, s2) => {
      const expected = compareBytes(k1, k2) || compareNumbers(s1, s2)
      expect(compareBytes(encodeEntryKey(k1, s1), encodeEntryKey(k2, s2))).toBe(expected)
    },
  )

  test.prop([fc.uint8Array({ maxLength: 24 })])(
    'any bytes decode to an entry key or CORRUPTION, never a throw',
    (bytes) => {
      const result = decodeEntryKey(bytes)
      if (E.isRight(result)) {
        expect(encodeEntryKey(result.right.key, result.right.sequence)).toEqual(bytes)
      } else {
        expect(result.left.code).toBe('CORRUPTION')
      }
    },
  )

  it.each([
    ['another record type', '0101' + '00' + '0000000000000001'],
    ['another version', '0202' + '00' + '0000000000000001'],
    ['no terminator', '0102' + '6162'],
    ['a bad escape', '0102' + '0103' + '00' + '0000000000000001'],
    ['a short sequence', '0102' + '61' + '00' + '00000001'],
    ['a long sequence', '0102' + '61' + '00' + '000000000000000100'],
    ['a sequence past 2^53 − 1', '0102' + '61' + '00' + '0020000000000000'],
  ])('an entry key with %s is CORRUPTION', (_name, bytes) => {
    const result = decodeEntryKey(Uint8Array.from(Buffer.from(bytes, 'hex')))
    expect(E.isLeft(result) && result.left.code).toBe('CORRUPTION')
  })
})

describe('key ranges', () => {
  test.prop([arbKeyBytes, arbKeyBytes])(
    'a prefix range selects exactly the keys with that prefix',
    (prefix, key) => {
      const candidates = [key, Uint8Array.from([...prefix, ...key]), prefix]
      for (const k of candidates) {
        for (const s of [0, 1, MAX_SEQUENCE]) {
          expect(inRange(entryPrefixRange(prefix))(encodeEntryKey(k, s))).toBe(
            startsWith(k, prefix),
          )
        }
      }
    },
  )

  test.prop([arbKeyBytes, arbKeyBytes, arbSequence, arbSequence, arbSequence])(
    'an entry range selects exactly one key with from <= sequence < to',
    (key, other, from, to, s) => {
      const bounded = inRange(entryRange(key, from, to))
      expect(bounded(encodeEntryKey(key, s))).toBe(s >= from && s < to)
      const sameKey = compareBytes(key, other) === 0
      expect(bounded(encodeEntryKey(other, s))).toBe(sameKey && s >= from && s < to)
      const open = inRange(entryRange(key, from))
      expect(open(encodeEntryKey(other, s))).toBe(sameKey && s >= from)
    },
  )

  test.prop([arbKeyBytes, arbSequence])('record ranges separate record types', (key, s) => {
    expect(inRange(v1RecordRange(V1RecordType.Entry))(encodeEntryKey(key, s))).toBe(true)
    expect(inRange(v1RecordRange(V1RecordType.SeqBlock))(encodeEntryKey(key, s))).toBe(false)
    expect(inRange(v1RecordRange(V1RecordType.SeqBlock))(v1SeqBlockKey)).toBe(true)
    expect(inRange(v1RecordRange(V1RecordType.Entry))(v1SeqBlockKey)).toBe(false)
  })
})
