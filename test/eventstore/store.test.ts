import { join } from 'node:path'
import * as t from 'io-ts'
import { afterEach, describe, expect, it, vi } from 'vitest'
import type { DeltalogError } from '../../src/errors.js'
import {
  openEventStore,
  type EventStore,
  type ReadEvent,
  type SubscriptionMessage,
} from '../../src/eventstore/store.js'
import { openLog } from '../../src/openLog.js'
import { openMemoryStorage } from '../../src/storage/memory.js'
import { openCrashStorage } from '../../src/testing/crashStorage.js'
import { instrument, interrupting, reopenableMemory } from '../log/storages.js'
import { code } from '../support/codes.js'
import { makeTempDir, removeDir } from '../support/tmpdir.js'

const cleanup: Array<() => Promise<void>> = []
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f()
})

const memoryStore = async (options: Record<string, unknown> = {}): Promise<EventStore> => {
  const store = await openEventStore({ storage: await openMemoryStorage(), ...options })
  cleanup.push(() => store.close())
  return store
}

const collect = async <A>(it: AsyncIterable<A>): Promise<A[]> => {
  const out: A[] = []
  for await (const x of it) out.push(x)
  return out
}
const brief = (e: ReadEvent): string => `${e.streamId}#${e.revision}:${e.type}`
const tick = (ms = 10): Promise<void> => new Promise((r) => setTimeout(r, ms))

describe('appending and reading', () => {
  it('assigns dense revisions from 0 and increasing positions, and reads events back whole', async () => {
    const store = await memoryStore()
    const first = await store.appendToStream(
      'order-42',
      [
        { type: 'OrderPlaced', data: { total: 10 }, metadata: { correlationId: 'c1' }, id: 'e-1' },
        { type: 'ItemAdded', data: { sku: 'x' } },
      ],
      { expectedRevision: 'no_stream' },
    )
    expect(first.nextExpectedRevision).toBe(1)
    const second = await store.appendToStream('order-42', [{ type: 'Paid' }], {
      expectedRevision: 1,
    })
    expect(second.nextExpectedRevision).toBe(2)
    expect(second.position).toBeGreaterThan(first.position)
    const events = await collect(store.readStream('order-42'))
    expect(events.map((e) => e.revision)).toEqual([0, 1, 2])
    const [placed] = events
    expect(placed).toMatchObject({
      streamId: 'order-42',
      type: 'OrderPlaced',
      data: { total: 10 },
      metadata: { correlationId: 'c1' },
      id: 'e-1',
    })
    expect(placed?.recordedAt).toBeInstanceOf(Date)
    expect(events[1]?.id).toMatch(/^[0-9a-f-]{36}$/)
    expect(events[2]?.position).toBe(second.position)
  })

  it('reads a range of revisions, in reverse, and with a limit', async () => {
    const store = await memoryStore()
    for (let i = 0; i < 10; i++) {
      await store.appendToStream('s', [{ type: `E${i}` }])
      await store.appendToStream('other', [{ type: 'noise' }])
    }
    const revisions = async (o: Parameters<EventStore['readStream']>[1]) =>
      (await collect(store.readStream('s', o))).map((e) => e.revision)
    expect(await revisions({ from: 7 })).toEqual([7, 8, 9])
    expect(await revisions({ after: 7 })).toEqual([8, 9])
    expect(await revisions({ from: 3, limit: 2 })).toEqual([3, 4])
    expect(await revisions({ from: 3, to: 6 })).toEqual([3, 4, 5])
    expect(await revisions({ reverse: true, limit: 3 })).toEqual([9, 8, 7])
    expect(await revisions({ reverse: true, to: 3 })).toEqual([2, 1, 0])
    expect(await revisions({ reverse: true, after: 6 })).toEqual([9, 8, 7])
    expect(await revisions({ from: 10 })).toEqual([])
    expect(await collect(store.readStream('missing'))).toEqual([])
  })

  it('reads all streams in position order, in reverse, with filters', async () => {
    const store = await memoryStore()
    await store.appendToStream('order-1', [{ type: 'Placed' }])
    await store.appendToStream('cart-1', [{ type: 'Added' }])
    await store.appendToStream('order-2', [{ type: 'Placed' }, { type: 'Paid' }])
    const all = await collect(store.readAll())
    expect(all.map(brief)).toEqual([
      'order-1#0:Placed',
      'cart-1#0:Added',
      'order-2#0:Placed',
      'order-2#1:Paid',
    ])
    expect((await collect(store.readAll({ reverse: true, limit: 2 }))).map(brief)).toEqual([
      'order-2#1:Paid',
      'order-2#0:Placed',
    ])
    expect(
      (
        await collect(store.readAll({ filter: { streamPrefix: 'order-', eventTypes: ['Placed'] } }))
      ).map(brief),
    ).toEqual(['order-1#0:Placed', 'order-2#0:Placed'])
    const from = all[2]?.position ?? 0
    expect((await collect(store.readAll({ from }))).map(brief)).toEqual([
      'order-2#0:Placed',
      'order-2#1:Paid',
    ])
    expect((await collect(store.readAll({ after: from }))).map(brief)).toEqual(['order-2#1:Paid'])
    expect((await collect(store.readAll({ to: from + 1, reverse: true }))).map(brief)).toEqual([
      'order-2#0:Placed',
      'cart-1#0:Added',
      'order-1#0:Placed',
    ])
  })

  it('aggregates a stream with evolve', async () => {
    const store = await memoryStore()
    await store.appendToStream('acct', [
      { type: 'Deposited', data: { amount: 50 } },
      { type: 'Withdrawn', data: { amount: 20 } },
      { type: 'Deposited', data: { amount: 5 } },
    ])
    const balance = await store.aggregateStream('acct', {
      initialState: 0,
      evolve: (total: number, e) =>
        total + (e.type === 'Deposited' ? 1 : -1) * (e.data as { amount: number }).amount,
    })
    expect(balance).toBe(35)
  })

  it('takes every caller a commit settled into the next one when they append again at once', async () => {
    const storage = instrument(await openMemoryStorage())
    storage.writeDelayMs = 2
    const store = await openEventStore({ storage, durability: 'sync' })
    cleanup.push(() => store.close())
    const before = storage.writes.length
    // 64 producers, each appending four times in a row to its own stream: four commits, and
    // one more for the very first append, which starts a commit before the others queue.
    await Promise.all(
      Array.from({ length: 64 }, async (_, p) => {
        for (let i = 0; i < 4; i++) {
          await store.appendToStream(`p-${p}`, [{ type: 'E' }], {
            expectedRevision: i === 0 ? 'no_stream' : i - 1,
          })
        }
      }),
    )
    expect(storage.writes.length - before).toBeLessThanOrEqual(5)
  })

  it('commits concurrent appends to many streams in far fewer log writes', async () => {
    const storage = instrument(await openMemoryStorage())
    storage.writeDelayMs = 5
    const store = await openEventStore({ storage })
    cleanup.push(() => store.close())
    const before = storage.writes.length
    const results = await Promise.all(
      Array.from({ length: 100 }, (_, i) => store.appendToStream(`s-${i % 10}`, [{ type: 'E' }])),
    )
    expect(storage.writes.length - before).toBeLessThan(20)
    expect(new Set(results.map((r) => r.position)).size).toBe(100)
    for (let s = 0; s < 10; s++) {
      expect((await collect(store.readStream(`s-${s}`))).map((e) => e.revision)).toEqual(
        Array.from({ length: 10 }, (_, i) => i),
      )
    }
  })
})

