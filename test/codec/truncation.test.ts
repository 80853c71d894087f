// The truncation record's codec (src/codec/truncation.ts): its layout, its round trip, and
// CORRUPTION for any bytes it cannot have written.
import { fc, test } from '@fast-check/vitest'
import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import { CHECKSUM_BYTES, GENESIS } from '../../src/codec/commit.js'
import { keyBytes } from '../../src/codec/keys.js'
import {
  decodeTruncation,
  encodeTruncation,
  NO_TRUNCATION,
  truncationKey,
  type Truncation,
} from '../../src/codec/truncation.js'
import { MAX_SEQUENCE } from '../../src/sequence/seqBlock.js'

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex')

const arbTruncation: fc.Arbitrary<Truncation> = fc
  .tuple(
    fc.nat({ max: MAX_SEQUENCE }),
    fc.nat({ max: MAX_SEQUENCE }),
    fc.uint8Array({ minLength: CHECKSUM_BYTES, maxLength: CHECKSUM_BYTES }),
  )
  .map(([a, b, checksum]) => ({
    before: Math.max(a, b),
    anchor: { end: Math.min(a, b), checksum },
  }))

describe('truncation record', () => {
  it('is the metadata record "truncation": before, anchor end, anchor checksum', () => {
    expect(hex(truncationKey)).toBe('0204' + hex(keyBytes('truncation')))
    const bytes = encodeTruncation({
      before: 12,
      anchor: { end: 10, checksum: new Uint8Array(32).fill(0xab) },
    })
    expect(hex(bytes)).toBe('000000000000000c' + '000000000000000a' + 'ab'.repeat(32))
    expect(decodeTruncation(encodeTruncation(NO_TRUNCATION))).toEqual(
      E.right({ before: 0, anchor: GENESIS }),
    )
  })

  test.prop([arbTruncation])('round trip', (t) => {
    expect(decodeTruncation(encodeTruncation(t))).toEqual(E.right(t))
  })

  test.prop([fc.uint8Array({ maxLength: 60 })])(
    'any bytes decode to a truncation it encodes back to, or CORRUPTION, never a throw',
    (bytes) => {
      const decoded = decodeTruncation(bytes)
      if (E.isRight(decoded)) expect(encodeTruncation(decoded.right)).toEqual(bytes)
      else expect(decoded.left.code).toBe('CORRUPTION')
    },
  )

  it('decodes an anchor exactly at its cut: a cut at a commit boundary', () => {
    const t = { before: 6, anchor: { end: 6, checksum: new Uint8Array(32).fill(1) } }
    expect(decodeTruncation(encodeTruncation(t))).toEqual(E.right(t))
  })

  it('refuses an anchor past its cut', () => {
    const bytes = encodeTruncation({ before: 5, anchor: { end: 6, checksum: new Uint8Array(32) } })
    expect(decodeTruncation(bytes)).toEqual(
      E.left(
        expect.objectContaining({
          code: 'CORRUPTION',
          message: 'the truncation anchor is past its cut',
        }),
      ),
    )
  })
})
