// Event stores opened with readOnly: true beside a writer on the same store. On memory, a reader
// and a writer share one storage, which tells the reader of commits when the test says so (as
// PostgreSQL's NOTIFY does between processes); on RocksDB, a reader opened on a writer's
// directory sees the directory as it was when it opened.
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import {
  openEventStore,
  type EventStore,
  type ReadEvent,
  type SubscriptionMessage,
} from '../../src/eventstore/store.js'
import { openLog } from '../../src/openLog.js'
import { openMemoryStorage } from '../../src/storage/memory.js'
import { instrument, reopenableMemory, watchable } from '../log/storages.js'
import { code } from '../support/codes.js'
import { makeTempDir, removeDir } from '../support/tmpdir.js'

const cleanup: Array<() => Promise<void>> = []
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f()
})

const opened = async (options: Parameters<typeof openEventStore>[0]): Promise<EventStore> => {
  const store = await openEventStore(options)
  cleanup.push(() => store.close())
  return store
}

/** One memory storage that records its writes and tells readers of a change on `notify()`. */
const sharedMemory = async () => watchable(instrument(await openMemoryStorage()))

const collect = async <A>(it: AsyncIterable<A>): Promise<A[]> => {
  const out: A[] = []
  for await (const x of it) out.push(x)
  return out
}
const brief = (e: ReadEvent): string => `${e.streamId}#${e.revision}:${e.type}`
const events = (...types: string[]) => types.map((type) => ({ type, data: { type } }))

/** The messages of a subscription, as they come; `until(n)` waits for the n-th. */
const gather = (subscription: AsyncIterableIterator<SubscriptionMessage>) => {
  const seen: string[] = []
  const done = (async () => {
    for await (const m of subscription) seen.push(m.type === 'event' ? brief(m.event) : m.type)
  })()
  const until = async (n: number): Promise<string[]> => {
    for (let i = 0; seen.length < n; i++) {
      if (i > 500) throw new Error(`only ${JSON.stringify(seen)}`)
      await new Promise((r) => setTimeout(r, 5))
    }
    return seen
  }
  return { seen, done, until }
}