describe('optimistic concurrency', () => {
  it('rejects a wrong expectation with expected and actual, writing nothing', async () => {
    const store = await memoryStore()
    await store.appendToStream('s', [{ type: 'A' }])
    const attempts: Array<[Parameters<EventStore['appendToStream']>[2], unknown]> = [
      [{ expectedRevision: 'no_stream' }, 0],
      [{ expectedRevision: 3 }, 0],
    ]
    for (const [options, actual] of attempts) {
      try {
        await store.appendToStream('s', [{ type: 'B' }], options)
        throw new Error('expected a rejection')
      } catch (error) {
        expect(error).toMatchObject({ code: 'WRONG_EXPECTED_REVISION' })
        expect((error as DeltalogError).error).toMatchObject({
          streamId: 's',
          expected: options?.expectedRevision,
          actual,
        })
      }
    }
    expect(
      await code(
        store.appendToStream('new', [{ type: 'A' }], { expectedRevision: 'stream_exists' }),
      ),
    ).toBe('WRONG_EXPECTED_REVISION')
    expect((await collect(store.readAll())).map(brief)).toEqual(['s#0:A'])
  })

  it('lets exactly one of many concurrent writers with the same expectation win', async () => {
    const store = await memoryStore()
    await store.appendToStream('s', [{ type: 'A' }])
    const results = await Promise.allSettled(
      Array.from({ length: 8 }, (_, i) =>
        store.appendToStream('s', [{ type: `W${i}` }], { expectedRevision: 0 }),
      ),
    )
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1)
    expect(await collect(store.readStream('s'))).toHaveLength(2)
  })

  it('appends to several streams atomically: all or nothing', async () => {
    const store = await memoryStore()
    await store.appendToStream('b', [{ type: 'B0' }])
    expect(
      await code(
        store.appendMulti([
          { streamId: 'a', events: [{ type: 'A0' }], expectedRevision: 'no_stream' },
          { streamId: 'b', events: [{ type: 'B1' }], expectedRevision: 'no_stream' },
        ]),
      ),
    ).toBe('WRONG_EXPECTED_REVISION')
    expect(await collect(store.readStream('a'))).toEqual([])
    const results = await store.appendMulti([
      { streamId: 'a', events: [{ type: 'A0' }], expectedRevision: 'no_stream' },
      { streamId: 'b', events: [{ type: 'B1' }, { type: 'B2' }], expectedRevision: 0 },
    ])
    expect(results.map((r) => r.nextExpectedRevision)).toEqual([0, 2])
  })
})

