import * as E from 'fp-ts/lib/Either.js'
import { expect, it } from 'vitest'
import { encodeEntryKey, keyBytes } from '../../src/codec/keys.js'
import { openEventStore } from '../../src/eventstore/store.js'
import { openLog } from '../../src/log/log.js'
import { verifyStorage } from '../../src/verify/verify.js'
import { right } from '../arbitraries.js'
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
  const report = right(await verifyStorage(memory.base, (n) => progress.push(n)))
  expect(report.violations).toEqual([])
  expect(report).toMatchObject({ entries: 16, keys: 4, truncatedBefore: 5 })
  expect(progress.length).toBeGreaterThan(0)
})

it('reports an entry written past the SeqBlock through the storage', async () => {
  const memory = reopenableMemory()
  const log = await openLog({ storage: memory.open(), blockSize: 4 })
  await log.append([{ key: 'k', value: 'v' }])
  await log.close()
  const written = await memory.base.write(
    [{ type: 'put', key: encodeEntryKey(keyBytes('k'), 100), value: keyBytes('rogue') }],
    { sync: true },
  )()
  expect(E.isRight(written)).toBe(true)
  const report = right(await verifyStorage(memory.base))
  expect(report.violations).toEqual([
    'entry 100 of key "k" lies at or above the SeqBlock\'s nextBase 4',
    '1 of 2 entries are named by no commit index record',
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
  expect(right(await verifyStorage(memory.base)).violations).toEqual([])
  // An event written behind the store's back, with a revision that skips one.
  await log.append([
    {
      key: 'e/b',
      value: JSON.stringify({ t: 'X', d: null, m: null, id: 'x', g: false, r: 2, at: 0 }),
    },
    { key: 'e/a', value: 'not an envelope' },
  ])
  await log.close()
  const violations = right(await verifyStorage(memory.base)).violations
  expect(violations).toHaveLength(2)
  expect(violations[0]).toMatch(/of key "e\/a" is not an event/)
  expect(violations[1]).toMatch(/of key "e\/b" has revision 2, not 1: revisions are not dense/)
})

it("leaves keys like an event store's alone in a plain log", async () => {
  const memory = reopenableMemory()
  const log = await openLog({ storage: memory.open() })
  await log.append([{ key: 'e/plain', value: 'not an event, and that is fine' }])
  await log.close()
  expect(right(await verifyStorage(memory.base)).violations).toEqual([])
})
