// Format v2 records: commit records linked by a SHA-256 chain, and run records inline or pointing
// into their commit. The hex examples here are the ones docs/format.md shows.
import { readFileSync } from 'node:fs'
import { fc, test } from '@fast-check/vitest'
import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import {
  chainChecksum,
  decodeCommit,
  decodeCommitKey,
  encodeCommit,
  encodeCommitKey,
  GENESIS,
  valuesInCommit,
  verifyLink,
  type ChainLink,
  type CommitRun,
} from '../../src/codec/commit.js'
import {
  decodeRunRecord,
  encodeRunKey,
  encodeRunRecord,
  INLINE_MAX_BYTES,
  runRange,
} from '../../src/codec/run.js'
import { arbKeyBytes, arbSequence, right } from '../support/arbitraries.js'

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex')
const bytes = (s: string): Uint8Array => new TextEncoder().encode(s)

const arbRun: fc.Arbitrary<CommitRun> = fc.record({
  key: arbKeyBytes,
  values: fc.array(fc.uint8Array({ maxLength: 40 }), { minLength: 1, maxLength: 8 }),
})
const arbRuns = fc.array(arbRun, { minLength: 1, maxLength: 6 })
const arbLink: fc.Arbitrary<ChainLink> = fc.record({
  end: fc.integer({ min: 0, max: 2 ** 40 }),
  checksum: fc.uint8Array({ minLength: 32, maxLength: 32 }),
})
// docs/format.md without white space, so that examples may be split over lines and columns.
const doc = readFileSync(new URL('../../docs/format.md', import.meta.url), 'utf8').replace(
  /\s+/g,
  '',
)

const countOf = (runs: ReadonlyArray<CommitRun>): number =>
  runs.reduce((n, r) => n + r.values.length, 0)

/** A commit following `previous`, starting at its end or some numbers past it. */
const arbCommit = fc
  .tuple(arbLink, fc.integer({ min: 0, max: 5000 }), arbRuns)
  .map(([previous, gap, runs]) => ({ previous, first: previous.end + gap, runs }))

describe('commit records', () => {
  test.prop([arbCommit])('round trip: runs, first sequence, previous end, checksum', (c) => {
    const encoded = encodeCommit(c.previous, c.first, c.runs)
    const decoded = right(decodeCommit(encoded.key, encoded.value))
    expect(decoded.firstSequence).toBe(c.first)
    expect(decoded.prevEnd).toBe(c.previous.end)
    expect(decoded.end).toBe(c.first + countOf(c.runs))
    expect(encoded.link.end).toBe(decoded.end)
    expect(decoded.places).toEqual(encoded.places)
    expect(hex(decoded.checksum)).toBe(hex(encoded.link.checksum))
    expect(decoded.runs.map((r) => ({ key: hex(r.key), values: r.values.map(hex) }))).toEqual(
      c.runs.map((r) => ({ key: hex(r.key), values: r.values.map(hex) })),
    )
  })

  test.prop([arbCommit])('continues the chain at the link it was encoded after', (c) => {
    const encoded = encodeCommit(c.previous, c.first, c.runs)
    expect(verifyLink(c.previous, encoded.key, encoded.value)).toBe(true)
    expect(hex(encoded.link.checksum)).toBe(
      hex(chainChecksum(c.previous.checksum, encoded.key, encoded.value)),
    )
  })

  test.prop([arbCommit, fc.nat(), fc.integer({ min: 1, max: 255 })])(
    'any changed byte of the record breaks the link',
    (c, at, flip) => {
      const encoded = encodeCommit(c.previous, c.first, c.runs)
      const whole = new Uint8Array([...encoded.key, ...encoded.value])
      const i = at % whole.length
      whole[i] = (whole[i] ?? 0) ^ flip
      const key = whole.subarray(0, encoded.key.length)
      const value = whole.subarray(encoded.key.length)
      expect(verifyLink(c.previous, key, value)).toBe(false)
    },
  )

  test.prop([arbCommit, arbLink])('does not continue any other link', (c, other) => {
    fc.pre(other.end !== c.previous.end || hex(other.checksum) !== hex(c.previous.checksum))
    const encoded = encodeCommit(c.previous, c.first, c.runs)
    expect(verifyLink(other, encoded.key, encoded.value)).toBe(false)
  })

  test.prop([arbCommit, fc.nat()])('a record cut short is never read as a commit', (c, cut) => {
    const encoded = encodeCommit(c.previous, c.first, c.runs)
    const short = encoded.value.subarray(0, cut % encoded.value.length)
    const decoded = decodeCommit(encoded.key, short)
    // Cut at a run boundary, a record still decodes, but it no longer continues the chain.
    if (E.isRight(decoded)) expect(verifyLink(c.previous, encoded.key, short)).toBe(false)
  })

  test.prop([arbSequence])('keys round trip and sort like their sequences', (s) => {
    expect(decodeCommitKey(encodeCommitKey(s))).toEqual(E.right(s))
    if (s > 0) {
      expect(Buffer.compare(encodeCommitKey(s - 1), encodeCommitKey(s))).toBe(-1)
    }
  })

  it('refuses a previous end past the commit’s start, and a commit with no entries', () => {
    const encoded = encodeCommit({ end: 7, checksum: GENESIS.checksum }, 7, [
      { key: bytes('a'), values: [bytes('x')] },
    ])
    const early = encodeCommitKey(6)
    expect(E.isLeft(decodeCommit(early, encoded.value))).toBe(true)
    expect(E.isLeft(decodeCommit(encoded.key, encoded.value.subarray(0, 40)))).toBe(true)
  })

  it('refuses a run with a count of 0, which encodeCommit never writes', () => {
    const encoded = encodeCommit(GENESIS, 0, [{ key: bytes('a'), values: [bytes('x')] }])
    const header = encoded.value.subarray(0, 40)
    // An empty run of "b" before the run of "a", and a commit of nothing but an empty run.
    const emptyFirst = Uint8Array.of(...header, 0x01, 0x62, 0x00, ...encoded.value.subarray(40))
    const onlyEmpty = Uint8Array.of(...header, 0x01, 0x62, 0x00)
    for (const value of [emptyFirst, onlyEmpty]) {
      expect(decodeCommit(encoded.key, value)).toEqual(
        E.left(expect.objectContaining({ code: 'CORRUPTION', message: 'commit 0: bad run' })),
      )
    }
  })
})

