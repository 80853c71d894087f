import { fc, test } from '@fast-check/vitest'
import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import {
  decodeCommitIndexKey,
  decodeRuns,
  encodeCommitIndexKey,
  encodeRuns,
  entryCount,
  toRuns,
} from '../../../src/format/v1/commitIndex.js'
import { arbKeyBytes, arbSequence } from '../../support/arbitraries.js'

const arbRuns = fc.array(
  fc.record({
    key: arbKeyBytes,
    count: fc.oneof(fc.integer({ min: 1, max: 300 }), fc.integer({ min: 1, max: 2 ** 40 })),
  }),
  { maxLength: 20 },
)

describe('commit index', () => {
  it('encodes runs as varint length, key, varint count', () => {
    const bytes = encodeRuns([
      { key: Uint8Array.of(0x61), count: 3 },
      { key: Uint8Array.of(), count: 300 },
    ])
    expect(Buffer.from(bytes).toString('hex')).toBe('01' + '61' + '03' + '00' + 'ac02')
  })

  test.prop([arbRuns])('round trip of runs', (runs) => {
    expect(decodeRuns(encodeRuns(runs))).toEqual(E.right(runs))
  })

  test.prop([arbSequence])('round trip of keys, ordered like sequences', (s) => {
    expect(decodeCommitIndexKey(encodeCommitIndexKey(s))).toEqual(E.right(s))
  })

  test.prop([fc.array(fc.constantFrom('a', 'b', 'c'), { maxLength: 30 })])(
    'toRuns collapses neighbours and keeps order and count',
    (names) => {
      const keys = names.map((n) => new TextEncoder().encode(n))
      const runs = toRuns(keys)
      expect(runs.flatMap((r) => Array.from({ length: r.count }, () => r.key))).toEqual(keys)
      expect(entryCount({ firstSequence: 0, runs })).toBe(keys.length)
      runs.slice(1).forEach((r, i) => expect(r.key).not.toEqual(runs[i]?.key))
    },
  )

  test.prop([fc.uint8Array({ maxLength: 16 })])(
    'any bytes decode to runs or CORRUPTION, never a throw',
    (bytes) => {
      const result = decodeRuns(bytes)
      if (E.isRight(result)) expect(encodeRuns(result.right)).toEqual(bytes)
      else expect(result.left.code).toBe('CORRUPTION')
    },
  )

  it('refuses a run with a count of 0, which encodeRuns never writes', () => {
    // "a" × 0, then "b" × 1: well-formed varints, but no commit holds an empty run.
    expect(decodeRuns(Uint8Array.of(0x01, 0x61, 0x00, 0x01, 0x62, 0x01))).toEqual(
      E.left(
        expect.objectContaining({ code: 'CORRUPTION', message: 'commit index: bad run count' }),
      ),
    )
  })

  it('rejects keys of other record types', () => {
    expect(E.isLeft(decodeCommitIndexKey(Uint8Array.of(1, 2, 0, 0, 0, 0, 0, 0, 0, 0)))).toBe(true)
  })
})
