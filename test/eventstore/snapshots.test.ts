// Snapshots of aggregates: aggregateStream with `snapshot: { every, version }` stores the folded
// state once `every` events were folded past the last snapshot, and later folds start from it
// and read only the events after it — unless its version is not the caller's, or the stream was
// deleted since. Counted by evolve calls and by the event entries read from the log.
import { afterEach, describe, expect, it } from 'vitest'
import { openEventStore, type EventStore, type ReadEvent } from '../../src/eventstore/store.js'
import type { EventInput } from '../../src/eventstore/envelope.js'
import { snapshotKey } from '../../src/eventstore/snapshots.js'
import { DeltalogError } from '../../src/errors.js'
import { openLog, type Log, type LogEntry } from '../../src/openLog.js'
import { openMemoryStorage } from '../../src/storage/memory.js'
import { code } from '../support/codes.js'
import { instrument } from '../log/storages.js'

const cleanup: Array<() => Promise<unknown>> = []
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f()
})

const TEXT = new TextDecoder()

/** A log that counts the event entries its scans give. */
const countingLog = (log: Log) => {
  const counts = { events: 0 }
  const wrapped: Log = {
    ...log,
    scan: (options) => {
      const inner = log.scan(options)
      const counted: AsyncIterableIterator<LogEntry> = {
        next: async () => {
          const step = await inner.next()
          if (step.done !== true && TEXT.decode(step.value.key).startsWith('e/')) counts.events++
          return step
        },
        return: (value?: unknown) =>
          inner.return?.(value) ?? Promise.resolve({ done: true as const, value: undefined }),
        [Symbol.asyncIterator]() {
          return this
        },
      }
      return counted
    },
  }
  return { log: wrapped, counts }
}

/** A store on a counting log, and the fold under test with its count of evolve calls. */
const setUp = async (options: { readonly storage?: ReturnType<typeof instrument> } = {}) => {
  const storage = options.storage ?? instrument(await openMemoryStorage())
  const base = await openLog({ storage })
  const { log, counts } = countingLog(base)
  const store = await openEventStore({ log })
  cleanup.push(async () => {
    await store.close()
    await base.close()
  })
  const folded = { calls: 0 }
  const aggregate = (
    s: EventStore,
    snapshot: unknown = { every: 10, version: 1 },
    streamId = 's',
  ): Promise<{ n: number; revisions: number[] }> => {
    folded.calls = 0
    counts.events = 0
    return s.aggregateStream(streamId, {
      initialState: { n: 0, revisions: [] as number[] },
      evolve: (state, e: ReadEvent) => {
        folded.calls++
        return {
          n: state.n + (e.data as { n: number }).n,
          revisions: [...state.revisions, e.revision],
        }
      },
      snapshot: snapshot as { every: number; version: number },
    })
  }
  return { storage, base, store, counts, folded, aggregate }
}

const adds = (from: number, count: number): EventInput[] =>
  Array.from({ length: count }, (_, i) => ({ type: 'Add', data: { n: from + i } }))

/** The state the fold gives for revisions `from`..`to` (inclusive) of `adds(0, …)`. */
const folded = (from: number, to: number) => ({
  n: Array.from({ length: to - from + 1 }, (_, i) => from + i).reduce((a, b) => a + b, 0),
  revisions: Array.from({ length: to - from + 1 }, (_, i) => from + i),
})

/** The snapshots stored for a stream, oldest first. */
const snapshots = async (log: Log, streamId = 's') => {
  const out: Array<{ v: number; r: number; b: number }> = []
  for await (const e of log.scan({ key: snapshotKey(streamId) })) {
    out.push(JSON.parse(TEXT.decode(e.value)) as { v: number; r: number; b: number })
  }
  return out
}

