// Format 2 truncation: the entries below the cut disappear from every read, the chain stays
// verifiable from the anchor the cut keeps, no record of a deleted commit is left behind, and a
// crash after any write leaves a log that reads and verifies as the truncation it stored.
import { fc, test } from '@fast-check/vitest'
import * as E from 'fp-ts/lib/Either.js'
import * as O from 'fp-ts/lib/Option.js'
import { describe, expect, it } from 'vitest'
import { decodeCommit, GENESIS, type ChainLink } from '../../src/codec/commit.js'
import { decodeRunRecord } from '../../src/codec/run.js'
import { segmentsOf, toCommitBatch, type Entry } from '../../src/delta/delta.js'
import type { ReadContext } from '../../src/log/read.js'
import { scanAll } from '../../src/log/read.js'
import {
  decodeTruncation,
  NO_TRUNCATION,
  truncationKey,
  type Truncation,
} from '../../src/codec/truncation.js'
import { truncateStorage } from '../../src/log/truncate.js'
import { openLog } from '../../src/openLog.js'
import { openMemoryStorage } from '../../src/storage/memory.js'
import type { Storage } from '../../src/storage/port.js'
import { iterate } from '../../src/storage/port.js'
import { openCrashStorage, type CrashStorage } from '../../src/testing/crashStorage.js'
import { describeProblem, verifyChain } from '../../src/verify/chain.js'
import { interrupting } from './storages.js'

const text = new TextEncoder()

/** Commits of the given sizes over three keys, with a gap after every other one. */
const writeCommits = async (storage: Storage, sizes: ReadonlyArray<number>): Promise<Entry[]> => {
  let link: ChainLink = GENESIS
  let next = 0
  const all: Entry[] = []
  for (const [i, size] of sizes.entries()) {
    const entries: Entry[] = Array.from({ length: size }, (_, j) => ({
      key: text.encode(`k${(i + j) % 3}`),
      // Some values too long to stay inline, so that runs point into their commits.
      value: new Uint8Array(j % 4 === 3 ? 700 : 3).fill(next + j),
      sequence: next + j,
    }))
    const batch = toCommitBatch({ segments: segmentsOf(entries), seqBlock: O.none }, link)
    const written = await storage.write(batch.ops, { sync: false })()
    if (E.isLeft(written)) throw new Error(written.left.message)
    link = batch.link
    all.push(...entries)
    next += size + (i % 2)
  }
  return all
}

const storedTruncation = async (storage: Storage): Promise<Truncation> => {
  const stored = await storage.get(truncationKey)()
  if (E.isLeft(stored)) throw new Error(stored.left.message)
  if (O.isNone(stored.right)) return NO_TRUNCATION
  const decoded = decodeTruncation(stored.right.value)
  if (E.isLeft(decoded)) throw new Error(decoded.left.message)
  return decoded.right
}

/** Reads every entry and checks the chain, as a reopened log would see them. */
const check = async (storage: Storage, all: ReadonlyArray<Entry>): Promise<void> => {
  const t = await storedTruncation(storage)
  const ctx: ReadContext = { storage, truncatedBefore: () => t.before, isClosed: () => false }
  const read: number[] = []
  for await (const e of scanAll(ctx, { lower: 0, upper: undefined }, false, undefined)) {
    read.push(e.sequence)
  }
  expect(read).toEqual(all.filter((e) => e.sequence >= t.before).map((e) => e.sequence))
  const chain = await verifyChain(storage, { anchor: t.anchor })
  expect(E.isRight(chain) ? chain.right.problems.map(describeProblem) : chain).toEqual([])
}

/**
 * What a cut at `before` should have deleted but did not: commit records wholly below it, and
 * run records whose commit is gone.
 */
