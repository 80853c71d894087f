// The commit chain of format v2: a hole, a changed byte, a truncated tail and a rewritten log are
// each found, at the sequence where the chain breaks; an intact chain, and one cut by a
// truncation that kept its anchor, pass.
import { fc, test } from '@fast-check/vitest'
import * as E from 'fp-ts/lib/Either.js'
import * as O from 'fp-ts/lib/Option.js'
import { describe, expect, it } from 'vitest'
import { encodeCommitKey, GENESIS, type ChainLink } from '../../src/codec/commit.js'
import { writeU64 } from '../../src/codec/u64.js'
import { segmentsOf, toCommitBatch, type Entry } from '../../src/delta/delta.js'
import { openMemoryStorage } from '../../src/storage/memory.js'
import type { Storage } from '../../src/storage/port.js'
import { describeProblem, verifyChain, type ChainReport } from '../../src/verify/chain.js'

const text = new TextEncoder()

/** Writes `sizes.length` commits, commit i holding `sizes[i]` entries; returns every link. */
const writeCommits = async (
  storage: Storage,
  sizes: ReadonlyArray<number>,
  from: { link: ChainLink; next: number } = { link: GENESIS, next: 0 },
  tag = 'v',
): Promise<{ links: ChainLink[]; firsts: number[] }> => {
  let link = from.link
  let next = from.next
  const links: ChainLink[] = []
  const firsts: number[] = []
  for (const [i, size] of sizes.entries()) {
    const entries: Entry[] = Array.from({ length: size }, (_, j) => ({
      key: text.encode(`k${(i + j) % 3}`),
      value: text.encode(`${tag}${next + j}`),
      sequence: next + j,
    }))
    firsts.push(next)
    const batch = toCommitBatch({ segments: segmentsOf(entries), seqBlock: O.none }, link)
    const written = await storage.write(batch.ops, { sync: false })()
    if (E.isLeft(written)) throw new Error(written.left.message)
    link = batch.link
    links.push(link)
    next += size + (i % 2) // a gap now and then, as a restart leaves
  }
  return { links, firsts }
}

const verify = async (
  storage: Storage,
  options: { anchor?: ChainLink; head?: ChainLink } = {},
): Promise<ChainReport> => {
  const report = await verifyChain(storage, options)
  if (E.isLeft(report)) throw new Error(report.left.message)
  return report.right
}

const problems = (report: ChainReport): string[] => report.problems.map(describeProblem)

/** A copy of the value stored under `key`. */
const stored = async (storage: Storage, key: Uint8Array): Promise<Uint8Array> => {
  const found = await storage.get(key)()
  if (E.isLeft(found) || O.isNone(found.right)) throw new Error('no such record')
  return found.right.value.slice()
}

const sizes = [3, 1, 4, 1, 5, 9, 2, 6]

