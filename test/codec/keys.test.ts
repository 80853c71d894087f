// The key pieces both formats share (src/codec/keys.ts) and format 2's key space
// (src/codec/records.ts). Format 1's entry keys are tested in test/format/v1/keys.test.ts, format
// 2's run and commit keys in test/codec/commit.test.ts.
import { fc, test } from '@fast-check/vitest'
import * as O from 'fp-ts/lib/Option.js'
import { describe, expect, it } from 'vitest'
import { keyBytes, metaKeyOf, prefixSuccessor } from '../../src/codec/keys.js'
import {
  FORMAT_VERSION,
  formatKey,
  metaKey,
  RecordType,
  seqBlockKey,
} from '../../src/codec/records.js'
import { readU64, writeU64 } from '../../src/codec/u64.js'
import { MAX_SEQUENCE } from '../../src/sequence/seqBlock.js'
import { arbSequence } from '../support/arbitraries.js'

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex')
const compareBytes = (a: Uint8Array, b: Uint8Array): number => Math.sign(Buffer.compare(a, b))

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

describe('user keys', () => {
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
})

describe('format 2 keys', () => {
  it('start with the format 2 version byte and distinct record types', () => {
    expect(FORMAT_VERSION).toBe(0x02)
    const types = Object.values(RecordType)
    expect(new Set(types).size).toBe(types.length)
    expect(hex(seqBlockKey)).toBe('0201')
  })

  it('name metadata records by version, type 0x04 and the UTF-8 name', () => {
    expect(hex(metaKeyOf(0x01, 'truncatedBefore'))).toBe('0104' + hex(keyBytes('truncatedBefore')))
    expect(hex(metaKey('format'))).toBe('0204' + hex(keyBytes('format')))
    expect(formatKey).toEqual(metaKey('format'))
    expect(metaKey('x')[1]).toBe(RecordType.Meta)
  })
})

describe('key ranges', () => {
  test.prop([
    fc.uint8Array({ minLength: 1, maxLength: 8 }).filter((b) => b[0] !== 0xff),
    fc.uint8Array({ maxLength: 8 }),
  ])('prefixSuccessor is above every extension of the prefix', (prefix, tail) => {
    const successor = prefixSuccessor(prefix)
    expect(compareBytes(Uint8Array.from([...prefix, ...tail]), successor)).toBe(-1)
    expect(compareBytes(prefix, successor)).toBe(-1)
  })
})