const orphans = async (storage: Storage, before: number): Promise<string[]> => {
  const found: string[] = []
  const commits: Array<readonly [number, number]> = []
  for await (const pair of iterate(storage, {
    gte: Uint8Array.of(2, 3),
    lt: Uint8Array.of(2, 4),
  })) {
    const commit = decodeCommit(pair.key, pair.value)
    if (E.isLeft(commit)) throw new Error(commit.left.message)
    commits.push([commit.right.firstSequence, commit.right.end])
    if (commit.right.end <= before) found.push(`commit at ${commit.right.firstSequence}`)
  }
  for await (const pair of iterate(storage, {
    gte: Uint8Array.of(2, 2),
    lt: Uint8Array.of(2, 3),
  })) {
    const run = decodeRunRecord(pair.key, pair.value)
    if (E.isLeft(run)) throw new Error(run.left.message)
    const s = run.right.firstSequence
    if (!commits.some(([first, end]) => first <= s && s < end)) found.push(`run at ${s}`)
  }
  return found
}

const arbSizes = fc.array(fc.integer({ min: 1, max: 9 }), { minLength: 1, maxLength: 10 })

describe('format 2 truncation', () => {
  test.prop([arbSizes, fc.integer({ min: 0, max: 70 }), fc.integer({ min: 0, max: 70 })])(
    'hides what is below the cut, deletes the commits wholly below it, and keeps the chain',
    async (sizes, a, b) => {
      const storage = await openCrashStorage()
      const all = await writeCommits(storage, sizes)
      const first = await truncateStorage(storage, a, NO_TRUNCATION, { batchSize: 2 })
      if (E.isLeft(first)) throw new Error(first.left.message)
      await check(storage, all)
      // A second cut, further or not, from the truncation in force.
      const second = await truncateStorage(storage, b, first.right, { batchSize: 2 })
      if (E.isLeft(second)) throw new Error(second.left.message)
      expect(second.right.before).toBe(Math.max(a, b))
      await check(storage, all)
      // Commits straddling the cut stay whole; nothing wholly below it is left.
      expect(await orphans(storage, second.right.before)).toEqual([])
    },
  )

  it('leaves, after a crash at any moment, a log that reads and verifies as the cut it stored', async () => {
    const base = await openCrashStorage()
    const all = await writeCommits(base, [4, 1, 5, 9, 2, 6, 5, 3])
    await base.write([], { sync: true })()
    const views: CrashStorage[] = []
    const store: Storage = {
      ...base,
      write: (batch, options) => async () => {
        views.push(base.crashView('power', views.length))
        const result = await base.write(batch, options)()
        views.push(base.crashView('power', views.length), base.crashView('process'))
        return result
      },
    }
    const done = await truncateStorage(store, 20, NO_TRUNCATION, { batchSize: 1 })
    expect(E.isRight(done)).toBe(true)
    expect(views.length).toBeGreaterThan(6)
    for (const view of views) await check(view, all)
    // After the last write nothing of the deleted commits is left, and the cut is durable.
    expect(await orphans(base, 20)).toEqual([])
    for (let seed = 0; seed < 10; seed++) {
      const lost = base.crashView('power', 1000 + seed)
      expect((await storedTruncation(lost)).before).toBe(20)
      await check(lost, all)
    }
  })
})

describe('a key scan racing a truncation', () => {
  it("a writer's key scan skips a run whose commit its own truncation removed meanwhile", async () => {
    const storage = interrupting(await openMemoryStorage())
    const log = await openLog({ storage })
    // Runs over 1 KiB live in their commit record; their run records point to it.
    await log.append([{ key: 'k', value: 'x'.repeat(2000) }])
    await log.append([{ key: 'k', value: 'y'.repeat(2000) }])
    // The cut lands, ending exactly at the first run's end, between the scan's read of the run
    // records and of their commits.
    storage.duringNextStep(() => log.truncateBefore(1))
    const sequences: number[] = []
    for await (const e of log.scan({ key: 'k' })) sequences.push(e.sequence)
    expect(storage.armed()).toBe(false)
    expect(sequences).toEqual([1])
    await log.close()
  })
})
