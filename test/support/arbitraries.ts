// Arbitraries and small helpers shared by the property tests.
import fc from 'fast-check'
import * as E from 'fp-ts/lib/Either.js'
import { MAX_SEQUENCE, type SeqBlock } from '../../src/sequence/seqBlock.js'

/** Unwraps a right, failing the test with the error value otherwise. */
export const right = <A>(e: E.Either<unknown, A>): A => {
  if (E.isLeft(e)) throw new Error(`expected right, got ${JSON.stringify(e.left)}`)
  return e.right
}

/** Any valid block: both fields safe, the range ending at or below MAX_SEQUENCE. */
export const arbSeqBlock: fc.Arbitrary<SeqBlock> = fc
  .tuple(fc.integer({ min: 1, max: MAX_SEQUENCE }), fc.nat({ max: MAX_SEQUENCE }))
  .map(([blockSize, b]) => ({ baseSequence: b % (MAX_SEQUENCE - blockSize + 1), blockSize }))

/** User keys biased towards the bytes the key escaping treats specially. */
export const arbKeyBytes: fc.Arbitrary<Uint8Array> = fc
  .array(
    fc.oneof(fc.constantFrom(0x00, 0x01, 0x02, 0xfe, 0xff), fc.integer({ min: 0, max: 255 })),
    {
      maxLength: 12,
    },
  )
  .map((bytes) => Uint8Array.from(bytes))

/** Sequences spread over the whole safe range, small ones and ones near the top included. */
export const arbSequence: fc.Arbitrary<number> = fc.oneof(
  fc.nat({ max: 10_000 }),
  fc.nat({ max: MAX_SEQUENCE }),
  fc.integer({ min: MAX_SEQUENCE - 10_000, max: MAX_SEQUENCE }),
)
