// Verification of a format 2 store: an intact one passes; a missing, changed or extra run
// record, a commit past the SeqBlock and a hole in the chain are each reported; a truncated
// store is checked from its anchor.
import * as E from 'fp-ts/lib/Either.js'
import * as O from 'fp-ts/lib/Option.js'
import { describe, expect, it } from 'vitest'
import { encodeCommitKey, GENESIS, type ChainLink } from '../../src/codec/commit.js'
import { encodeRunKey } from '../../src/codec/run.js'
import { seqBlockKey } from '../../src/codec/records.js'
import { segmentsOf, toCommitBatch, type Entry } from '../../src/delta/delta.js'
import { NO_TRUNCATION } from '../../src/codec/truncation.js'
import { markTruncation, truncateStorage } from '../../src/log/truncate.js'
import { encodeSeqBlock, seqBlock } from '../../src/sequence/seqBlock.js'
import { openMemoryStorage } from '../../src/storage/memory.js'
import type { Storage } from '../../src/storage/port.js'
import { verifyStorage, type VerifyReport } from '../../src/verify/verify.js'

const text = new TextEncoder()

/** Eight commits over three keys, some values too long to stay inline; a SeqBlock up to 64. */
const write = async (): Promise<{ storage: Storage; firsts: number[]; links: ChainLink[] }> => {
  const storage = await openMemoryStorage()
  let link = GENESIS
  let next = 0
  const firsts: number[] = []
  const links: ChainLink[] = []
  for (const [i, size] of [3, 1, 4, 1, 5, 9, 2, 6].entries()) {
    const entries: Entry[] = Array.from({ length: size }, (_, j) => ({
      key: text.encode(`k${(i + j) % 3}`),
      value: new Uint8Array(j % 3 === 2 ? 600 : 2).fill(j),
      sequence: next + j,
    }))
    const batch = toCommitBatch({ segments: segmentsOf(entries), seqBlock: O.none }, link)
    await storage.write(batch.ops, { sync: false })()
    firsts.push(next)
    link = batch.link
    links.push(link)
    next += size
  }
  const block = seqBlock(0, 64)
  if (E.isLeft(block)) throw new Error(block.left.message)
  await storage.write([{ type: 'put', key: seqBlockKey, value: encodeSeqBlock(block.right) }], {
    sync: false,
  })()
  return { storage, firsts, links }
}

const verify = (storage: Storage, head?: ChainLink): Promise<VerifyReport> =>
  verifyStorage(
    storage,
    head === undefined
      ? {}
      : { head: { sequence: head.end, checksum: Buffer.from(head.checksum).toString('hex') } },
  )

describe('verifyStorage', () => {
  it('passes an intact store and counts it', async () => {
    const { storage, links } = await write()
    const report = await verify(storage, links[links.length - 1])
    expect(report.violations).toEqual([])
    expect(report).toMatchObject({ entries: 31, commits: 8, truncatedBefore: 0 })
    expect(report.runs).toBeGreaterThan(8)
  })

  it('reports a missing run record, a changed one and an extra one', async () => {
    const { storage } = await write()
    // The first commit: k0 at 0, k1 at 1, k2 at 2 (600 bytes).
    await storage.write([{ type: 'del', key: encodeRunKey(text.encode('k1'), 1) }], {
      sync: false,
    })()
    await storage.write(
      [{ type: 'put', key: encodeRunKey(text.encode('k0'), 0), value: Uint8Array.of(1, 1, 1, 9) }],
      { sync: false },
    )()
    await storage.write(
      [{ type: 'put', key: encodeRunKey(text.encode('k9'), 40), value: Uint8Array.of(1, 1, 0) }],
      { sync: false },
    )()
    const report = await verify(storage)
    expect(report.violations).toEqual([
      'the run of key "k0" at 0 has a run record that does not match it',
      'the run of key "k1" at 1 has no run record',
      '1 run records belong to no commit',
    ])
  })

  it('reports a commit past the SeqBlock and a hole in the chain', async () => {
    const { storage, firsts, links } = await write()
    const block = seqBlock(0, 20)
    if (E.isLeft(block)) throw new Error(block.left.message)
    await storage.write(
      [
        { type: 'put', key: seqBlockKey, value: encodeSeqBlock(block.right) },
        { type: 'del', key: encodeCommitKey(firsts[2] ?? 0) },
      ],
      { sync: false },
    )()
    const report = await verify(storage)
    expect(report.violations).toContain(
      `the commit at ${firsts[5]} holds sequences up to ${(links[5]?.end ?? 0) - 1}, at or above the SeqBlock's nextBase 20`,
    )
    expect(report.violations).toContain(
      `commits are missing: the entries from ${links[1]?.end} up to ${links[2]?.end} are gone`,
    )
    // The deleted commit's run records now belong to no commit.
    expect(report.violations.some((v) => v.endsWith('run records belong to no commit'))).toBe(true)
  })

  it('passes a truncation marked but not yet removed: its leftovers are no damage', async () => {
    const { storage } = await write()
    // A crash between the synced mark and the deletions leaves every record below the cut.
    const marked = await markTruncation(storage, 12, NO_TRUNCATION)
    expect(E.isRight(marked) && marked.right.anchor.end).toBe(9)
    const report = await verify(storage)
    expect(report.violations).toEqual([])
    expect(report).toMatchObject({ truncatedBefore: 12, entries: 31 - 12 })
  })

  it('reports a stray key beside the SeqBlock record', async () => {
    const { storage } = await write()
    const stray = Uint8Array.of(...seqBlockKey, 0x05)
    await storage.write([{ type: 'put', key: stray, value: Uint8Array.of(0) }], { sync: false })()
    expect((await verify(storage)).violations).toEqual(['key 020105 is no record deltalog writes'])
  })

  it('checks a truncated store from its anchor', async () => {
    const { storage } = await write()
    const cut = await truncateStorage(storage, 12, NO_TRUNCATION)
    expect(E.isRight(cut)).toBe(true)
    const report = await verify(storage)
    expect(report.violations).toEqual([])
    expect(report.truncatedBefore).toBe(12)
  })
})