describe('idempotent retries', () => {
  it('returns the original result for a retry and writes nothing', async () => {
    const store = await memoryStore()
    const events = [
      { type: 'A', id: 'id-1' },
      { type: 'B', id: 'id-2' },
    ]
    const original = await store.appendToStream('s', events, { expectedRevision: 'no_stream' })
    await store.appendToStream('s', [{ type: 'C' }])
    const retry = await store.appendToStream('s', events, { expectedRevision: 'no_stream' })
    expect(retry).toEqual(original)
    expect((await collect(store.readStream('s'))).map((e) => e.type)).toEqual(['A', 'B', 'C'])
  })

  it('refuses an id used by another event with EVENT_ID_CONFLICT', async () => {
    const store = await memoryStore()
    await store.appendToStream('s', [{ type: 'A', id: 'id-1' }])
    expect(await code(store.appendToStream('t', [{ type: 'A', id: 'id-1' }]))).toBe(
      'EVENT_ID_CONFLICT',
    )
    expect(
      await code(
        store.appendToStream('s', [
          { type: 'A', id: 'id-1' },
          { type: 'B', id: 'id-9' },
        ]),
      ),
    ).toBe('EVENT_ID_CONFLICT')
    expect(
      await code(
        store.appendToStream('u', [
          { type: 'A', id: 'x' },
          { type: 'B', id: 'x' },
        ]),
      ),
    ).toBe('EVENT_ID_CONFLICT')
    expect(await collect(store.readAll())).toHaveLength(1)
  })
})

