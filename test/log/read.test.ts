// Format v2 reads against a model: commits written by toCommitBatch (runs inline and in their
// commit, gaps as appendAt leaves them) read back by global scans, key scans and counts over
// every range, in both directions, with limits and a truncation point — and the chain they
// leave linked from end to end.
import { fc, test } from '@fast-check/vitest'
import * as E from 'fp-ts/lib/Either.js'
import * as O from 'fp-ts/lib/Option.js'
import { describe, expect } from 'vitest'
import { decodeCommit, GENESIS, verifyLink, type ChainLink } from '../../src/codec/commit.js'
import { segmentsOf, toCommitBatch, type Entry } from '../../src/delta/delta.js'
import type { LogEntry, ReadContext, SequenceRange } from '../../src/log/read.js'
import { listKeys } from '../../src/log/keys.js'
import { countEntries, lastLink, scanAll, scanKey } from '../../src/log/read.js'
import { openMemoryStorage } from '../../src/storage/memory.js'
import { iterate, type Storage } from '../../src/storage/port.js'

const KEYS = ['a', 'ab', 'b\u0000'].map((k) => new TextEncoder().encode(k))

/** A commit: records of a few keys, some values long enough to stay in the commit. */
const arbCommit = fc.record({
  gap: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 5 })),
  records: fc.array(
    fc.record({
      // Mostly one key, so that runs are long and ranges start inside them.
      key: fc.constantFrom(0, 0, 0, 1, 2),
      size: fc.oneof(fc.integer({ min: 0, max: 8 }), fc.integer({ min: 300, max: 700 })),
    }),
    { minLength: 1, maxLength: 12 },
  ),
  // Where appendAt would leave a hole inside the commit's sequences.
  holeAt: fc.option(fc.integer({ min: 1, max: 11 }), { nil: undefined }),
})

interface Written {
  readonly storage: Storage
  readonly entries: ReadonlyArray<Entry>
  readonly link: ChainLink
}

type CommitSpec = typeof arbCommit extends fc.Arbitrary<infer A> ? A : never

const write = async (commits: ReadonlyArray<CommitSpec>): Promise<Written> => {
  const storage = await openMemoryStorage()
  const entries: Entry[] = []
  let link = GENESIS
  let next = 0
  for (const c of commits) {
    next += c.gap
    const delta: Entry[] = c.records.map((r, i) => {
      if (c.holeAt === i) next += 2
      const sequence = next++
      const value = new Uint8Array(r.size).fill(sequence % 251)
      return { key: KEYS[r.key] ?? new Uint8Array(), value, sequence }
    })
    const batch = toCommitBatch({ segments: segmentsOf(delta), seqBlock: O.none }, link)
    const written = await storage.write(batch.ops, { sync: false })()
    if (E.isLeft(written)) throw new Error(written.left.message)
    link = batch.link
    entries.push(...delta)
  }
  return { storage, entries, link }
}

const show = (e: LogEntry | Entry): string =>
  `${new TextDecoder().decode(e.key)}@${e.sequence}:${e.value.length}:${e.value[0] ?? '-'}`

const collect = async (source: AsyncIterable<LogEntry>): Promise<string[]> => {
  const out: string[] = []
  for await (const e of source) out.push(show(e))
  return out
}

const arbQuery = fc.record({
  lower: fc.oneof(fc.integer({ min: 0, max: 40 }), fc.integer({ min: 0, max: 120 })),
  length: fc.option(fc.integer({ min: 0, max: 120 }), { nil: undefined }),
  reverse: fc.boolean(),
  limit: fc.option(fc.integer({ min: 0, max: 20 }), { nil: undefined }),
  truncatedBefore: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 60 })),
  key: fc.option(fc.integer({ min: 0, max: KEYS.length - 1 }), { nil: undefined }),
})

