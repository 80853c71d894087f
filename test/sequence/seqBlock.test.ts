import { fc, test } from '@fast-check/vitest'
import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import {
  MAX_SEQUENCE,
  contains,
  decodeSeqBlock,
  encodeSeqBlock,
  nextBase,
  seqBlock,
} from '../../src/sequence/seqBlock.js'
import { arbSeqBlock, right } from '../support/arbitraries.js'

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex')
const fromHex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, 'hex'))

describe('SeqBlock', () => {
  it('reserves [base, base + size) and ends at nextBase', () => {
    const block = right(seqBlock(10, 5))
    expect(nextBase(block)).toBe(15)
    expect(contains(10)(block)).toBe(true)
    expect(contains(14)(block)).toBe(true)
    expect(contains(15)(block)).toBe(false)
    expect(contains(9)(block)).toBe(false)
  })

  it.each([
    [{ baseSequence: 0, blockSize: 4096 }, '0000000000000000' + '0000000000001000'],
    [{ baseSequence: 4096, blockSize: 8192 }, '0000000000001000' + '0000000000002000'],
    // base near 2^53: 2^53 − 4097, with the block ending exactly at MAX_SAFE_INTEGER − 1
    [{ baseSequence: 9007199254736895, blockSize: 4096 }, '001fffffffffefff' + '0000000000001000'],
    [{ baseSequence: 0, blockSize: MAX_SEQUENCE }, '0000000000000000' + '001fffffffffffff'],
  ])('encodes %j as the reference bytes', (block, expected) => {
    expect(hex(encodeSeqBlock(block))).toBe(expected)
    expect(decodeSeqBlock(fromHex(expected))).toEqual(E.right(block))
  })

  it('decodes from a view into a larger buffer', () => {
    const backing = fromHex('ff' + '0000000000000007' + '0000000000000003' + 'ff')
    expect(decodeSeqBlock(backing.subarray(1, 17))).toEqual(
      E.right({ baseSequence: 7, blockSize: 3 }),
    )
  })

  it.each([0, 1, 15, 17, 32])('a value of %i bytes is CORRUPTION, not a throw', (n) => {
    const result = decodeSeqBlock(new Uint8Array(n))
    expect(E.isLeft(result) && result.left.code).toBe('CORRUPTION')
  })

  it('a zero-size block is CORRUPTION', () => {
    const result = decodeSeqBlock(fromHex('0000000000000005' + '0000000000000000'))
    expect(E.isLeft(result) && result.left.code).toBe('CORRUPTION')
  })

  it.each([
    ['base above 2^53 − 1', '0020000000000000' + '0000000000000001'],
    ['size above 2^53 − 1', '0000000000000000' + '0020000000000000'],
    ['base + size past 2^53 − 1', '001ffffffffffff0' + '0000000000000010'],
    ['all ones', 'ffffffffffffffff' + 'ffffffffffffffff'],
  ])('%s decodes to SEQUENCE_OVERFLOW', (_name, bytes) => {
    const result = decodeSeqBlock(fromHex(bytes))
    expect(E.isLeft(result) && result.left.code).toBe('SEQUENCE_OVERFLOW')
  })

  it.each([
    [-1, 1],
    [1.5, 1],
    [0, 0],
    [0, -3],
    [MAX_SEQUENCE, 1],
    [Number.NaN, 1],
  ])('seqBlock(%d, %d) is refused', (base, size) => {
    expect(E.isLeft(seqBlock(base, size))).toBe(true)
  })

  test.prop([arbSeqBlock])('round trip: decode(encode(b)) = b', (block) => {
    const bytes = encodeSeqBlock(block)
    expect(bytes.length).toBe(16)
    expect(decodeSeqBlock(bytes)).toEqual(E.right(block))
  })

  test.prop([arbSeqBlock, arbSeqBlock])('encoding agrees with BigInt big-endian', (a, b) => {
    const view = new DataView(encodeSeqBlock(a).buffer)
    expect(view.getBigUint64(0)).toBe(BigInt(a.baseSequence))
    expect(view.getBigUint64(8)).toBe(BigInt(a.blockSize))
    // Byte order of the base field is numeric order.
    const order = Buffer.compare(
      Buffer.from(encodeSeqBlock(a)).subarray(0, 8),
      Buffer.from(encodeSeqBlock(b)).subarray(0, 8),
    )
    expect(order).toBe(Math.sign(a.baseSequence - b.baseSequence))
  })

  test.prop([fc.uint8Array({ minLength: 16, maxLength: 16 })])(
    'any 16 bytes decode to a block or a typed error, never a throw',
    (bytes) => {
      const result = decodeSeqBlock(bytes)
      if (E.isRight(result)) expect(encodeSeqBlock(result.right)).toEqual(bytes)
      else expect(['CORRUPTION', 'SEQUENCE_OVERFLOW']).toContain(result.left.code)
    },
  )
})