describe('openEventStore({ storage, readOnly: true })', () => {
  it('reads what the writer wrote, and refuses every write with READ_ONLY before it is queued', async () => {
    const storage = await sharedMemory()
    const writer = await opened({ storage })
    await writer.appendToStream('a', events('A0', 'A1'))
    await writer.appendToStream('b', events('B0'))
    await writer.checkpoints.save('projection', 1)
    const reader = await opened({ storage, readOnly: true })
    expect((await collect(reader.readStream('a'))).map(brief)).toEqual(['a#0:A0', 'a#1:A1'])
    expect((await collect(reader.readAll())).map(brief)).toEqual(['a#0:A0', 'a#1:A1', 'b#0:B0'])
    const count = await reader.aggregateStream('a', { initialState: 0, evolve: (n) => n + 1 })
    expect(count).toBe(2)
    expect(await reader.checkpoints.load('projection')).toBe(1)

    const writes = storage.writes.length
    // An expectation that does not hold, or an id already used, is not even looked at.
    expect(await code(reader.appendToStream('a', events('X'), { expectedRevision: 7 }))).toBe(
      'READ_ONLY',
    )
    expect(await code(reader.appendToStream('c', events('X')))).toBe('READ_ONLY')
    expect(
      await code(reader.appendMulti([{ streamId: 'a', events: events('X'), expectedRevision: 1 }])),
    ).toBe('READ_ONLY')
    expect(await code(reader.deleteStream('a'))).toBe('READ_ONLY')
    expect(await code(reader.checkpoints.save('projection', 2))).toBe('READ_ONLY')
    // Bad input is still named as such.
    expect(await code(reader.appendToStream('', events('X')))).toBe('INVALID_ARGUMENT')
    expect(storage.writes.length).toBe(writes)
    // The writer is unaffected: its next append is the stream's next revision.
    expect(await writer.appendToStream('a', events('A2'), { expectedRevision: 1 })).toMatchObject({
      nextExpectedRevision: 2,
    })
    await reader.close()
    expect(await code(reader.appendToStream('a', events('X')))).toBe('CLOSED')
  })

  it("keeps no stream state: a writer's delete after the reader read the stream hides its events on the next read", async () => {
    const storage = await sharedMemory()
    const writer = await opened({ storage })
    await writer.appendToStream('a', events('A0', 'A1'))
    await writer.appendToStream('b', events('B0'))
    const reader = await opened({ storage, readOnly: true })
    expect((await collect(reader.readStream('a'))).map(brief)).toEqual(['a#0:A0', 'a#1:A1'])
    expect((await collect(reader.readAll())).map(brief)).toEqual(['a#0:A0', 'a#1:A1', 'b#0:B0'])
    // The writer deletes the stream; the reader has not been told of it yet.
    await writer.deleteStream('a')
    expect(await collect(reader.readStream('a'))).toEqual([])
    expect((await collect(reader.readAll())).map(brief)).toEqual(['b#0:B0'])
    const count = await reader.aggregateStream('a', { initialState: 0, evolve: (n) => n + 1 })
    expect(count).toBe(0)
    // The stream continues after its delete, as the writer sees it.
    await writer.appendToStream('a', events('A2'))
    expect((await collect(reader.readStream('a'))).map(brief)).toEqual(['a#2:A2'])
  })

  it("delivers the writer's later commits to subscriptions, each once, in order, woken by the storage", async () => {
    const storage = await sharedMemory()
    const writer = await opened({ storage })
    await writer.appendToStream('a', events('A0'))
    const reader = await opened({ storage, readOnly: true })
    const all = gather(reader.subscribeToAll())
    const a = gather(reader.subscribeToStream('a'))
    expect(await all.until(2)).toEqual(['a#0:A0', 'caughtUp'])
    expect(await a.until(2)).toEqual(['a#0:A0', 'caughtUp'])
    await writer.appendToStream('a', events('A1'))
    await writer.appendMulti([
      { streamId: 'b', events: events('B0') },
      { streamId: 'a', events: events('A2') },
    ])
    storage.notify()
    await writer.appendToStream('b', events('B1'))
    storage.notify()
    expect(await all.until(6)).toEqual([
      'a#0:A0',
      'caughtUp',
      'a#1:A1',
      'b#0:B0',
      'a#2:A2',
      'b#1:B1',
    ])
    expect(await a.until(4)).toEqual(['a#0:A0', 'caughtUp', 'a#1:A1', 'a#2:A2'])
    await reader.close()
    await Promise.all([all.done, a.done])
    expect(all.seen).toHaveLength(6)
    expect(a.seen).toHaveLength(4)
  })

  it('forgets stream states in a subscription once its log moves: a delete it learns of hides what it hid', async () => {
    const storage = await sharedMemory()
    const writer = await opened({ storage })
    await writer.appendToStream('a', events('A0'))
    const reader = await opened({ storage, readOnly: true })
    const all = gather(reader.subscribeToAll())
    expect(await all.until(2)).toEqual(['a#0:A0', 'caughtUp'])
    // Three commits, told of together: the event a delete hid before the reader woke stays hidden,
    // as it does for a subscription in the writer's process that wakes at that moment.
    await writer.appendToStream('a', events('A1'))
    await writer.deleteStream('a')
    await writer.appendToStream('b', events('B0'))
    storage.notify()
    expect(await all.until(3)).toEqual(['a#0:A0', 'caughtUp', 'b#0:B0'])
  })

  it('opens an empty store, writing nothing, and follows what its writer then writes', async () => {
    const storage = await sharedMemory()
    const reader = await opened({ storage, readOnly: true })
    expect(await collect(reader.readAll())).toEqual([])
    expect(await collect(reader.readStream('a'))).toEqual([])
    expect(storage.writes).toEqual([])
    const all = gather(reader.subscribeToAll())
    expect(await all.until(1)).toEqual(['caughtUp'])
    const writer = await opened({ storage })
    await writer.appendToStream('a', events('A0'))
    storage.notify()
    expect(await all.until(2)).toEqual(['caughtUp', 'a#0:A0'])
  })

  it("is NOT_A_LOG on a log that holds entries but no store's marker, and writes nothing", async () => {
    const memory = reopenableMemory()
    const log = await openLog({ storage: memory.open() })
    await log.append([{ key: 'other', value: 'x' }])
    await log.close()
    const storage = instrument(memory.open())
    expect(await code(openEventStore({ storage, readOnly: true }))).toBe('NOT_A_LOG')
    expect(storage.writes).toEqual([])
  })

  it('reads a log given open (log) without writing to it, not even the marker', async () => {
    const log = await openLog({ storage: await openMemoryStorage() })
    cleanup.push(() => log.close())
    const empty = await opened({ log, readOnly: true })
    expect(await collect(log.scan())).toEqual([])
    expect(await code(empty.appendToStream('a', events('X')))).toBe('READ_ONLY')
    expect(log.nextSequence()).toBe(0)
    await empty.close()
    const writer = await opened({ log })
    await writer.appendToStream('a', events('A0'))
    const reader = await opened({ log, readOnly: true })
    expect((await collect(reader.readStream('a'))).map(brief)).toEqual(['a#0:A0'])
    await writer.deleteStream('a')
    expect(await collect(reader.readStream('a'))).toEqual([])
    await reader.close()
    // The log stays open, and the writer with it.
    await writer.appendToStream('a', events('A1'))
  })
})