describe('format v2 reads', () => {
  test.prop([fc.array(arbCommit, { minLength: 0, maxLength: 12 }), arbQuery], { numRuns: 150 })(
    'scans and counts give what the model holds, for every range, direction and limit',
    async (commits, q) => {
      const { storage, entries } = await write(commits)
      const ctx: ReadContext = {
        storage,
        truncatedBefore: () => q.truncatedBefore,
        isClosed: () => false,
      }
      const range: SequenceRange = {
        lower: q.lower,
        upper: q.length === undefined ? undefined : q.lower + q.length,
      }
      const key = q.key === undefined ? undefined : KEYS[q.key]
      const inRange = entries.filter(
        (e) =>
          e.sequence >= Math.max(range.lower, q.truncatedBefore) &&
          (range.upper === undefined || e.sequence < range.upper) &&
          (key === undefined || e.key === key),
      )
      const ordered = q.reverse ? [...inRange].reverse() : inRange
      const expected = ordered.slice(0, q.limit ?? Infinity).map(show)
      const read =
        key === undefined
          ? scanAll(ctx, range, q.reverse, q.limit)
          : scanKey(ctx, key, range, q.reverse, q.limit)
      expect(await collect(read)).toEqual(expected)
      expect(await countEntries(ctx, key, range)).toBe(inRange.length)
    },
  )

  test.prop(
    [
      fc.array(arbCommit, { maxLength: 12 }),
      fc.integer({ min: 0, max: 60 }),
      fc.constantFrom(undefined, '', 'a', 'ab', 'b', 'c'),
    ],
    { numRuns: 100 },
  )(
    'lists the keys with entries at or above the truncation point',
    async (commits, cut, prefix) => {
      const { storage, entries } = await write(commits)
      const ctx: ReadContext = { storage, truncatedBefore: () => cut, isClosed: () => false }
      const text = new TextDecoder()
      const expected = [
        ...new Set(
          entries
            .filter((e) => e.sequence >= cut)
            .map((e) => text.decode(e.key))
            .filter((k) => prefix === undefined || k.startsWith(prefix)),
        ),
      ].sort()
      const listed: string[] = []
      for await (const key of listKeys(
        ctx,
        prefix === undefined ? undefined : new TextEncoder().encode(prefix),
      )) {
        listed.push(text.decode(key))
      }
      expect(listed).toEqual(expected)
    },
  )

  test.prop([fc.array(arbCommit, { minLength: 1, maxLength: 12 })], { numRuns: 50 })(
    'every commit continues the one before it, and the last one is the chain’s end',
    async (commits) => {
      const { storage, link } = await write(commits)
      let previous = GENESIS
      let n = 0
      for await (const pair of iterate(storage, {
        gte: Uint8Array.of(2, 3),
        lt: Uint8Array.of(2, 4),
      })) {
        expect(verifyLink(previous, pair.key, pair.value)).toBe(true)
        const commit = decodeCommit(pair.key, pair.value)
        if (E.isLeft(commit)) throw new Error(commit.left.message)
        previous = { end: commit.right.end, checksum: commit.right.checksum }
        n++
      }
      expect(n).toBeGreaterThanOrEqual(commits.length)
      expect(previous.end).toBe(link.end)
      const last = await lastLink(storage)
      expect(last.end).toBe(link.end)
      expect(Buffer.from(last.checksum).equals(Buffer.from(link.checksum))).toBe(true)
    },
  )
})

describe('entries read back', () => {
  test.prop([fc.array(arbCommit, { minLength: 1, maxLength: 6 })], { numRuns: 30 })(
    'own their keys: changing one entry’s key changes no other entry',
    async (commits) => {
      const { storage } = await write(commits)
      const ctx: ReadContext = { storage, truncatedBefore: () => 0, isClosed: () => false }
      const read: LogEntry[] = []
      for await (const e of scanAll(ctx, { lower: 0, upper: undefined }, false, undefined)) {
        read.push(e)
      }
      const before = read.map((e) => Buffer.from(e.key).toString('hex'))
      for (const e of read) e.key.fill(0xee)
      const again: string[] = []
      for await (const e of scanAll(ctx, { lower: 0, upper: undefined }, false, undefined)) {
        again.push(Buffer.from(e.key).toString('hex'))
      }
      expect(again).toEqual(before)
      // And within one read, the keys are separate arrays.
      expect(new Set(read.map((e) => e.key)).size).toBe(read.length)
    },
  )
})