describe('validation', () => {
  it.each([
    [[], 'events'],
    [[{ type: '' }], 'events[0].type'],
    [[{ type: 'A', data: () => 1 }], 'events[0].data'],
    [[{ type: 'A', data: new Date() }], 'events[0].data'],
    [[{ type: 'A', metadata: Number.NaN }], 'events[0].metadata'],
    [[{ type: 'A', colour: 'red' }], 'events[0].colour'],
    [[{ type: 'A', id: 5 }], 'events[0].id'],
  ])('rejects events %j naming %s, writing nothing', async (events, field) => {
    const store = await memoryStore()
    await expect(store.appendToStream('s', events as never)).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: expect.stringContaining(field) as unknown,
    })
    expect(await collect(store.readAll())).toEqual([])
  })

  it('rejects a bad stream id, expectation and options', async () => {
    const store = await memoryStore()
    expect(await code(store.appendToStream('', [{ type: 'A' }]))).toBe('INVALID_ARGUMENT')
    expect(await code(store.appendToStream('s', [{ type: 'A' }], { expectedRevision: -1 }))).toBe(
      'INVALID_ARGUMENT',
    )
    expect(
      await code(
        store.appendToStream('s', [{ type: 'A' }], { expectedRevision: 'maybe' as never }),
      ),
    ).toBe('INVALID_ARGUMENT')
    expect(await code(collect(store.readStream('s', { direction: 'sideways' } as never)))).toBe(
      'INVALID_ARGUMENT',
    )
    expect(await code(collect(store.readAll({ maxCount: -2 } as never)))).toBe('INVALID_ARGUMENT')
    await expect(collect(store.readStream('s', { reverse: 'yes' as never }))).rejects.toThrow(
      'options.reverse: must be boolean',
    )
    await expect(collect(store.readAll({ limit: -2 }))).rejects.toThrow(
      'options.limit: must be non-negative safe integer',
    )
    await expect(collect(store.readAll({ signal: 'stop' as never }))).rejects.toThrow(
      'options.signal: must be AbortSignal',
    )
    expect(await code(openEventStore({ path: 'x', storage: await openMemoryStorage() }))).toBe(
      'INVALID_ARGUMENT',
    )
    expect(
      await code(openEventStore({ storage: await openMemoryStorage(), extra: 1 } as never)),
    ).toBe('INVALID_ARGUMENT')
  })

  it('names the field of an event too large for the log, and fails only its own append', async () => {
    const log = await openLog({ storage: await openMemoryStorage(), maxValueBytes: 2000 })
    const store = await openEventStore({ log })
    cleanup.push(async () => {
      await store.close()
      await log.close()
    })
    const big = 'x'.repeat(3000)
    // The first append is in flight while the others queue: they make one batch, one commit.
    const first = store.appendToStream('first', [{ type: 'A' }])
    const [tooBig, kept, multi] = await Promise.allSettled([
      store.appendToStream('a', [{ type: 'Small' }, { type: 'Big', data: { big } }]),
      store.appendToStream('b', [{ type: 'Small' }]),
      store.appendMulti([
        { streamId: 'c', events: [{ type: 'A' }] },
        { streamId: 'd', events: [{ type: 'B', data: 1, metadata: big }] },
      ]),
    ])
    await first
    const stored = /^the stored event is \d+ bytes; maxValueBytes is 2000$/
    expect(tooBig).toMatchObject({
      status: 'rejected',
      reason: { code: 'INVALID_ARGUMENT', error: { field: 'events[1].data' } },
    })
    expect(multi).toMatchObject({
      status: 'rejected',
      reason: { code: 'INVALID_ARGUMENT', error: { field: 'writes[1].events[0].metadata' } },
    })
    for (const refused of [tooBig, multi]) {
      const reason = (refused as PromiseRejectedResult).reason as DeltalogError
      expect(reason.message.replace(/^[^:]*: /, '')).toMatch(stored)
    }
    expect(kept).toMatchObject({ status: 'fulfilled' })
    const streams = async (id: string): Promise<number> =>
      (await collect(store.readStream(id))).length
    expect([
      await streams('a'),
      await streams('b'),
      await streams('c'),
      await streams('d'),
    ]).toEqual([0, 1, 0, 0])
  })

  it('refuses ids that are not well-formed UTF-16, so two of them never become one stream', async () => {
    const store = await memoryStore()
    // Both would encode to 'x' + U+FFFD: one stream whose revisions went on across them.
    await expect(store.appendToStream('x\uD800', [{ type: 'A' }])).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      error: { field: 'streamId' },
      message: expect.stringContaining('lone surrogate') as unknown,
    })
    expect(await code(store.appendToStream('x\uDBFF', [{ type: 'A' }]))).toBe('INVALID_ARGUMENT')
    await expect(collect(store.readStream('\uDC00y'))).rejects.toMatchObject({
      error: { field: 'streamId' },
    })
    await expect(
      store.appendMulti([
        { streamId: 'ok', events: [{ type: 'A' }] },
        { streamId: '\uDC00y', events: [{ type: 'A' }] },
      ]),
    ).rejects.toMatchObject({ error: { field: 'writes[1].streamId' } })
    await expect(
      store.appendToStream('s', [{ type: 'A' }, { type: 'A', id: 'e\uD800' }]),
    ).rejects.toMatchObject({ error: { field: 'events[1].id' } })
    await expect(store.checkpoints.save('p\uD800', 0)).rejects.toMatchObject({
      error: { field: 'name' },
    })
    expect(await collect(store.readAll())).toEqual([])
    // A well-formed pair of surrogates is one code point and fine.
    await store.appendToStream('x\uD83D\uDE00', [{ type: 'A', id: '\uD83D\uDE00' }])
    expect((await collect(store.readAll())).map(brief)).toEqual(['x\u{1F600}#0:A'])
  })

  it('blames a long stream id or event id on itself, and fails no other append', async () => {
    const store = await memoryStore()
    const long = 'x'.repeat(5000)
    const good = store.appendToStream('s', [{ type: 'A' }])
    await expect(store.appendToStream(long, [{ type: 'A' }])).rejects.toThrow(
      'streamId: is 5000 bytes in UTF-8; at most 4094',
    )
    await expect(store.appendToStream('s', [{ type: 'A', id: long }])).rejects.toThrow(
      'events[0].id: is 5000 bytes in UTF-8; at most 4094',
    )
    await expect(
      store.appendMulti([{ streamId: `${long}é`, events: [{ type: 'A' }] }]),
    ).rejects.toThrow('writes[0].streamId: is 5002 bytes in UTF-8; at most 4094')
    await expect(
      store.appendToStream('s', [{ type: 'A' }], { checkpoint: { name: long, position: 0 } }),
    ).rejects.toMatchObject({ error: { field: 'options.checkpoint.name' } })
    // The append queued beside them committed.
    expect((await good).nextExpectedRevision).toBe(0)
    // The longest id fits the log's default key size with the store's prefix.
    const longest = 'y'.repeat(4094)
    await store.appendToStream(longest, [{ type: 'A', id: longest }])
    expect((await collect(store.readStream(longest))).map((e) => e.id)).toEqual([longest])
  })

  it('says which forms an expectedRevision takes', async () => {
    const store = await memoryStore()
    const forms = "must be 'any', 'no_stream', 'stream_exists' or a non-negative integer revision"
    for (const expectedRevision of ['maybe', -1, 1.5, 'NO_STREAM']) {
      await expect(
        store.appendToStream('s', [{ type: 'A' }], { expectedRevision } as never),
      ).rejects.toThrow(`options.expectedRevision: ${forms}`)
      await expect(
        store.appendMulti([{ streamId: 's', events: [{ type: 'A' }], expectedRevision } as never]),
      ).rejects.toThrow(`writes[0].expectedRevision: ${forms}`)
    }
  })

  it('checks data with io-ts codecs on append and decodes it on read', async () => {
    const DateFromNumber = new t.Type<Date, number, unknown>(
      'DateFromNumber',
      (u): u is Date => u instanceof Date,
      (u, c) => (typeof u === 'number' ? t.success(new Date(u)) : t.failure(u, c)),
      (d) => d.getTime(),
    )
    const codecs = { Scheduled: t.type({ at: DateFromNumber }) }
    const storage = await openMemoryStorage()
    const log = await openLog({ storage })
    const store = await openEventStore({ log, codecs })
    expect(
      await code(store.appendToStream('s', [{ type: 'Scheduled', data: { at: 'soon' } }])),
    ).toBe('INVALID_ARGUMENT')
    await store.appendToStream('s', [{ type: 'Scheduled', data: { at: 1000 } }])
    const [event] = await collect(store.readStream('s'))
    expect((event?.data as { at: Date }).at).toEqual(new Date(1000))
    // An event stored before the codec existed, that does not decode, fails the read.
    const plain = await openEventStore({ log })
    await plain.appendToStream('t', [{ type: 'Scheduled', data: { at: 'never' } }])
    expect(await code(collect(store.readStream('t')))).toBe('DECODE_FAILED')
    await store.close()
    await plain.close()
    // A store on a shared log leaves it open: the log still takes appends and reads.
    const after = await log.append([{ key: 'after-close', value: 'still open' }])
    expect(after.count).toBe(1)
    expect((await collect(log.scan({ key: 'after-close' }))).map((e) => e.sequence)).toEqual([
      after.startSequence,
    ])
    await log.close()
  })
})

