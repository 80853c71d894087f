import { fc, test } from '@fast-check/vitest'
import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import {
  FORMAT_VERSION,
  RecordType,
  decodeEntryKey,
  encodeEntryKey,
  encodeEntryKeys,
  entryPrefixRange,
  entryRange,
  keyBytes,
  prefixSuccessor,
  recordRange,
  seqBlockKey,
  type KeyRange,
} from '../../src/codec/keys.js'
import { readU64, writeU64 } from '../../src/codec/u64.js'
import { MAX_SEQUENCE } from '../../src/sequence/seqBlock.js'
import { arbKeyBytes, arbSequence } from '../arbitraries.js'
import * as O from 'fp-ts/lib/Option.js'

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex')
const compareBytes = (a: Uint8Array, b: Uint8Array): number => Math.sign(Buffer.compare(a, b))
const compareNumbers = (a: number, b: number): number => Math.sign(a - b)
const inRange = (r: KeyRange) => (k: Uint8Array) =>
  compareBytes(k, r.gte) >= 0 && compareBytes(k, r.lt) < 0
const startsWith = (key: Uint8Array, prefix: Uint8Array): boolean =>
  prefix.every((b, i) => key[i] === b)

describe('u64', () => {
  test.prop([arbSequence])('round trip and BigInt agreement', (n) => {
    const bytes = new Uint8Array(8)
    writeU64(bytes, 0, n)
    expect(readU64(bytes, 0)).toEqual(O.some(n))
    expect(new DataView(bytes.buffer).getBigUint64(0)).toBe(BigInt(n))
  })

  it('reads values past 2^53 − 1 as none', () => {
    expect(readU64(Uint8Array.from(Buffer.from('0020000000000000', 'hex')), 0)).toEqual(O.none)
    expect(readU64(Uint8Array.from(Buffer.from('001fffffffffffff', 'hex')), 0)).toEqual(
      O.some(MAX_SEQUENCE),
    )
  })
})

describe('entry keys', () => {
  it('lays out version, type, escaped key, terminator and big-endian sequence', () => {
    expect(hex(encodeEntryKey(keyBytes('ab'), 1))).toBe('0102' + '6162' + '00' + '0000000000000001')
    expect(hex(encodeEntryKey(Uint8Array.of(0x00, 0x01, 0x02, 0xff), 258))).toBe(
      '0102' + '0101' + '0102' + '02' + 'ff' + '00' + '0000000000000102',
    )
    expect(hex(encodeEntryKey(new Uint8Array(0), 0))).toBe('0102' + '00' + '0000000000000000')
  })

  it('uses distinct record types under one version byte', () => {
    expect(hex(seqBlockKey)).toBe('0101')
    const types = Object.values(RecordType)
    expect(new Set(types).size).toBe(types.length)
    expect(encodeEntryKey(keyBytes('x'), 0)[0]).toBe(FORMAT_VERSION)
  })

  it('treats a string key as its UTF-8 bytes', () => {
    expect(hex(keyBytes('é'))).toBe('c3a9')
    // The last ASCII character, the first that is not, and one after ASCII ones.
    expect(hex(keyBytes('\u007f'))).toBe('7f')
    expect(hex(keyBytes('\u0080'))).toBe('c280')
    expect(hex(keyBytes('ab\u0080'))).toBe('6162c280')
    const bytes = Uint8Array.of(1, 2)
    expect(keyBytes(bytes)).toBe(bytes)
  })

  test.prop([
    fc.oneof(
      fc.string({ unit: 'grapheme', maxLength: 40 }),
      fc.string({ unit: 'binary', maxLength: 40 }).filter((s) => s.isWellFormed()),
      // Either side of the longest string tried as ASCII, with one non-ASCII character or none.
      fc
        .tuple(fc.integer({ min: 4090, max: 4100 }), fc.constantFrom('', 'é'))
        .map(([n, tail]) => 'k'.repeat(n - tail.length) + tail),
    ),
  ])('encodes every well-formed string as TextEncoder does', (s) => {
    expect(keyBytes(s)).toEqual(new TextEncoder().encode(s))
  })

  test.prop([arbKeyBytes, arbSequence])('round trip', (key, sequence) => {
    expect(decodeEntryKey(encodeEntryKey(key, sequence))).toEqual(E.right({ key, sequence }))
  })

  // Keys drawn from a small pool, so that one key object often repeats from entry to entry.
  test.prop([
    fc.array(arbKeyBytes, { minLength: 1, maxLength: 4 }).chain((pool) =>
      fc.array(fc.record({ key: fc.constantFrom(...pool), sequence: arbSequence }), {
        maxLength: 20,
      }),
    ),
  ])('many keys at once: the bytes of encoding each alone', (entries) => {
    expect(encodeEntryKeys(entries).map(hex)).toEqual(
      entries.map((e) => hex(encodeEntryKey(e.key, e.sequence))),
    )
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
    expect(inRange(recordRange(RecordType.Entry))(encodeEntryKey(key, s))).toBe(true)
    expect(inRange(recordRange(RecordType.SeqBlock))(encodeEntryKey(key, s))).toBe(false)
    expect(inRange(recordRange(RecordType.SeqBlock))(seqBlockKey)).toBe(true)
    expect(inRange(recordRange(RecordType.Entry))(seqBlockKey)).toBe(false)
  })

  test.prop([
    fc.uint8Array({ minLength: 1, maxLength: 8 }).filter((b) => b[0] !== 0xff),
    fc.uint8Array({ maxLength: 8 }),
  ])('prefixSuccessor is above every extension of the prefix', (prefix, tail) => {
    const successor = prefixSuccessor(prefix)
    expect(compareBytes(Uint8Array.from([...prefix, ...tail]), successor)).toBe(-1)
    expect(compareBytes(prefix, successor)).toBe(-1)
  })
})
