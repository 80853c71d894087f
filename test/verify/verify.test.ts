import * as E from 'fp-ts/lib/Either.js'
import { expect, it } from 'vitest'
import { keyBytes } from '../../src/codec/keys.js'
import { encodeEntryKey } from '../../src/format/v1/keys.js'
import { openEventStore } from '../../src/eventstore/store.js'
import { openLog } from '../../src/openLog.js'
import { verifyStorage, verifyStorageTE } from '../../src/verify/verify.js'
import { code } from '../support/codes.js'
import { reopenableMemory } from '../log/storages.js'

it('finds nothing wrong in a log the engine wrote, truncated and imported into', async () => {
  const memory = reopenableMemory()
  const log = await openLog({ storage: memory.open(), blockSize: 4 })
  for (let i = 0; i < 10; i++) {
    await log.append([
      { key: `k${i % 3}`, value: `v${i}` },
      { key: 'other', value: `w${i}` },
    ])
  }
  await log.truncateBefore(5)
  await log.appendAt([{ sequence: 40, key: 'k0', value: 'placed' }])
  await log.close()
  const progress: number[] = []
  const report = await verifyStorage(memory.base, { onProgress: (n) => progress.push(n) })
  expect(report.violations).toEqual([])
  expect(report).toMatchObject({ entries: 16, keys: 4, truncatedBefore: 5 })
  expect(progress.length).toBeGreaterThan(0)
})

it('reports a record that deltalog does not write, and format 1 records left behind', async () => {
  const memory = reopenableMemory()
  const log = await openLog({ storage: memory.open(), blockSize: 4 })
  await log.append([{ key: 'k', value: 'v' }])
  await log.close()
  const written = await memory.base.write(
    [
      { type: 'put', key: Uint8Array.of(0x7f, 1), value: keyBytes('rogue') },
      { type: 'put', key: encodeEntryKey(keyBytes('k'), 100), value: keyBytes('old') },
    ],
    { sync: true },
  )()
  expect(E.isRight(written)).toBe(true)
  const report = await verifyStorage(memory.base)
  expect(report.violations).toEqual([
    'key 7f01 is no record deltalog writes',
    '1 format 1 records are left from an unfinished conversion: run deltalog migrate again',
  ])
})

it('checks an event store: events decode and revisions are dense', async () => {
  const memory = reopenableMemory()
  const log = await openLog({ storage: memory.open(), blockSize: 8 })
  const store = await openEventStore({ log })
  await store.appendToStream('a', [{ type: 'A' }, { type: 'B' }])
  await store.appendToStream('b', [{ type: 'A' }])
  await store.appendToStream('a', [{ type: 'C' }])
  await store.close()
  expect((await verifyStorage(memory.base)).violations).toEqual([])
  // An event written behind the store's back, with a revision that skips one.
  await log.append([
    {
      key: 'e/b',
      value: JSON.stringify({ t: 'X', d: null, m: null, id: 'x', g: false, r: 2, at: 0 }),
    },
    { key: 'e/a', value: 'not an envelope' },
  ])
  await log.close()
  const violations = (await verifyStorage(memory.base)).violations
  expect(violations).toHaveLength(3)
  expect(violations[0]).toMatch(/of key "e\/a" is not an event/)
  expect(violations[1]).toMatch(/of key "e\/b" has revision 2, not 1: revisions are not dense/)
  // Neither has postings in the index: the event that decodes is missing from it.
  expect(violations[2]).toBe(
    'the index of types disagrees with the events: 4 postings for 5 events',
  )
})

/** An event envelope at `revision`, as the store writes one. */
const envelope = (revision: number): string =>
  JSON.stringify({ t: 'X', d: null, m: null, id: `x${revision}`, g: false, r: revision, at: 0 })

it('checks an event store cut past its marker, from the cut on', async () => {
  const memory = reopenableMemory()
  const log = await openLog({ storage: memory.open(), blockSize: 8 })
  const store = await openEventStore({ log })
  // The store's two markers at 0 and 1, then revisions 0 to 4 of "a" at 2, 4, 6, 8 and 10, one
  // commit each, each followed by the posting of its type.
  for (let i = 0; i < 5; i++) await store.appendToStream('a', [{ type: 'A' }])
  await store.close()
  await log.truncateBefore(5)
  // Revisions 2 to 4 are left: dense from the cut on.
  expect((await verifyStorage(memory.base)).violations).toEqual([])
  await log.append([{ key: 'e/a', value: envelope(9) }])
  await log.close()
  expect((await verifyStorage(memory.base)).violations).toEqual([
    'entry 12 of key "e/a" has revision 9, not 5: revisions are not dense',
    'the index of types disagrees with the events: 3 postings for 4 events',
  ])
})

it('checks no entry a truncation hides, in a commit it keeps whole', async () => {
  const memory = reopenableMemory()
  const log = await openLog({ storage: memory.open(), blockSize: 8 })
  const store = await openEventStore({ log })
  await store.close()
  // One commit at 2, 3 and 4 (after the store's two markers): something that is no event, a
  // first event, and the posting of its type (one back); the cut at 3 hides the first and
  // keeps the commit.
  await log.append([
    { key: 'e/x', value: 'not an envelope' },
    { key: 'e/x', value: envelope(0) },
    { key: 'y/X', value: '[1]' },
  ])
  await log.truncateBefore(3)
  await log.close()
  expect((await verifyStorage(memory.base)).violations).toEqual([])
})