describe('soft delete', () => {
  it('hides earlier events; the stream continues with later revisions', async () => {
    const store = await memoryStore()
    await store.appendToStream('s', [{ type: 'A' }, { type: 'B' }])
    await store.deleteStream('s')
    expect(await collect(store.readStream('s'))).toEqual([])
    expect((await collect(store.readAll())).length).toBe(0)
    expect(await code(store.appendToStream('s', [{ type: 'X' }], { expectedRevision: 1 }))).toBe(
      'WRONG_EXPECTED_REVISION',
    )
    const next = await store.appendToStream('s', [{ type: 'C' }], { expectedRevision: 'no_stream' })
    expect(next.nextExpectedRevision).toBe(2)
    expect((await collect(store.readStream('s'))).map(brief)).toEqual(['s#2:C'])
    expect((await collect(store.readStream('s', { reverse: true }))).map(brief)).toEqual(['s#2:C'])
    // Deleting a stream that does not exist is harmless.
    await store.deleteStream('never')
  })
})

describe('stream states read while a commit lands', () => {
  it('are not kept when the commit changed them: the next append is decided on the new state', async () => {
    const memory = reopenableMemory()
    const before = await openEventStore({ storage: memory.open() })
    await before.appendToStream('s', [{ type: 'A' }])
    await before.close()
    // Reopened, the store knows no stream's state: a read loads it from the log, and an
    // append commits while it does.
    const storage = interrupting(memory.open())
    const store = await openEventStore({ storage })
    cleanup.push(() => store.close())
    storage.duringNextStep(() => store.appendToStream('s', [{ type: 'B' }]))
    await collect(store.readStream('s'))
    expect(storage.armed()).toBe(false)
    const next = await store.appendToStream('s', [{ type: 'C' }])
    expect(next.nextExpectedRevision).toBe(2)
    expect((await collect(store.readStream('s'))).map(brief)).toEqual(['s#0:A', 's#1:B', 's#2:C'])
  })
})

describe('a write that landed but was reported failed', () => {
  it('leaves no stale stream state: reads show the delete that landed', async () => {
    const storage = await openCrashStorage()
    const store = await openEventStore({ storage })
    cleanup.push(() => store.close())
    await store.appendToStream('s', [{ type: 'A' }, { type: 'B' }])
    expect((await collect(store.readStream('s'))).map(brief)).toEqual(['s#0:A', 's#1:B'])
    storage.failNext('ack')
    expect(await code(store.deleteStream('s'))).toBe('IO_ERROR')
    // The delete is in storage: reads go by what storage holds, as a reopened store would.
    expect(await collect(store.readStream('s'))).toEqual([])
    expect(await collect(store.readAll())).toEqual([])
    // The log's writer stopped: what it holds is no longer known for sure.
    expect(await code(store.appendToStream('t', [{ type: 'C' }]))).toBe('WRITER_FAILED')
  })

  it('leaves no stale stream state from a read that loaded it while the delete landed', async () => {
    const storage = interrupting(await openCrashStorage())
    const log = await openLog({ storage })
    cleanup.push(() => log.close())
    const before = await openEventStore({ log })
    await before.appendToStream('s', [{ type: 'A' }, { type: 'B' }])
    await before.close()
    // A new store on the log knows no stream's state: a read loads it, and the delete lands
    // (reported failed) while it does.
    const store = await openEventStore({ log })
    cleanup.push(() => store.close())
    let deleted = ''
    storage.duringNextStep(async () => {
      storage.failNext('ack')
      deleted = await code(store.deleteStream('s'))
    })
    await collect(store.readStream('s'))
    expect(deleted).toBe('IO_ERROR')
    expect(await collect(store.readStream('s'))).toEqual([])
  })
})

