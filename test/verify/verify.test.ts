import * as E from 'fp-ts/lib/Either.js'
import { expect, it } from 'vitest'
import { encodeEntryKey, keyBytes } from '../../src/codec/keys.js'
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
