import { fc, test } from '@fast-check/vitest'
import * as O from 'fp-ts/lib/Option.js'
import { describe, expect, it } from 'vitest'
import { readVarint, varintLength, writeVarint } from '../../src/codec/varint.js'

describe('varints', () => {
  test.prop([fc.integer({ min: 0, max: 2 ** 53 - 1 }), fc.nat({ max: 4 })])(
    'round trip at any offset, in varintLength bytes',
    (n, at) => {
      const out = new Uint8Array(at + 10)
      const end = writeVarint(out, at, n)
      expect(end - at).toBe(varintLength(n))
      const read = readVarint(out, at)
      expect(read).toEqual(O.some([n, end]))
    },
  )

  it('spells 0, 127, 128 and 300 as LEB128 does', () => {
    const hex = (n: number): string => {
      const out = new Uint8Array(10)
      return Buffer.from(out.subarray(0, writeVarint(out, 0, n))).toString('hex')
    }
    expect([0, 127, 128, 300].map(hex)).toEqual(['00', '7f', '8001', 'ac02'])
  })

  it('refuses an overlong spelling, a missing last byte, and more than 8 bytes', () => {
    expect(readVarint(Uint8Array.of(0x81, 0x00), 0)).toEqual(O.none)
    expect(readVarint(Uint8Array.of(0x80, 0x80, 0x00), 0)).toEqual(O.none)
    expect(readVarint(Uint8Array.of(0x81), 0)).toEqual(O.none)
    expect(readVarint(Uint8Array.of(...new Array<number>(8).fill(0xff), 0x01), 0)).toEqual(O.none)
    expect(readVarint(Uint8Array.of(0x00), 0)).toEqual(O.some([0, 1]))
  })

  it('refuses 8 bytes whose value is past Number.MAX_SAFE_INTEGER, and reads the largest safe one', () => {
    // 2^53 and 2^56 − 1: eight well-formed bytes that writeVarint never writes.
    expect(readVarint(Uint8Array.of(...new Array<number>(7).fill(0x80), 0x10), 0)).toEqual(O.none)
    expect(readVarint(Uint8Array.of(...new Array<number>(7).fill(0xff), 0x7f), 0)).toEqual(O.none)
    expect(readVarint(Uint8Array.of(...new Array<number>(7).fill(0xff), 0x0f), 0)).toEqual(
      O.some([2 ** 53 - 1, 8]),
    )
  })
})
