import * as E from 'fp-ts/lib/Either.js'
import * as O from 'fp-ts/lib/Option.js'
import * as TE from 'fp-ts/lib/TaskEither.js'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { DeltalogError } from '../../src/errors.js'
import type { Batch, Storage } from '../../src/storage/port.js'
import { iterate } from '../../src/storage/port.js'
import {
  makeCrashStorage,
  openCrashStorage,
  type CrashStorage,
  type CrashStorageOptions,
} from '../../src/testing/crashStorage.js'
import { registerConformance } from '../storage/conformance.js'

registerConformance({
  name: 'crash-simulating',
  persistent: false,
  create: async () => {
    const storage = await openCrashStorage()
    return {
      storage,
      reopen: () => TE.left(new Error('not persistent: use crash()')),
      dispose: async () => {
        await storage.close()()
      },
    }
  },
})

// Delays change when calls resolve, never what the port promises.
registerConformance({
  name: 'crash-simulating, with delayed writes and reads',
  persistent: false,
  create: async () => {
    const storage = await openCrashStorage({ seed: 7, maxDelayTurns: 3, delayReads: true })
    return {
      storage,
      reopen: () => TE.left(new Error('not persistent: use crash()')),
      dispose: async () => {
        await storage.close()()
      },
    }
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
  const store = await openCrashStorage()
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

  it('crashes synchronously into a store that `await using` closes', async () => {
    const store = await history(2, [0])
    let kept: CrashStorage | undefined
    {
      await using restarted = store.crash('process')
      kept = restarted
      expect((await keys(restarted)).length).toBe(4)
    }
    expect(await write(kept, ['x'], false)).toBe('CLOSED')
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
    const store = await openCrashStorage()
    store.failNext('write', 1)
    expect(await write(store, ['a'], false)).toBe('ok')
    expect(await write(store, ['b'], false)).toBe('IO_ERROR')
    expect(await write(store, ['c'], false)).toBe('ok')
    expect(await keys(store)).toEqual(['a', 'c'])
    expect(store.batches().length).toBe(2)
  })

  it('fails a sync: the batch is written but not durable', async () => {
    const store = await openCrashStorage()
    store.failNext('sync')
    expect(await write(store, ['a'], false)).toBe('ok')
    expect(await write(store, ['b'], true)).toBe('IO_ERROR')
    expect(await keys(store)).toEqual(['a', 'b'])
    expect(store.durableCount()).toBe(0)
    expect(await keys(store.crash('power', 0))).toEqual([])
  })

  it('loses an acknowledgement: the batch is applied and synced, the caller told it failed', async () => {
    const store = await openCrashStorage()
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
    const store = await openCrashStorage()
    const key = text('k')
    await store.write([{ type: 'put', key, value: key }], { sync: true })()
    key[0] = 0x41
    expect(await keys(store.crash('power', 3))).toEqual(['k'])
  })
})

/** What a call threw: its code and message, or why it did not count. */
const thrown = (call: () => unknown): { code: string; message: string } => {
  try {
    call()
  } catch (error) {
    return error instanceof DeltalogError
      ? { code: error.code, message: error.message }
      : { code: `not a DeltalogError: ${String(error)}`, message: '' }
  }
  return { code: 'no error', message: '' }
}

describe('crash-simulating storage refuses a misspelt fault or crash', () => {
  const kinds = "'write', 'sync', 'read' or 'ack'"

  it.each([
    ['bogus', 0, `kind: must be one of ${kinds}; got 'bogus'`],
    ['Write', 0, `kind: must be one of ${kinds}; got 'Write'`],
    ['', 0, `kind: must be one of ${kinds}; got ''`],
    ['write', -1, 'skip: must be a non-negative integer'],
    ['write', 1.5, 'skip: must be a non-negative integer'],
    ['write', Number.NaN, 'skip: must be a non-negative integer'],
  ])('failNext(%j, %j) is INVALID_ARGUMENT and arms nothing', async (kind, skip, message) => {
    const store = await openCrashStorage()
    const refused = thrown(() => store.failNext(kind as 'write', skip))
    expect(refused.code).toBe('INVALID_ARGUMENT')
    expect(refused.message).toContain(message)
    // Nothing was armed: every kind of operation still succeeds.
    expect(await write(store, ['a'], true)).toBe('ok')
    expect(await keys(store)).toEqual(['a'])
  })

  it('refuses every string that is not a fault kind', () => {
    fc.assert(
      fc.property(
        fc.string().filter((s) => !['write', 'sync', 'read', 'ack'].includes(s)),
        (kind) => {
          expect(thrown(() => makeCrashStorage().failNext(kind as 'write')).code).toBe(
            'INVALID_ARGUMENT',
          )
        },
      ),
    )
  })

  it.each(['crash', 'crashView'] as const)(
    "%s('meteor') is INVALID_ARGUMENT and leaves the store running",
    async (call) => {
      const store = await history(2, [0])
      const refused = thrown(() => store[call]('meteor' as 'power', 1))
      expect(refused).toEqual({
        code: 'INVALID_ARGUMENT',
        message: "mode: must be 'process' or 'power'; got 'meteor'",
      })
      expect(thrown(() => store[call]('Power' as 'power')).code).toBe('INVALID_ARGUMENT')
      expect(thrown(() => store[call]('power', 0.5)).message).toBe(
        'seed: must be an integer; got 0.5',
      )
      // The refused crash crashed nothing.
      expect(await write(store, ['c'], true)).toBe('ok')
      expect((await keys(store)).length).toBe(5)
    },
  )

  it.each<[unknown, string]>([
    [{ maxDelay: 3 }, 'options.maxDelay: is not an option (the options are seed, maxDelayTurns'],
    [{ maxDelayTurns: -1 }, 'options.maxDelayTurns: must be a non-negative integer'],
    [{ maxDelayTurns: 2.5 }, 'options.maxDelayTurns: must be a non-negative integer'],
    [{ seed: 1.5 }, 'options.seed: must be an integer; got 1.5'],
    [{ delayReads: 'yes' }, "options.delayReads: must be a boolean; got 'yes'"],
    [null, 'options: must be an object; got null'],
  ])('openCrashStorage(%j) rejects with INVALID_ARGUMENT', async (options, message) => {
    // A throw instead of a rejection would escape here and fail the test.
    const refused: unknown = await openCrashStorage(options as CrashStorageOptions).then(
      () => 'opened',
      (error: unknown) => error,
    )
    expect(refused).toBeInstanceOf(DeltalogError)
    expect(refused).toMatchObject({ code: 'INVALID_ARGUMENT' })
    expect((refused as DeltalogError).message).toContain(message)
    // The synchronous constructor throws what the opener rejects with.
    expect(thrown(() => makeCrashStorage(options as CrashStorageOptions))).toEqual({
      code: 'INVALID_ARGUMENT',
      message: (refused as DeltalogError).message,
    })
  })
})

/** Turns of the event loop counted from now, for telling when a call resolved. */
const turnCounter = (): { readonly now: () => number; readonly stop: () => void } => {
  let turn = 0
  let running = true
  const tick = (): void => {
    if (!running) return
    turn++
    setImmediate(tick)
  }
  setImmediate(tick)
  return {
    now: () => turn,
    stop: () => {
      running = false
    },
  }
}

/** Starts `n` writes at once; answers the order they resolved in and the turn of each. */
const overlapping = async (
  store: CrashStorage,
  n: number,
): Promise<{ order: number[]; turns: number[] }> => {
  const counter = turnCounter()
  const order: number[] = []
  const turns: number[] = []
  await Promise.all(
    Array.from({ length: n }, (_, i) =>
      store
        .write([put(`w${i}`)], { sync: i % 3 === 2 })()
        .then(() => {
          order.push(i)
          turns.push(counter.now())
        }),
    ),
  )
  counter.stop()
  return { order, turns }
}

describe('crash-simulating storage with delays', () => {
  it('resolves every call in the turn it was made by default', async () => {
    const store = await openCrashStorage()
    const { turns } = await overlapping(store, 10)
    expect(turns.every((t) => t === 0)).toBe(true)
  })

  it('resolves writes after seeded delays, in the order they were called', async () => {
    const seen = new Set<string>()
    for (let seed = 0; seed < 20; seed++) {
      const { order, turns } = await overlapping(
        await openCrashStorage({ seed, maxDelayTurns: 3 }),
        10,
      )
      expect(order).toEqual(Array.from({ length: 10 }, (_, i) => i))
      // The same seed replays the same delays.
      const again = await overlapping(await openCrashStorage({ seed, maxDelayTurns: 3 }), 10)
      expect(again.turns).toEqual(turns)
      seen.add(turns.join(','))
    }
    // Different seeds give different interleavings, some of them delayed.
    expect(seen.size).toBeGreaterThan(10)
  })

  it('applies a delayed write when called and makes it durable when it resolves', async () => {
    const store = await openCrashStorage({ seed: 1, maxDelayTurns: 2 })
    await write(store, ['a'], false)
    const pending = store.write([put('b')], { sync: true })()
    // Written (reads see it, a process kill keeps it) but not yet durable.
    expect(store.batches().map((b) => b.synced)).toEqual([false, false])
    expect(store.durableCount()).toBe(0)
    expect(await keys(store.crashView('process'))).toEqual(['a', 'b'])
    expect(E.isRight(await pending)).toBe(true)
    expect(store.durableCount()).toBe(2)
  })

  it('fails a write in flight when the store crashes; only a process kill keeps it for sure', async () => {
    const lost = new Set<number>()
    for (let seed = 0; seed < 10; seed++) {
      const store = await openCrashStorage({ seed, maxDelayTurns: 2 })
      const pending = store.write([put('a')], { sync: true })()
      const after = store.crash('power', seed)
      const result = await pending
      expect(E.isLeft(result) && result.left.code).toBe('IO_ERROR')
      lost.add((await keys(after)).length)
    }
    // A sync still in flight when the power went is not durable: some losses took it.
    expect([...lost].sort()).toEqual([0, 1])
  })

  it('fails, syncs and acknowledges delayed writes in call order', async () => {
    const store = await openCrashStorage({ seed: 3, maxDelayTurns: 3 })
    store.failNext('sync', 1)
    const results = await Promise.all(
      ['a', 'b', 'c', 'd'].map((k) => store.write([put(k)], { sync: true })()),
    )
    expect(results.map((r) => (E.isLeft(r) ? r.left.code : 'ok'))).toEqual([
      'ok',
      'IO_ERROR',
      'ok',
      'ok',
    ])
    // The failed sync is made durable by the later ones: durability is a prefix.
    expect(store.durableCount()).toBe(4)
  })

  it('delays reads only when asked, and closes after the calls in flight', async () => {
    const store = await openCrashStorage({ seed: 5, maxDelayTurns: 4, delayReads: true })
    await write(store, ['a', 'b'], false)
    const counter = turnCounter()
    const delays: number[] = []
    for (let i = 0; i < 10; i++) {
      const start = counter.now()
      await store.get(text('a'))()
      delays.push(counter.now() - start)
    }
    counter.stop()
    expect(Math.max(...delays)).toBeGreaterThan(0)
    const writing = store.write([put('c')], { sync: true })()
    expect(E.isRight(await store.close()())).toBe(true)
    expect(E.isRight(await writing)).toBe(true)
    expect(store.durableCount()).toBe(2)
  })
})