it("leaves keys like an event store's alone in a plain log", async () => {
  const memory = reopenableMemory()
  const log = await openLog({ storage: memory.open() })
  await log.append([{ key: 'e/plain', value: 'not an event, and that is fine' }])
  await log.close()
  expect((await verifyStorage(memory.base)).violations).toEqual([])
})

it('proves against a head taken earlier that nothing before it was lost or rewritten', async () => {
  const memory = reopenableMemory()
  const log = await openLog({ storage: memory.open(), durability: 'sync' })
  for (let i = 0; i < 6; i++) await log.append([{ key: `k${i % 2}`, value: `v${i}` }])
  const head = log.head()
  expect(head.sequence).toBe(log.nextSequence())
  expect(head.checksum).toMatch(/^[0-9a-f]{64}$/)
  // More appends keep the old head on the chain.
  await log.append([{ key: 'k0', value: 'later' }])
  expect(log.head().sequence).toBe(log.nextSequence())
  expect(log.head().checksum).not.toBe(head.checksum)
  await log.close()
  expect((await verifyStorage(memory.base, { head })).violations).toEqual([])

  // A forged head, or one the log no longer reaches, fails.
  const forged = { ...head, checksum: head.checksum.replace(/^./, (c) => (c === '0' ? '1' : '0')) }
  expect((await verifyStorage(memory.base, { head: forged })).violations).toEqual([
    `the log was rewritten: its chain at ${head.sequence} is not the recorded head`,
  ])
  // A head that is no head is refused, not reported as a broken log.
  for (const bad of [
    { sequence: -1, checksum: head.checksum },
    { sequence: head.sequence, checksum: 'abc' },
    { sequence: head.sequence, checksum: head.checksum.toUpperCase() },
  ]) {
    expect(await code(verifyStorage(memory.base, { head: bad }))).toBe('INVALID_ARGUMENT')
    const refused = await verifyStorageTE(memory.base, { head: bad })()
    expect(E.isLeft(refused) && refused.left.code).toBe('INVALID_ARGUMENT')
  }
  const beyond = { sequence: head.sequence + 100, checksum: head.checksum }
  expect((await verifyStorage(memory.base, { head: beyond })).violations).toEqual([
    `the log ends at ${head.sequence + 1}, before its recorded head at ${head.sequence + 100}: its tail is gone`,
  ])
})

it('gives the durable head in buffered mode: a flush moves it', async () => {
  const memory = reopenableMemory()
  const log = await openLog({ storage: memory.open(), durability: 'buffered', blockSize: 1000 })
  await log.append([{ key: 'k', value: 'v' }]) // the block's record syncs this one
  const synced = log.head()
  await log.append([{ key: 'k', value: 'w' }])
  expect(log.head()).toEqual(synced)
  await log.flush()
  expect(log.head().sequence).toBe(log.nextSequence())
  await log.close()
})

it('keeps the chain whole across a truncation of every entry and a reopen', async () => {
  const memory = reopenableMemory()
  let log = await openLog({ storage: memory.open() })
  await log.append([
    { key: 'a', value: '1' },
    { key: 'b', value: '2' },
  ])
  await log.truncateBefore(log.nextSequence())
  const head = log.head()
  await log.close()
  // No commit is left: the reopened log continues the chain from the truncation's anchor.
  log = await openLog({ storage: memory.open() })
  expect(log.head()).toEqual(head)
  await log.append([{ key: 'a', value: '3' }])
  await log.close()
  const report = await verifyStorage(memory.base, { head })
  expect(report.violations).toEqual([])
  expect(report).toMatchObject({ entries: 1, commits: 1, truncatedBefore: 2 })
})

it('rejects with DeltalogError when the storage fails; its TaskEither form is a left', async () => {
  const memory = reopenableMemory()
  const log = await openLog({ storage: memory.open() })
  await log.append([{ key: 'k', value: 'v' }])
  await log.close()
  const closed = memory.open()
  await closed.close()()
  expect(await code(verifyStorage(closed))).toBe('CLOSED')
  const failed = await verifyStorageTE(closed)()
  expect(E.isLeft(failed) && failed.left.code).toBe('CLOSED')
  // What is wrong with the log stays in the report: the TaskEither form is right with it.
  const report = await verifyStorageTE(memory.base)()
  expect(E.isRight(report) && report.right.violations).toEqual([])
})

it('refuses what is no storage, and options that are no object, with INVALID_ARGUMENT', async () => {
  expect(await code(verifyStorage({} as never))).toBe('INVALID_ARGUMENT')
  expect(await code(verifyStorage(null as never))).toBe('INVALID_ARGUMENT')
  expect(await code(verifyStorage(reopenableMemory().base, null as never))).toBe('INVALID_ARGUMENT')
  expect(await code(verifyStorage(reopenableMemory().base, { onProgress: 1 } as never))).toBe(
    'INVALID_ARGUMENT',
  )
})

it('rejects with DeltalogError when a storage written by hand throws', async () => {
  const base = reopenableMemory().base
  const throwing = {
    ...base,
    getMany: () => {
      throw new TypeError('not a TaskEither')
    },
  }
  expect(await code(verifyStorage(throwing))).toBe('IO_ERROR')
})