describe('openEventStore({ path, readOnly: true })', () => {
  let dir = ''
  afterEach(() => removeDir(dir))

  it('sees the directory as it was when it opened: later commits need a new open', async () => {
    dir = await makeTempDir('event-store-reader')
    const path = join(dir, 'store')
    // Buffered: the reader sees commits that reached the write-ahead log, synced or not.
    const writer = await opened({ path, durability: 'buffered' })
    await writer.appendToStream('a', events('A0', 'A1'))
    const reader = await opened({ path, readOnly: true })
    const all = gather(reader.subscribeToAll())
    expect(await all.until(3)).toEqual(['a#0:A0', 'a#1:A1', 'caughtUp'])
    const end = reader.log.nextSequence()
    await writer.appendToStream('a', events('A2'))
    await writer.deleteStream('a')
    await writer.appendToStream('b', events('B0'))
    // The reader's reads and its subscription stay where the directory was when it opened.
    expect((await collect(reader.readStream('a'))).map(brief)).toEqual(['a#0:A0', 'a#1:A1'])
    expect((await collect(reader.readAll())).map(brief)).toEqual(['a#0:A0', 'a#1:A1'])
    await new Promise((r) => setTimeout(r, 50))
    expect(all.seen).toEqual(['a#0:A0', 'a#1:A1', 'caughtUp'])
    expect(reader.log.nextSequence()).toBe(end)
    expect(await code(reader.appendToStream('a', events('X')))).toBe('READ_ONLY')
    // The subscription ends when the store closes; a new open sees the writer's commits.
    await reader.close()
    await all.done
    const again = await opened({ path, readOnly: true })
    expect((await collect(again.readAll())).map(brief)).toEqual(['b#0:B0'])
  })

  it('creates nothing: a missing directory is NOT_A_LOG', async () => {
    dir = await makeTempDir('event-store-reader')
    expect(await code(openEventStore({ path: join(dir, 'missing'), readOnly: true }))).toBe(
      'NOT_A_LOG',
    )
    expect(
      await code(
        openEventStore({ path: join(dir, 'store'), readOnly: true, directoryMode: 0o700 }),
      ),
    ).toBe('INVALID_ARGUMENT')
  })
})