describe('aggregateStream with snapshot', () => {
  it('stores a snapshot once `every` events are folded past the last, and reads only the events after it', async () => {
    const { store, base, counts, folded: f, aggregate } = await setUp()
    await store.appendToStream('s', adds(0, 9))
    expect(await aggregate(store)).toEqual(folded(0, 8))
    // Nine events: no snapshot yet.
    expect(await snapshots(base)).toEqual([])
    await store.appendToStream('s', adds(9, 1))
    expect(await aggregate(store)).toEqual(folded(0, 9))
    expect(f.calls).toBe(10)
    expect(await snapshots(base)).toMatchObject([{ v: 1, r: 9, b: 0 }])
    // From the snapshot: no event read again.
    expect(await aggregate(store)).toEqual(folded(0, 9))
    expect(f.calls).toBe(0)
    await store.appendToStream('s', adds(10, 9))
    expect(await aggregate(store)).toEqual(folded(0, 18))
    expect(f.calls).toBe(9)
    expect(await snapshots(base)).toHaveLength(1)
    await store.appendToStream('s', adds(19, 1))
    expect(await aggregate(store)).toEqual(folded(0, 19))
    expect(f.calls).toBe(10)
    expect(counts.events).toBeLessThanOrEqual(10 + 20)
    expect(await snapshots(base)).toMatchObject([{ r: 9 }, { r: 19 }])
    expect(await aggregate(store)).toEqual(folded(0, 19))
    expect(f.calls).toBe(0)
    // Without `snapshot`, the same fold reads every event.
    const plain = await store.aggregateStream('s', {
      initialState: 0,
      evolve: (n: number) => n + 1,
    })
    expect(plain).toBe(20)
  })

  it('ignores a snapshot of another version, and the next one written replaces it', async () => {
    const { store, base, folded: f, aggregate } = await setUp()
    await store.appendToStream('s', adds(0, 12))
    await aggregate(store, { every: 10, version: 1 })
    expect(await aggregate(store, { every: 10, version: 2 })).toEqual(folded(0, 11))
    expect(f.calls).toBe(12)
    expect(await snapshots(base)).toMatchObject([{ v: 1 }, { v: 2, r: 11 }])
    expect(await aggregate(store, { every: 10, version: 2 })).toEqual(folded(0, 11))
    expect(f.calls).toBe(0)
    // Version 1's snapshot is no longer the newest: version 1 folds afresh.
    expect(await aggregate(store, { every: 100, version: 1 })).toEqual(folded(0, 11))
    expect(f.calls).toBe(12)
  })

  it('folds the visible events afresh once the stream was deleted after its snapshot', async () => {
    const { store, base, folded: f, aggregate } = await setUp()
    await store.appendToStream('s', adds(0, 12))
    await aggregate(store)
    await store.deleteStream('s')
    expect(await aggregate(store)).toEqual({ n: 0, revisions: [] })
    await store.appendToStream('s', adds(12, 3))
    expect(await aggregate(store)).toEqual(folded(12, 14))
    expect(f.calls).toBe(3)
    await store.appendToStream('s', adds(15, 7))
    expect(await aggregate(store)).toEqual(folded(12, 21))
    expect(await snapshots(base)).toMatchObject([
      { r: 11, b: 0 },
      { r: 21, b: 12 },
    ])
    expect(await aggregate(store)).toEqual(folded(12, 21))
    expect(f.calls).toBe(0)
  })

  it('never mixes a snapshot with the events of a delete that commits during the fold', async () => {
    const base = await openLog({ storage: await openMemoryStorage() })
    let during: (() => Promise<void>) | undefined
    // The delete commits while the fold reads the snapshot: after it has read the stream's state.
    const log: Log = {
      ...base,
      scan: (options) => {
        const inner = base.scan(options)
        const action = options?.key === snapshotKey('s') ? during : undefined
        if (action === undefined) return inner
        during = undefined
        return (async function* () {
          await action()
          yield* inner
        })()
      },
    }
    const store = await openEventStore({ log })
    cleanup.push(async () => {
      await store.close()
      await base.close()
    })
    const fold = () =>
      store.aggregateStream('s', {
        initialState: [] as number[],
        evolve: (s: number[], e: ReadEvent) => [...s, e.revision],
        snapshot: { every: 5, version: 1 },
      })
    await store.appendToStream('s', adds(0, 6))
    expect(await fold()).toEqual([0, 1, 2, 3, 4, 5])
    await store.appendToStream('s', adds(6, 2))
    during = async () => {
      await store.deleteStream('s')
      await store.appendToStream('s', adds(8, 2))
    }
    // Either the stream as before the delete, or as after it: not the snapshot's events and the new.
    expect([
      [0, 1, 2, 3, 4, 5, 6, 7],
      [8, 9],
    ]).toContainEqual(await fold())
    expect(during).toBeUndefined()
    expect(await fold()).toEqual([8, 9])
  })

  it('needs a state that is JSON, from the first fold on', async () => {
    const { store, base } = await setUp()
    await store.appendToStream('s', adds(0, 3))
    const fold = (initialState: unknown, evolve: (s: unknown) => unknown, every = 2) =>
      store.aggregateStream('s', {
        initialState,
        evolve: (s) => evolve(s),
        snapshot: { every, version: 1 },
      })
    const refused = async (promise: Promise<unknown>, field: string) => {
      const error = await promise.catch((e: unknown) => e)
      expect(error).toBeInstanceOf(DeltalogError)
      expect((error as DeltalogError).error).toMatchObject({ code: 'INVALID_ARGUMENT', field })
    }
    for (const bad of [new Map(), { n: Number.NaN }, { at: new Date(0) }, () => 1, undefined]) {
      // A state that turns into one that is not JSON: refused when it would be stored.
      await refused(
        fold(0, () => bad),
        'options.snapshot',
      )
      // One that starts so: refused at once, however few events the stream has.
      await refused(
        fold(bad, (s) => s, 100),
        'options.initialState',
      )
    }
    expect(await snapshots(base)).toEqual([])
  })

  it('refuses a state too large for the log, failing no append that shares its commit', async () => {
    const base = await openLog({ storage: await openMemoryStorage(), maxValueBytes: 2000 })
    const store = await openEventStore({ log: base })
    cleanup.push(async () => {
      await store.close()
      await base.close()
    })
    await store.appendToStream('s', adds(0, 3))
    const [snapshot, other] = await Promise.allSettled([
      store.aggregateStream('s', {
        initialState: '',
        evolve: (s: string) => s + 'x'.repeat(1000),
        snapshot: { every: 2, version: 1 },
      }),
      store.appendToStream('t', adds(0, 1)),
    ])
    expect(other?.status).toBe('fulfilled')
    expect(snapshot?.status).toBe('rejected')
    const error = (snapshot as PromiseRejectedResult).reason as DeltalogError
    expect(error.error).toMatchObject({ code: 'INVALID_ARGUMENT', field: 'options.snapshot' })
    expect(error.message).toMatch(/maxValueBytes is 2000/)
    expect(await snapshots(base)).toEqual([])
  })

  it.each([
    [{ every: 0, version: 1 }, 'options.snapshot.every'],
    [{ every: 1.5, version: 1 }, 'options.snapshot.every'],
    [{ version: 1 }, 'options.snapshot.every'],
    [{ every: 10 }, 'options.snapshot.version'],
    [{ every: 10, version: 0 }, 'options.snapshot.version'],
    [{ every: 10, version: 1, other: true }, 'options.snapshot.other'],
    [10, 'options.snapshot'],
  ])('refuses the options %j with INVALID_ARGUMENT naming %s', async (snapshot, field) => {
    const { store, aggregate } = await setUp()
    await store.appendToStream('s', adds(0, 3))
    const error = await aggregate(store, snapshot).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(DeltalogError)
    expect((error as DeltalogError).error).toMatchObject({ code: 'INVALID_ARGUMENT', field })
  })

  it('from a read-only store: reads the snapshots, writes none', async () => {
    const { storage, store, base, folded: f, aggregate } = await setUp()
    await store.appendToStream('s', adds(0, 10))
    await aggregate(store)
    await store.appendToStream('s', adds(10, 15))
    const reader = await openEventStore({ storage, readOnly: true })
    cleanup.push(() => reader.close())
    const writes = storage.writes.length
    expect(await aggregate(reader)).toEqual(folded(0, 24))
    expect(f.calls).toBe(15)
    expect(storage.writes.length).toBe(writes)
    expect(await snapshots(base)).toHaveLength(1)
    expect(await code(aggregate(reader, { every: 0, version: 1 }))).toBe('INVALID_ARGUMENT')
  })

  it('of 100,000 events with snapshots every 1,000 reads at most about 1,000 events', async () => {
    const { store, counts, folded: f } = await setUp()
    const count = () => {
      f.calls = 0
      counts.events = 0
      return store.aggregateStream('big', {
        initialState: 0,
        evolve: (n: number) => {
          f.calls++
          return n + 1
        },
        snapshot: { every: 1000, version: 1 },
      })
    }
    for (let i = 0; i < 100; i++) await store.appendToStream('big', adds(0, 1000))
    // The first fold reads every event, and stores its snapshot.
    expect(await count()).toBe(100_000)
    await store.appendToStream('big', adds(0, 999))
    expect(await count()).toBe(100_999)
    expect(f.calls).toBe(999)
    // The events after the snapshot, and the few the bisection to the first of them reads.
    expect(counts.events).toBeLessThanOrEqual(1050)
    await store.appendToStream('big', adds(0, 1))
    expect(await count()).toBe(101_000)
    expect(f.calls).toBe(1000)
    expect(await count()).toBe(101_000)
    expect(f.calls).toBe(0)
    expect(counts.events).toBeLessThanOrEqual(50)
  }, 60_000)
})