describe('checkpoints', () => {
  it('saves and loads positions; refuses one past the head', async () => {
    const store = await memoryStore()
    expect(await store.checkpoints.load('p')).toBeUndefined()
    const r = await store.appendToStream('s', [{ type: 'A' }])
    await store.checkpoints.save('p', r.position)
    expect(await store.checkpoints.load('p')).toBe(r.position)
    expect(await code(store.checkpoints.save('p', r.position + 1000))).toBe('INVALID_ARGUMENT')
    expect(await code(store.checkpoints.save('', 0))).toBe('INVALID_ARGUMENT')
  })

  it('refuses a checkpoint at the next sequence, alone or with an append, and takes the last one', async () => {
    const store = await memoryStore()
    await store.appendToStream('s', [{ type: 'A' }])
    const head = store.log.nextSequence()
    expect(await code(store.checkpoints.save('p', head))).toBe('INVALID_ARGUMENT')
    const carried = { checkpoint: { name: 'p', position: head } }
    expect(await code(store.appendToStream('s', [{ type: 'B' }], carried))).toBe('INVALID_ARGUMENT')
    expect(await store.checkpoints.load('p')).toBeUndefined()
    await store.checkpoints.save('p', head - 1)
    expect(await store.checkpoints.load('p')).toBe(head - 1)
  })

  it('saves a checkpoint in the same atomic commit as an append', async () => {
    const storage = instrument(await openMemoryStorage())
    const store = await openEventStore({ storage })
    cleanup.push(() => store.close())
    const source = await store.appendToStream('orders', [{ type: 'Placed' }])
    const before = storage.writes.length
    await store.appendToStream('totals', [{ type: 'Counted', data: { n: 1 } }], {
      checkpoint: { name: 'projector', position: source.position },
    })
    expect(storage.writes.length - before).toBe(1)
    expect(await store.checkpoints.load('projector')).toBe(source.position)
    // A failing append saves no checkpoint.
    expect(
      await code(
        store.appendToStream('totals', [{ type: 'Counted' }], {
          expectedRevision: 7,
          checkpoint: { name: 'other', position: source.position },
        }),
      ),
    ).toBe('WRONG_EXPECTED_REVISION')
    expect(await store.checkpoints.load('other')).toBeUndefined()
  })
})

describe('subscriptions', () => {
  const take = async (it: AsyncIterable<SubscriptionMessage>, n: number, stop: AbortController) => {
    const out: string[] = []
    for await (const m of it) {
      out.push(m.type === 'event' ? brief(m.event) : 'caughtUp')
      if (out.length === n) stop.abort()
    }
    return out
  }

  it('delivers history, one caught-up marker, then live events, filtered', async () => {
    const store = await memoryStore()
    await store.appendToStream('order-1', [{ type: 'Placed' }])
    await store.appendToStream('cart-1', [{ type: 'Added' }])
    const stop = new AbortController()
    const got = take(
      store.subscribeToAll({ filter: { streamPrefix: 'order' }, signal: stop.signal }),
      4,
      stop,
    )
    await tick()
    await store.appendToStream('cart-1', [{ type: 'Added' }])
    await store.appendToStream('order-2', [{ type: 'Placed' }])
    await store.appendToStream('order-1', [{ type: 'Paid' }])
    expect(await got).toEqual([
      'order-1#0:Placed',
      'caughtUp',
      'order-2#0:Placed',
      'order-1#1:Paid',
    ])
  })

  it('starts at from (inclusive) or after a checkpoint (exclusive)', async () => {
    const store = await memoryStore()
    const a = await store.appendToStream('s', [{ type: 'A' }])
    await store.appendToStream('s', [{ type: 'B' }])
    const first = new AbortController()
    expect(
      await take(store.subscribeToAll({ after: a.position, signal: first.signal }), 2, first),
    ).toEqual(['s#1:B', 'caughtUp'])
    const second = new AbortController()
    expect(
      await take(store.subscribeToAll({ from: a.position, signal: second.signal }), 3, second),
    ).toEqual(['s#0:A', 's#1:B', 'caughtUp'])
  })

  it('subscribes to one stream after a revision', async () => {
    const store = await memoryStore()
    await store.appendToStream('s', [{ type: 'A' }, { type: 'B' }])
    const stop = new AbortController()
    const got = take(store.subscribeToStream('s', { after: 0, signal: stop.signal }), 3, stop)
    await tick()
    await store.appendToStream('t', [{ type: 'X' }])
    await store.appendToStream('s', [{ type: 'C' }])
    expect(await got).toEqual(['s#1:B', 'caughtUp', 's#2:C'])
  })

  it('from a position past the end, delivers nothing before it', async () => {
    const store = await memoryStore()
    await store.appendToStream('s', [{ type: 'A' }])
    // Each append below takes two positions: its event's, then the posting of its type.
    const from = store.log.nextSequence() + 6
    const stop = new AbortController()
    const it = store.subscribeToAll({ from, signal: stop.signal })
    expect((await it.next()).value).toEqual({ type: 'caughtUp' })
    for (const type of ['B', 'C', 'D', 'E']) await store.appendToStream('s', [{ type }])
    const message = (await it.next()).value as SubscriptionMessage
    expect(message.type === 'event' && [message.event.position, brief(message.event)]).toEqual([
      from,
      's#4:E',
    ])
    stop.abort()
  })

  it("from a revision past the stream's end, delivers nothing before it", async () => {
    const store = await memoryStore()
    await store.appendToStream('s', [{ type: 'A' }])
    const stop = new AbortController()
    const it = store.subscribeToStream('s', { from: 3, signal: stop.signal })
    expect((await it.next()).value).toEqual({ type: 'caughtUp' })
    await store.appendToStream('s', [{ type: 'B' }, { type: 'C' }, { type: 'D' }, { type: 'E' }])
    const message = (await it.next()).value as SubscriptionMessage
    expect(message.type === 'event' && brief(message.event)).toBe('s#3:D')
    stop.abort()
  })

  it.each(['all', 'stream'] as const)(
    'delivers once an event committed while its history is read (%s)',
    async (kind) => {
      const storage = interrupting(await openMemoryStorage())
      const store = await openEventStore({ storage })
      cleanup.push(() => store.close())
      await store.appendToStream('s', [{ type: 'A' }])
      const stop = new AbortController()
      const it =
        kind === 'all'
          ? store.subscribeToAll({ signal: stop.signal })
          : store.subscribeToStream('s', { signal: stop.signal })
      // B lands after the subscription fixed where its live part begins, while it reads history.
      storage.duringNextStep(() => store.appendToStream('s', [{ type: 'B' }]))
      const shown = async (): Promise<string> => {
        const m = (await it.next()).value as SubscriptionMessage
        return m.type === 'event' ? brief(m.event) : m.type
      }
      const got = [await shown(), await shown(), await shown()]
      expect(storage.armed()).toBe(false)
      await store.appendToStream('s', [{ type: 'C' }])
      got.push(await shown())
      expect(got).toEqual(['s#0:A', 'caughtUp', 's#1:B', 's#2:C'])
      stop.abort()
    },
  )

  it('is woken by commits, not by a timer', async () => {
    const store = await memoryStore()
    const stop = new AbortController()
    const it = store.subscribeToAll({ signal: stop.signal })
    expect((await it.next()).value).toEqual({ type: 'caughtUp' })
    const next = it.next()
    await tick()
    vi.useFakeTimers({ toFake: ['setTimeout', 'setInterval', 'setImmediate'] })
    try {
      await store.appendToStream('s', [{ type: 'A' }])
      const message = (await next).value as SubscriptionMessage
      expect(message.type === 'event' && brief(message.event)).toBe('s#0:A')
    } finally {
      vi.useRealTimers()
      stop.abort()
    }
  })

  it('ends when the store closes', async () => {
    const store = await openEventStore({ storage: await openMemoryStorage() })
    const it = store.subscribeToAll()
    await it.next()
    const next = it.next()
    await tick()
    await store.close()
    expect((await next).done).toBe(true)
  })

  it('lets a slow subscriber catch up from storage with nothing lost', async () => {
    const store = await memoryStore()
    const stop = new AbortController()
    const it = store.subscribeToAll({ signal: stop.signal })
    expect((await it.next()).value).toEqual({ type: 'caughtUp' })
    for (let i = 0; i < 300; i++) await store.appendToStream(`s${i % 5}`, [{ type: 'E' }])
    let n = 0
    for await (const m of { [Symbol.asyncIterator]: () => it }) {
      expect(m.type).toBe('event')
      if (++n === 300) break
    }
    stop.abort()
    expect(n).toBe(300)
  })
})

