import { describe, expect, it } from 'vitest'
import { openMemoryStorage } from '../../src/storage/memory.js'
import * as TE from 'fp-ts/lib/TaskEither.js'
import { brokenHarness } from './broken.js'
import { failingChecks } from './conformance.js'

// The suite is only worth something if it can fail: each broken adapter must fail exactly the
// checks that cover its flaw (and may fail others), while the real memory adapter fails none.
describe('the Storage conformance suite catches broken adapters', () => {
  it('passes the real memory adapter (control)', async () => {
    const failed = await failingChecks({
      name: 'memory',
      persistent: false,
      create: async () => {
        const storage = await openMemoryStorage()
        return {
          storage,
          reopen: () => TE.left(new Error('not persistent')),
          dispose: async () => {
            await storage.close()()
          },
        }
      },
    })
    expect(failed).toEqual([])
  })

  it.each([
    [
      'keys ordered as strings',
      { stringOrder: true },
      ['orders keys by raw bytes, forwards and in reverse'],
    ],
    ['half-applied batches', { halfBatch: true }, ['writes nothing of a batch that fails']],
    [
      'no snapshot for iterations',
      { noSnapshot: true },
      ['an open iteration does not see batches written after it started'],
    ],
    [
      'iterators never released',
      { leakIterators: true },
      ['releases iterators that are finished or abandoned early'],
    ],
  ])('catches %s', async (name, flaws, expected) => {
    const failed = await failingChecks(brokenHarness(name, flaws))
    for (const check of expected) expect(failed).toContain(check)
  })
})
