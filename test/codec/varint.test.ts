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
})
