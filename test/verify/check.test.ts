import * as O from 'fp-ts/lib/Option.js'
import { describe, expect, it } from 'vitest'
import { encodeCommitIndexKey, encodeRuns } from '../../src/codec/commitIndex.js'
import {
  encodeEntryKey,
  keyBytes,
  metaKey,
  seqBlockKey,
  truncatedBeforeKey,
} from '../../src/codec/keys.js'
import { printable } from '../../src/codec/printable.js'
import { writeU64 } from '../../src/codec/u64.js'
import { encodeSeqBlock } from '../../src/sequence/seqBlock.js'
import type { KeyValue } from '../../src/storage/port.js'
import { compareBytes } from '../../src/storage/range.js'
import {
  MAX_LISTED_VIOLATIONS,
  checkLookups,
  checkPair,
  finishCheck,
  startCheck,
  type VerifyReport,
} from '../../src/verify/check.js'

const block = (base: number, size: number): Uint8Array =>
  encodeSeqBlock({ baseSequence: base, blockSize: size })
const u64 = (n: number): Uint8Array => {
  const b = new Uint8Array(8)
  writeU64(b, 0, n)
  return b
}
const entry = (key: string, sequence: number, value = 'v'): KeyValue => ({
  key: encodeEntryKey(keyBytes(key), sequence),
  value: keyBytes(value),
})
const index = (first: number, ...runs: ReadonlyArray<[string, number]>): KeyValue => ({
  key: encodeCommitIndexKey(first),
  value: encodeRuns(runs.map(([key, count]) => ({ key: keyBytes(key), count }))),
})

/**
 * Runs the fold over a store given as pairs, in key order as storage iterates them, answering
 * lookups from the same pairs.
 */
const verify = (pairs: ReadonlyArray<KeyValue>): VerifyReport => {
  const sorted = [...pairs].sort((a, b) => compareBytes(a.key, b.key))
  const has = new Set(sorted.map((p) => Buffer.from(p.key).toString('hex')))
  const get = (key: Uint8Array) =>
    O.fromNullable(sorted.find((p) => compareBytes(p.key, key) === 0)?.value)
  let state = startCheck(get(seqBlockKey), get(truncatedBeforeKey))
  for (const pair of sorted) {
    const checked = checkPair(state, pair)
    state = checkLookups(
      checked.state,
      checked.lookups,
      checked.lookups.map((l) =>
        has.has(Buffer.from(encodeEntryKey(l.key, l.sequence)).toString('hex')),
      ),
    )
  }
  return finishCheck(state)
}

const healthy: ReadonlyArray<KeyValue> = [
  { key: seqBlockKey, value: block(0, 8) },
  entry('a', 0),
  entry('b', 1),
  entry('a', 2),
  index(0, ['a', 1], ['b', 1]),
  index(2, ['a', 1]),
]

describe('verify checks', () => {
  it('accepts a log the engine wrote and counts it', () => {
    const report = verify(healthy)
    expect(report.violations).toEqual([])
    expect(report).toMatchObject({ entries: 3, keys: 2, indexRecords: 2, violationCount: 0 })
    expect(report.seqBlock).toEqual(O.some({ baseSequence: 0, blockSize: 8 }))
  })

  it('accepts an empty store', () => {
    expect(verify([]).violationCount).toBe(0)
  })

  it('catches an entry written past the SeqBlock, which no index record names', () => {
    const report = verify([...healthy, entry('a', 9)])
    expect(report.violations).toEqual([
      'entry 9 of key "a" lies at or above the SeqBlock\'s nextBase 8',
      '1 of 4 entries are named by no commit index record',
    ])
  })

  it('catches entries without any SeqBlock', () => {
    const report = verify(healthy.slice(1))
    expect(report.violationCount).toBe(5)
    expect(report.violations[0]).toBe(
      'entry 0 of key "a" lies at or above the SeqBlock\'s nextBase 0',
    )
  })

  it('catches an index record naming a missing entry, and one past nextBase', () => {
    const report = verify([...healthy, index(7, ['c', 2])])
    expect(report.violations).toEqual([
      "the commit index record at 7 names sequences up to 8, at or above the SeqBlock's nextBase 8",
      'the commit index record at 7 names entry 7 of key "c", which is missing',
      'the commit index record at 7 names entry 8 of key "c", which is missing',
    ])
  })

  it('catches two keys sharing a sequence through overlapping index records', () => {
    const report = verify([...healthy, entry('c', 1), index(1, ['c', 1])])
    expect(report.violations).toEqual([
      'the commit index record at 1 overlaps the one before, which ends at 1',
    ])
  })

  it('catches two keys sharing a sequence that only one index record names', () => {
    const report = verify([...healthy, entry('c', 1)])
    expect(report.violations).toEqual(['1 of 4 entries are named by no commit index record'])
  })

  it('catches keys that do not decode and records deltalog never writes', () => {
    const report = verify([
      ...healthy,
      { key: Uint8Array.of(0x01, 0x02, 0x61), value: new Uint8Array() },
      { key: Uint8Array.of(0x02, 0x01), value: new Uint8Array() },
      { key: metaKey('other'), value: new Uint8Array() },
    ])
    expect(report.violations).toEqual([
      'key 010261 does not decode: entry key has no terminator',
      'key 0104' + Buffer.from('other').toString('hex') + ' is no record deltalog writes',
      'key 0201 is no record deltalog writes',
    ])
  })

  it('catches a SeqBlock or watermark that does not decode', () => {
    const report = verify([
      { key: seqBlockKey, value: Uint8Array.of(1, 2, 3) },
      { key: truncatedBeforeKey, value: Uint8Array.of(1) },
    ])
    expect(report.violations).toEqual([
      'the SeqBlock does not decode: SeqBlock must be 16 bytes, got 3',
      'the truncation watermark is not a u64 in the safe range',
    ])
  })

  it('respects the truncation watermark: entries below it may be gone or linger', () => {
    const report = verify([
      { key: seqBlockKey, value: block(0, 8) },
      { key: truncatedBeforeKey, value: u64(2) },
      entry('a', 1),
      entry('a', 2),
      entry('a', 3),
      index(0, ['b', 1], ['a', 2]),
      index(3, ['a', 1]),
    ])
    expect(report.violations).toEqual([])
    expect(report).toMatchObject({ entries: 2, hiddenEntries: 1, truncatedBefore: 2 })
  })

  it('lists at most MAX_LISTED_VIOLATIONS and counts them all', () => {
    const many = Array.from({ length: 60 }, (_, i) => entry('z', 100 + i))
    const report = verify([...healthy, ...many])
    expect(report.violations).toHaveLength(MAX_LISTED_VIOLATIONS)
    expect(report.violationCount).toBe(61)
  })
})

describe('printable', () => {
  it('shows UTF-8 as itself and escapes control characters, backslashes and invalid bytes', () => {
    expect(printable(keyBytes('héllo'))).toBe('héllo')
    expect(printable(keyBytes('a\nb\\c\u0001'))).toBe('a\\nb\\\\c\\x01')
    expect(printable(Uint8Array.of(0x61, 0xff, 0x00))).toBe('a\\xff\\x00')
  })
})
