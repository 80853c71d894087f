// Key listings read a few runs per key, not every entry: counted through a storage that tallies
// what it hands out, over keys with many runs, some of them wholly below a truncation point.
import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import { listKeys } from '../../src/log/keys.js'
import type { ReadContext } from '../../src/log/read.js'
import { openLog } from '../../src/openLog.js'
import { openMemoryStorage } from '../../src/storage/memory.js'
import type { Storage } from '../../src/storage/port.js'

/** `storage`, counting the pairs its iterators yield and the values its gets return. */
const counted = (storage: Storage): { storage: Storage; reads: () => number } => {
  let reads = 0
  return {
    reads: () => reads,
    storage: {
      ...storage,
      get: (key) => async () => {
        reads++
        return storage.get(key)()
      },
      getMany: (keys) => async () => {
        reads += keys.length
        return storage.getMany(keys)()
      },
      iterator: (options) =>
        E.map(
          (
            iterator: ReturnType<Storage['iterator']> extends E.Either<unknown, infer I>
              ? I
              : never,
          ) => ({
            ...iterator,
            next: () => async () => {
              const chunk = await iterator.next()()
              if (E.isRight(chunk) && chunk.right._tag === 'Some') reads += chunk.right.value.length
              return chunk
            },
          }),
        )(storage.iterator(options)),
    },
  }
}

describe('keys()', () => {
  it('reads a bounded number of runs per key, not every entry, and skips truncated keys', async () => {
    const KEYS = 40
    const ENTRIES = 80
    const inner = await openMemoryStorage()
    const { storage, reads } = counted(inner)
    await using log = await openLog({ storage })
    // One entry per commit, so that every entry is a run of its own; the first ten keys are
    // written only before the cut, and lose every entry to it.
    let cut = 0
    // Just past key-09's last entry: a cut there leaves it nothing.
    let edge = 0
    for (let round = 0; round < ENTRIES; round++) {
      for (let k = 0; k < KEYS; k++) {
        if (k < 10 && round >= ENTRIES / 2) continue
        const { startSequence } = await log.append([
          { key: `key-${String(k).padStart(2, '0')}`, value: `${round}` },
        ])
        if (round === ENTRIES / 2 && k === 10) cut = startSequence
        if (round === ENTRIES / 2 - 1 && k === 9) edge = startSequence + 1
      }
    }
    const expected = Array.from(
      { length: KEYS - 10 },
      (_, k) => `key-${String(k + 10).padStart(2, '0')}`,
    )
    // Runs below the cut still stored, as a reader that has not seen the truncation finish
    // finds them: a key with none above it is passed by seeking to the run that holds the cut.
    const ctx: ReadContext = { storage, truncatedBefore: () => cut, isClosed: () => false }
    const start = reads()
    const early: string[] = []
    for await (const key of listKeys(ctx, undefined)) early.push(new TextDecoder().decode(key))
    expect(early).toEqual(expected)
    expect(reads() - start).toBeLessThanOrEqual(12 * KEYS)
    const atEdge: string[] = []
    for await (const key of listKeys({ ...ctx, truncatedBefore: () => edge }, undefined)) {
      atEdge.push(new TextDecoder().decode(key))
    }
    expect(atEdge).toEqual(expected)
    await log.truncateBefore(cut)
    const before = reads()
    const listed: string[] = []
    for await (const key of log.keys()) listed.push(new TextDecoder().decode(key))
    const read = reads() - before
    expect(listed).toEqual(expected)
    // Every entry would be about KEYS × ENTRIES runs; a few runs per key is what a listing needs.
    expect(read).toBeLessThanOrEqual(12 * KEYS)
  })
})

describe('a key scan with a limit', () => {
  it('reads no more run records than its limit may need, a page at a time', async () => {
    const inner = await openMemoryStorage()
    const { storage, reads } = counted(inner)
    await using log = await openLog({ storage })
    // One entry per commit: every entry is a run of its own.
    for (let i = 0; i < 200; i++) await log.append([{ key: 'k', value: `v${i}` }])
    const newest = async (limit: number): Promise<number> => {
      const start = reads()
      let n = 0
      for await (const _ of log.scan({ key: 'k', reverse: true, limit })) n++
      expect(n).toBe(limit)
      return reads() - start
    }
    // The run holding the newest entry, and one more: the first run may lie below the range.
    expect(await newest(1)).toBeLessThanOrEqual(2)
    expect(await newest(10)).toBeLessThanOrEqual(11)
    // Without a limit, every run, a page at a time.
    const start = reads()
    let all = 0
    for await (const _ of log.scan({ key: 'k' })) all++
    expect(all).toBe(200)
    expect(reads() - start).toBe(200)
  })
})