describe('run records', () => {
  test.prop([arbCommit])('point into their commit, or hold small runs inline', (c) => {
    const encoded = encodeCommit(c.previous, c.first, c.runs)
    let sequence = c.first
    c.runs.forEach((run, i) => {
      const place = encoded.places[i]
      if (place === undefined) throw new Error('no place')
      const record = encodeRunRecord(run, sequence, c.first, place)
      const decoded = right(decodeRunRecord(record.key, record.value))
      expect(hex(decoded.key)).toBe(hex(run.key))
      expect(decoded.firstSequence).toBe(sequence)
      const values =
        decoded.form === 'inline'
          ? decoded.values
          : right(valuesInCommit(encoded.value, decoded.place, decoded.count))
      expect(decoded.form).toBe(place.length <= INLINE_MAX_BYTES ? 'inline' : 'inCommit')
      expect(values.map(hex)).toEqual(run.values.map(hex))
      sequence += run.values.length
    })
  })

  it('keeps a run over INLINE_MAX_BYTES in its commit, and finds it there', () => {
    const run = { key: bytes('big'), values: [new Uint8Array(600), new Uint8Array(600)] }
    const encoded = encodeCommit(GENESIS, 10, [{ key: bytes('a'), values: [bytes('x')] }, run])
    const record = encodeRunRecord(run, 11, 10, encoded.places[1] ?? { offset: 0, length: 0 })
    const decoded = right(decodeRunRecord(record.key, record.value))
    expect(decoded.form).toBe('inCommit')
    if (decoded.form !== 'inCommit') return
    expect(decoded.commitFirstSequence).toBe(10)
    expect(hex(record.value)).toBe('02' + '02' + '01' + '32' + 'b409')
    expect(doc).toContain(hex(record.key) + '`→`' + hex(record.value))
    expect(right(valuesInCommit(encoded.value, decoded.place, 2)).map((v) => v.length)).toEqual([
      600, 600,
    ])
    // A pointer past the record, or a count that does not fill the place, is CORRUPTION.
    expect(E.isLeft(valuesInCommit(encoded.value.subarray(0, 100), decoded.place, 2))).toBe(true)
    expect(E.isLeft(valuesInCommit(encoded.value, decoded.place, 1))).toBe(true)
  })

  it('keeps a run of exactly INLINE_MAX_BYTES inline, and one of a byte more in its commit', () => {
    // A value of n bytes takes n + 2 with its length (a two-byte varint from 128 on).
    const forms = [INLINE_MAX_BYTES - 2, INLINE_MAX_BYTES - 1].map((n) => {
      const run = { key: bytes('r'), values: [new Uint8Array(n).fill(7)] }
      const encoded = encodeCommit(GENESIS, 0, [run])
      expect(encoded.places[0]?.length).toBe(n + 2)
      const record = encodeRunRecord(run, 0, 0, encoded.places[0] ?? { offset: 0, length: 0 })
      return right(decodeRunRecord(record.key, record.value)).form
    })
    expect(forms).toEqual(['inline', 'inCommit'])
  })

  it('refuses bytes after a pointer into the commit, and a pointer into its 40-byte header', () => {
    const run = { key: bytes('big'), values: [new Uint8Array(600), new Uint8Array(600)] }
    const encoded = encodeCommit(GENESIS, 10, [{ key: bytes('a'), values: [bytes('x')] }, run])
    const record = encodeRunRecord(run, 11, 10, encoded.places[1] ?? { offset: 0, length: 0 })
    expect(decodeRunRecord(record.key, Uint8Array.of(...record.value, 0x00))).toEqual(
      E.left(
        expect.objectContaining({
          code: 'CORRUPTION',
          message: 'run 11: bad pointer into its commit',
        }),
      ),
    )
    // Offset 0 is the previous end's first byte, 0: read as a value it would be an empty one.
    expect(valuesInCommit(encoded.value, { offset: 0, length: 1 }, 1)).toEqual(
      E.left(
        expect.objectContaining({
          code: 'CORRUPTION',
          message: 'run points outside the values of its commit',
        }),
      ),
    )
  })

  test.prop([arbKeyBytes, arbKeyBytes, arbSequence, arbSequence])(
    'keys sort by user key, then sequence, and stay in their key’s range',
    (a, b, s, t) => {
      const order = Buffer.compare(encodeRunKey(a, s), encodeRunKey(b, t))
      const keys = Buffer.compare(Buffer.from(a), Buffer.from(b))
      expect(order).toBe(keys !== 0 ? keys : Math.sign(s - t))
      const range = runRange(a)
      const k = encodeRunKey(a, s)
      expect(Buffer.compare(range.gte, k) <= 0 && Buffer.compare(k, range.lt) < 0).toBe(true)
      if (keys !== 0) {
        const other = encodeRunKey(b, t)
        expect(Buffer.compare(range.gte, other) <= 0 && Buffer.compare(other, range.lt) < 0).toBe(
          false,
        )
      }
    },
  )

  it('refuses an unknown form, a zero count and bytes after the values', () => {
    const record = encodeRunRecord({ key: bytes('a'), values: [bytes('x')] }, 0, 0, {
      offset: 0,
      length: 2,
    })
    expect(E.isLeft(decodeRunRecord(record.key, Uint8Array.of(0x03, 0x01)))).toBe(true)
    expect(E.isLeft(decodeRunRecord(record.key, Uint8Array.of(0x01, 0x00)))).toBe(true)
    expect(E.isLeft(decodeRunRecord(record.key, Uint8Array.of(...record.value, 0x00)))).toBe(true)
    expect(E.isRight(decodeRunRecord(record.key, record.value))).toBe(true)
  })
})

