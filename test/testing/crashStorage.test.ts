import * as E from 'fp-ts/lib/Either.js'
import * as O from 'fp-ts/lib/Option.js'
import * as TE from 'fp-ts/lib/TaskEither.js'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { Batch, Storage } from '../../src/storage/port.js'
import { iterate } from '../../src/storage/port.js'
import { openCrashStorage, type CrashStorage } from '../../src/testing/crashStorage.js'
import { registerConformance } from '../storage/conformance.js'

registerConformance({
  name: 'crash-simulating',
  create: () => {
    const storage = openCrashStorage()
    return Promise.resolve({
      storage,
      reopen: () => TE.left(new Error('not persistent: use crash()')),
      dispose: async () => {
        await storage.close()()
      },
    })
  },
})

const text = (s: string): Uint8Array => new TextEncoder().encode(s)
const put = (k: string): Batch[number] => ({ type: 'put', key: text(k), value: text(k) })
const write = async (s: Storage, keys: ReadonlyArray<string>, sync: boolean): Promise<string> => {
  const result = await s.write(keys.map(put), { sync })()
  return E.isLeft(result) ? result.left.code : 'ok'
}
const keys = async (s: Storage): Promise<string[]> => {
  const out: string[] = []
  for await (const { key } of iterate(s)) out.push(new TextDecoder().decode(key))
  return out
}

/** Writes batches b0..b(n-1) of two keys each, syncing those listed. */
const history = async (n: number, synced: ReadonlyArray<number>): Promise<CrashStorage> => {
  const store = openCrashStorage()
  for (let i = 0; i < n; i++) await write(store, [`b${i}-1`, `b${i}-2`], synced.includes(i))
  return store
}

describe('crash-simulating storage', () => {
  it('keeps every written batch on a process crash, unsynced ones still unsynced', async () => {
    const store = await history(4, [1])
    expect(store.durableCount()).toBe(2)
    const restarted = store.crash('process')
    expect((await keys(restarted)).length).toBe(8)
    expect(restarted.durableCount()).toBe(2)
    // A power loss after the restart can still take what was never synced.
    const lost = restarted.crash('power', 0)
    expect(await keys(lost)).toEqual(['b0-1', 'b0-2', 'b1-1', 'b1-2'])
  })

  it('keeps synced batches plus a seeded prefix of the rest on a power loss, whole batches only', async () => {
    const store = await history(6, [2])
    const survivors = new Set<number>()
    for (let seed = 0; seed < 200; seed++) {
      const found = await keys(store.crash('power', seed))
      // Whole batches, and a prefix: b0..b(k-1) for some k >= 3.
      expect(found.length % 2).toBe(0)
      const k = found.length / 2
      expect(k).toBeGreaterThanOrEqual(3)
      expect(found).toEqual(
        Array.from({ length: k }, (_, i) => [`b${i}-1`, `b${i}-2`])
          .flat()
          .sort(),
      )
      survivors.add(k)
    }
    // Every possible prefix length turns up across seeds.
    expect([...survivors].sort()).toEqual([3, 4, 5, 6])
  })

  it('replays the same power loss for the same seed', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer(), async (seed) => {
        const store = await history(5, [])
        expect(await keys(store.crash('power', seed))).toEqual(
          await keys(store.crash('power', seed)),
        )
      }),
      { numRuns: 50 },
    )
  })

  it('makes an empty synced batch sync everything before it', async () => {
    const store = await history(3, [])
    expect(store.durableCount()).toBe(0)
    expect(await write(store, [], true)).toBe('ok')
    expect(store.durableCount()).toBe(3)
    expect((await keys(store.crash('power', 1))).length).toBe(6)
  })

  it('refuses every call on a crashed store with IO_ERROR', async () => {
    const store = await history(1, [0])
    store.crash('process')
    expect(await write(store, ['x'], true)).toBe('IO_ERROR')
    const got = await store.get(text('b0-1'))()
    expect(E.isLeft(got) && got.left.code).toBe('IO_ERROR')
    expect(E.isLeft(store.iterator({}))).toBe(true)
  })

  it('fails the chosen write and applies nothing', async () => {
    const store = openCrashStorage()
    store.failNext('write', 1)
    expect(await write(store, ['a'], false)).toBe('ok')
    expect(await write(store, ['b'], false)).toBe('IO_ERROR')
    expect(await write(store, ['c'], false)).toBe('ok')
    expect(await keys(store)).toEqual(['a', 'c'])
    expect(store.batches().length).toBe(2)
  })

  it('fails a sync: the batch is written but not durable', async () => {
    const store = openCrashStorage()
    store.failNext('sync')
    expect(await write(store, ['a'], false)).toBe('ok')
    expect(await write(store, ['b'], true)).toBe('IO_ERROR')
    expect(await keys(store)).toEqual(['a', 'b'])
    expect(store.durableCount()).toBe(0)
    expect(await keys(store.crash('power', 0))).toEqual([])
  })

  it('loses an acknowledgement: the batch is applied and synced, the caller told it failed', async () => {
    const store = openCrashStorage()
    store.failNext('ack')
    expect(await write(store, ['a'], true)).toBe('IO_ERROR')
    expect(store.durableCount()).toBe(1)
    expect(await keys(store.crash('power', 7))).toEqual(['a'])
  })

  it('fails the chosen read', async () => {
    const store = await history(1, [])
    store.failNext('read')
    const failed = await store.getMany([text('b0-1')])()
    expect(E.isLeft(failed) && failed.left.code).toBe('IO_ERROR')
    const ok = await store.get(text('b0-1'))()
    expect(E.isRight(ok) && O.isSome(ok.right)).toBe(true)
    store.failNext('read')
    await expect(keys(store)).rejects.toMatchObject({ code: 'IO_ERROR' })
  })

  it('does not let a caller rewrite history by mutating its arrays', async () => {
    const store = openCrashStorage()
    const key = text('k')
    await store.write([{ type: 'put', key, value: key }], { sync: true })()
    key[0] = 0x41
    expect(await keys(store.crash('power', 3))).toEqual(['k'])
  })
})