describe('the commit chain', () => {
  it('passes an intact log and ends at its last link', async () => {
    const storage = await openMemoryStorage()
    const { links } = await writeCommits(storage, sizes)
    const head = links[links.length - 1]
    const report = await verify(storage, { ...(head === undefined ? {} : { head }) })
    expect(problems(report)).toEqual([])
    expect(report.commits).toBe(sizes.length)
    expect(report.entries).toBe(31)
    expect(report.head.end).toBe(head?.end)
    expect(Buffer.from(report.head.checksum).equals(Buffer.from(head?.checksum ?? []))).toBe(true)
  })

  it('names the sequences of a missing commit', async () => {
    const storage = await openMemoryStorage()
    const { firsts, links } = await writeCommits(storage, sizes)
    // The fourth commit (1 entry at firsts[3]) goes, as a damaged write-ahead log can lose it.
    await storage.write([{ type: 'del', key: encodeCommitKey(firsts[3] ?? -1) }], {
      sync: false,
    })()
    expect(problems(await verify(storage))).toEqual([
      `commits are missing: the entries from ${links[2]?.end} up to ${links[3]?.end} are gone`,
    ])
  })

  it('finds a changed commit after a hole: the commit that revealed the hole anchors it', async () => {
    const storage = await openMemoryStorage()
    const { firsts, links } = await writeCommits(storage, sizes)
    await storage.write([{ type: 'del', key: encodeCommitKey(firsts[3] ?? -1) }], {
      sync: false,
    })()
    // The commit after the one that names the missing end has its last value byte changed.
    const key = encodeCommitKey(firsts[5] ?? -1)
    const value = await stored(storage, key)
    value[value.length - 1] = (value[value.length - 1] ?? 0) ^ 1
    await storage.write([{ type: 'put', key, value }], { sync: false })()
    expect(problems(await verify(storage))).toEqual([
      `commits are missing: the entries from ${links[2]?.end} up to ${links[3]?.end} are gone`,
      `the commit at ${firsts[5]} was changed: its checksum does not match its bytes`,
    ])
  })

  it('reports a changed previous end as a changed commit, not as missing commits', async () => {
    const storage = await openMemoryStorage()
    const { firsts, links } = await writeCommits(storage, sizes)
    // The fifth commit starts one past the fourth's end (a gap): naming that as the end before
    // it still decodes, and looks like a missing entry unless the checksum tells otherwise.
    const key = encodeCommitKey(firsts[4] ?? -1)
    expect(firsts[4]).toBe((links[3]?.end ?? 0) + 1)
    const value = await stored(storage, key)
    writeU64(value, 0, firsts[4] ?? 0)
    await storage.write([{ type: 'put', key, value }], { sync: false })()
    expect(problems(await verify(storage))).toEqual([
      `the commit at ${firsts[4]} was changed: its checksum does not match its bytes`,
    ])
  })

  test.prop([fc.nat(), fc.integer({ min: 1, max: 255 })], { numRuns: 100 })(
    'finds any changed byte of a commit record, at that commit',
    async (at, flip) => {
      const storage = await openMemoryStorage()
      const { firsts } = await writeCommits(storage, sizes)
      const victim = firsts[at % firsts.length] ?? 0
      const key = encodeCommitKey(victim)
      const stored = await storage.get(key)()
      if (E.isLeft(stored) || O.isNone(stored.right)) throw new Error('no commit')
      const value = stored.right.value.slice()
      const i = Math.floor(at / firsts.length) % value.length
      value[i] = (value[i] ?? 0) ^ flip
      await storage.write([{ type: 'put', key, value }], { sync: false })()
      const report = await verify(storage)
      // The damaged commit is reported once: as changed, or as unreadable when the flip leaves
      // it undecodable. The commits after it still link, so nothing else is reported.
      const [first, ...rest] = report.problems
      if (first?.kind === 'changed') expect(first.sequence).toBe(victim)
      else expect(first?.kind).toBe('unreadable')
      expect(rest).toEqual([])
    },
  )

  it('finds a tail cut below the recorded head', async () => {
    const storage = await openMemoryStorage()
    const { firsts, links } = await writeCommits(storage, sizes)
    const head = links[links.length - 1] ?? GENESIS
    for (const first of firsts.slice(-2)) {
      await storage.write([{ type: 'del', key: encodeCommitKey(first) }], { sync: false })()
    }
    expect(problems(await verify(storage, { head }))).toEqual([
      `the log ends at ${links[links.length - 3]?.end}, before its recorded head at ${head.end}: its tail is gone`,
    ])
    // Without a recorded head, a cut tail looks like a shorter log.
    expect(problems(await verify(storage))).toEqual([])
  })

  it('finds a log rewritten after its recorded head was taken', async () => {
    const storage = await openMemoryStorage()
    const { firsts, links } = await writeCommits(storage, sizes)
    const head = links[5] ?? GENESIS
    // Everything from the fifth commit on is replaced by commits of other values.
    for (const first of firsts.slice(4)) {
      await storage.write([{ type: 'del', key: encodeCommitKey(first) }], { sync: false })()
    }
    await writeCommits(
      storage,
      sizes.slice(4),
      { link: links[3] ?? GENESIS, next: firsts[4] ?? 0 },
      'forged',
    )
    const report = await verify(storage, { head })
    expect(problems(report)).toEqual([
      `the log was rewritten: its chain at ${head.end} is not the recorded head`,
    ])
    // The forged chain links up by itself: only the recorded head tells.
    expect(problems(await verify(storage))).toEqual([])
  })

  it('finds a recorded head that no commit of the log ends at', async () => {
    const storage = await openMemoryStorage()
    const { links } = await writeCommits(storage, sizes)
    // The sixth commit (9 entries) starts where the fifth ends: a head one entry into it was
    // never the end of a commit.
    const head = { end: (links[4]?.end ?? 0) + 1, checksum: links[4]?.checksum ?? GENESIS.checksum }
    expect(problems(await verify(storage, { head }))).toEqual([
      `no commit of the log ends at ${head.end} (one ends at ${links[4]?.end}, the next at ${links[5]?.end}), so the recorded head is no head of this log (a head ends a commit, as log.head() and verify print it): it was taken from another log or mistyped, or the log was rewritten since`,
    ])
  })

  it('checks a truncated log from the anchor its truncation kept', async () => {
    const storage = await openMemoryStorage()
    const { firsts, links } = await writeCommits(storage, sizes)
    for (const first of firsts.slice(0, 3)) {
      await storage.write([{ type: 'del', key: encodeCommitKey(first) }], { sync: false })()
    }
    const anchor = links[2] ?? GENESIS
    expect(problems(await verify(storage, { anchor }))).toEqual([])
    // A recorded head at the anchor passes with the anchor's checksum, and with no other.
    expect(problems(await verify(storage, { anchor, head: anchor }))).toEqual([])
    const forged = { end: anchor.end, checksum: links[1]?.checksum ?? GENESIS.checksum }
    expect(problems(await verify(storage, { anchor, head: forged }))).toEqual([
      `the log was rewritten: its chain at ${anchor.end} is not the recorded head`,
    ])
    expect(problems(await verify(storage))).toEqual([
      `commits are missing: the entries from 0 up to ${anchor.end} are gone`,
    ])
  })
})