describe('the examples in docs/format.md', () => {
  // The first commit of a log: key "ab" gets "x" and "yz" at 0 and 1, key "c" gets "" at 2.
  const first = encodeCommit(GENESIS, 0, [
    { key: bytes('ab'), values: [bytes('x'), bytes('yz')] },
    { key: bytes('c'), values: [bytes('')] },
  ])

  it('shows the first commit record byte by byte', () => {
    expect(hex(first.key)).toBe('02030000000000000000')
    expect(doc).toContain(hex(first.key))
    expect(doc).toContain(hex(first.value))
    expect(hex(first.value.subarray(40))).toBe('02616202017802797a' + '01630100')
  })

  it('shows the run records of that commit, inline', () => {
    const ab = encodeRunRecord(
      { key: bytes('ab'), values: [bytes('x'), bytes('yz')] },
      0,
      0,
      first.places[0] ?? { offset: 0, length: 0 },
    )
    expect(hex(ab.key)).toBe('0202616200' + '0000000000000000')
    expect(hex(ab.value)).toBe('01' + '02' + '0178' + '02797a')
    expect(doc).toContain(hex(ab.key))
    expect(doc).toContain(hex(ab.value))
  })

  it('shows the chain: the next commit names the first one’s end and checksum', () => {
    const next = encodeCommit(first.link, 3, [{ key: bytes('c'), values: [bytes('w')] }])
    expect(hex(next.value.subarray(0, 8))).toBe('0000000000000003')
    expect(verifyLink(first.link, next.key, next.value)).toBe(true)
    expect(doc).toContain(hex(first.link.checksum))
    expect(doc).toContain(hex(next.value))
  })
})