describe('positions', () => {
  const take = async (
    it: AsyncIterable<SubscriptionMessage>,
    n: number,
    stop: AbortController,
  ): Promise<number[]> => {
    const out: number[] = []
    for await (const m of it) {
      if (m.type === 'event') out.push(m.event.position)
      if (out.length === n) stop.abort()
    }
    return out
  }

  it('mean one thing: from is inclusive and after exclusive in every read and subscription', async () => {
    const store = await memoryStore()
    const positions: number[] = []
    for (const s of ['a', 'b', 'c']) {
      positions.push((await store.appendToStream(s, [{ type: 'E' }])).position)
    }
    const [p0, p1, p2] = positions as [number, number, number]
    const read = async (o: Parameters<EventStore['readAll']>[0]) =>
      (await collect(store.readAll(o))).map((e) => e.position)
    expect(await read({ from: p1 })).toEqual([p1, p2])
    expect(await read({ after: p1 })).toEqual([p2])
    expect(await read({ from: p0, to: p2 })).toEqual([p0, p1])
    expect(await read({ from: p1, reverse: true })).toEqual([p2, p1])
    expect(await read({ to: p2, reverse: true })).toEqual([p1, p0])
    const stop = (): AbortController => new AbortController()
    const fromP1 = stop()
    expect(
      await take(store.subscribeToAll({ from: p1, signal: fromP1.signal }), 2, fromP1),
    ).toEqual([p1, p2])
    const afterP1 = stop()
    expect(
      await take(store.subscribeToAll({ after: p1, signal: afterP1.signal }), 1, afterP1),
    ).toEqual([p2])
    // The log underneath reads the same way (its entries beside the events are the index's).
    const isEvent = (e: { readonly key: Uint8Array }): boolean =>
      new TextDecoder().decode(e.key).startsWith('e/')
    const scanned = async (o: Parameters<EventStore['log']['scan']>[0]) =>
      (await collect(store.log.scan(o))).filter(isEvent).map((e) => e.sequence)
    expect(await scanned({ from: p1 })).toEqual([p1, p2])
    expect(await scanned({ after: p1 })).toEqual([p2])
    expect(await store.log.count({ key: 'e/b', after: p0 })).toBe(1)
    expect(await store.log.count({ key: 'e/b', after: p1 })).toBe(0)
    const followed = stop()
    const tail: number[] = []
    for await (const e of store.log.follow({ after: p0, signal: followed.signal })) {
      if (isEvent(e)) tail.push(e.sequence)
      if (tail.length === 2) followed.abort()
    }
    expect(tail).toEqual([p1, p2])
  })

  it('lets a subscription from the next sequence see the next event', async () => {
    const store = await memoryStore()
    await store.appendToStream('s', [{ type: 'A' }])
    const stop = new AbortController()
    const from = store.log.nextSequence()
    const got = take(store.subscribeToAll({ from, signal: stop.signal }), 1, stop)
    await tick()
    const next = await store.appendToStream('s', [{ type: 'B' }])
    expect(next.position).toBe(from)
    expect(await got).toEqual([from])
  })

  it('refuses the old fromPosition and fromRevision, saying what to use', async () => {
    const store = await memoryStore()
    await store.appendToStream('s', [{ type: 'A' }])
    const refused = (it: AsyncIterable<unknown>) => collect(it)
    await expect(refused(store.readAll({ fromPosition: 0 } as never))).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      error: { field: 'options.fromPosition' },
      message: expect.stringMatching(
        /use from: p \(inclusive\) or after: p \(exclusive\)/,
      ) as unknown,
    })
    await expect(refused(store.subscribeToAll({ fromPosition: 0 } as never))).rejects.toThrow(
      /options\.fromPosition: is no longer accepted; use after: p for what fromPosition meant/,
    )
    await expect(refused(store.readStream('s', { fromRevision: 0 } as never))).rejects.toThrow(
      /options\.fromRevision: is no longer accepted; use from: r \(inclusive\) or after: r/,
    )
    await expect(
      refused(store.subscribeToStream('s', { fromRevision: 0 } as never)),
    ).rejects.toThrow(/options\.fromRevision: is no longer accepted; use after: r/)
  })

  it('refuses direction and maxCount, saying to write reverse and limit', async () => {
    const store = await memoryStore()
    await store.appendToStream('s', [{ type: 'A' }])
    const reads = [(o: object) => store.readAll(o), (o: object) => store.readStream('s', o)]
    for (const read of reads) {
      for (const direction of ['backwards', 'forwards']) {
        await expect(collect(read({ direction }))).rejects.toMatchObject({
          code: 'INVALID_ARGUMENT',
          error: { field: 'options.direction' },
          message:
            'options.direction: is not an option; write reverse: true to read backwards (forwards is the default)',
        })
      }
      await expect(collect(read({ maxCount: 1 }))).rejects.toMatchObject({
        code: 'INVALID_ARGUMENT',
        error: { field: 'options.maxCount' },
        message: 'options.maxCount: is not an option; write limit',
      })
      // Refused even beside the right spelling: never read with a meaning of its own.
      await expect(collect(read({ reverse: true, maxCount: 1 }))).rejects.toThrow(
        'options.maxCount: is not an option; write limit',
      )
    }
  })

  it('refuses from and after together', async () => {
    const store = await memoryStore()
    for (const it of [
      store.readAll({ from: 1, after: 0 }),
      store.readStream('s', { from: 1, after: 0 }),
      store.subscribeToAll({ from: 1, after: 0 }),
      store.subscribeToStream('s', { from: 1, after: 0 }),
      store.log.scan({ from: 1, after: 0 }),
      store.log.follow({ from: 1, after: 0 }),
    ] as ReadonlyArray<AsyncIterable<unknown>>) {
      await expect(collect(it)).rejects.toMatchObject({
        code: 'INVALID_ARGUMENT',
        message: 'options.after: give from (inclusive) or after (exclusive), not both',
      })
    }
    expect(await code(store.log.count({ from: 1, after: 0 }))).toBe('INVALID_ARGUMENT')
  })
})

describe('on disk', () => {
  it('reopens with streams, revisions and checkpoints intact, and refuses a second open', async () => {
    const dir = await makeTempDir('es')
    cleanup.push(() => removeDir(dir))
    const path = join(dir, 'events')
    const store = await openEventStore({ path })
    const r = await store.appendToStream('s', [{ type: 'A', id: 'a' }], {
      expectedRevision: 'no_stream',
    })
    await store.checkpoints.save('p', r.position)
    expect(await code(openEventStore({ path }))).toBe('LOCKED')
    await store.close()
    const again = await openEventStore({ path })
    cleanup.push(() => again.close())
    expect(
      await again.appendToStream('s', [{ type: 'A', id: 'a' }], { expectedRevision: 'no_stream' }),
    ).toEqual(r)
    expect(
      (await again.appendToStream('s', [{ type: 'B' }], { expectedRevision: 0 }))
        .nextExpectedRevision,
    ).toBe(1)
    expect(await again.checkpoints.load('p')).toBe(r.position)
  })
})
