// The event store's tracing channels: `deltalog:event-store:append` around each append, with its
// streams, events, expectations and result, or its failure's code; `deltalog:event-store:deliver`
// around each batch handed to a subscription, consumer or projection, with the batch's positions,
// and a failing handler's code. Contexts are built only while someone subscribes.
import dc from 'node:diagnostics_channel'
import { afterEach, describe, expect, it } from 'vitest'
import {
  CHANNEL_NAMES,
  type DeliverContext,
  type EventAppendContext,
} from '../../src/diagnostics/channels.js'
import { openEventStore, type EventStore } from '../../src/eventstore/store.js'
import { openMemoryStorage } from '../../src/storage/memory.js'
import { code } from '../support/codes.js'
import { makeTempDir, removeDir } from '../support/tmpdir.js'

type Phase = 'start' | 'end' | 'asyncStart' | 'asyncEnd' | 'error'

/** What a subscriber saw of one channel: each event in order, with the context it carried. */
const listen = <C extends object>(
  name: string,
): {
  readonly seen: Array<{ readonly phase: Phase; readonly ctx: C }>
  readonly ended: () => C[]
} => {
  const seen: Array<{ readonly phase: Phase; readonly ctx: C }> = []
  const on = (phase: Phase) => (message: unknown) => seen.push({ phase, ctx: message as C })
  const handlers = {
    start: on('start'),
    end: on('end'),
    asyncStart: on('asyncStart'),
    asyncEnd: on('asyncEnd'),
    error: on('error'),
  }
  const channel = dc.tracingChannel(name)
  channel.subscribe(handlers)
  cleanup.push(() => Promise.resolve(void channel.unsubscribe(handlers)))
  return { seen, ended: () => seen.filter((s) => s.phase === 'asyncEnd').map((s) => s.ctx) }
}

const cleanup: Array<() => Promise<void>> = []
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f()
})

const opened = async (options: Parameters<typeof openEventStore>[0]): Promise<EventStore> => {
  const store = await openEventStore(options)
  cleanup.push(() => store.close())
  return store
}

const stores: ReadonlyArray<readonly [string, () => Promise<{ store: EventStore; log: string }>]> =
  [
    [
      'memory',
      async () => ({ store: await opened({ storage: await openMemoryStorage() }), log: 'memory' }),
    ],
    [
      'RocksDB',
      async () => {
        const dir = await makeTempDir('es-trace')
        cleanup.push(() => removeDir(dir))
        return { store: await opened({ path: dir }), log: dir }
      },
    ],
  ]

describe.each(stores)('deltalog:event-store:append on %s', (_, open) => {
  it('carries each call: its log, kind, streams, events, expectations and result', async () => {
    const { store, log } = await open()
    const appends = listen<EventAppendContext>(CHANNEL_NAMES.eventAppend)
    const one = await store.appendToStream('a', [{ type: 'A' }, { type: 'B' }], {
      expectedRevision: 'no_stream',
    })
    const multi = await store.appendMulti([
      { streamId: 'b', events: [{ type: 'C' }] },
      { streamId: 'a', events: [{ type: 'D' }], expectedRevision: 1 },
    ])
    const free = await store.append([{ type: 'E', tags: ['t'] }], {
      condition: { failIfEventsMatch: { items: [{ tags: ['u'] }] } },
    })
    await store.appendMulti([{ streamId: 'c', events: [{ type: 'F' }] }])
    expect(appends.seen.map((s) => s.phase)).toEqual(
      Array<Phase[]>(4).fill(['start', 'end', 'asyncStart', 'asyncEnd']).flat(),
    )
    const [first, second, third, fourth] = appends.ended()
    expect(fourth).toMatchObject({ kind: 'appendMulti', streams: ['c'], expectedRevision: false })
    expect(first).toMatchObject({
      log,
      kind: 'appendToStream',
      streams: ['a'],
      events: 2,
      expectedRevision: true,
      condition: false,
      position: one.position,
      revisions: [1],
      result: one,
    })
    expect(second).toMatchObject({
      log,
      kind: 'appendMulti',
      streams: ['b', 'a'],
      events: 2,
      expectedRevision: true,
      condition: false,
      position: Math.max(...multi.map((r) => r.position)),
      revisions: [0, 2],
    })
    expect(third).toMatchObject({
      log,
      kind: 'append',
      streams: [],
      events: 1,
      expectedRevision: false,
      condition: true,
      position: free.position,
    })
    expect(third).not.toHaveProperty('revisions')
    expect(first).not.toHaveProperty('code')
  })

  it('carries the code of a failed append: a wrong expected revision, a failed condition', async () => {
    const { store } = await open()
    await store.append([{ type: 'A', tags: ['t'] }])
    await store.appendToStream('a', [{ type: 'A' }])
    const appends = listen<EventAppendContext>(CHANNEL_NAMES.eventAppend)
    expect(
      await code(store.appendToStream('a', [{ type: 'B' }], { expectedRevision: 'no_stream' })),
    ).toBe('WRONG_EXPECTED_REVISION')
    expect(
      await code(
        store.append([{ type: 'B' }], {
          condition: { failIfEventsMatch: { items: [{ tags: ['t'] }] } },
        }),
      ),
    ).toBe('APPEND_CONDITION_FAILED')
    const errors = appends.seen.filter((s) => s.phase === 'error').map((s) => s.ctx)
    expect(errors.map((c) => c.code)).toEqual([
      'WRONG_EXPECTED_REVISION',
      'APPEND_CONDITION_FAILED',
    ])
    expect(errors.map((c) => c.error?.code)).toEqual(errors.map((c) => c.code))
    expect(errors[0]).toMatchObject({ streams: ['a'], expectedRevision: true })
    expect(errors[0]).not.toHaveProperty('position')
    expect(appends.ended()).toHaveLength(2)
  })
})

describe.each(stores)('deltalog:event-store:deliver on %s', (_, open) => {
  it('a subscription event is one delivery, from its handing over to the ask for the next', async () => {
    const { store, log } = await open()
    const [a, b] = [
      await store.appendToStream('s', [{ type: 'A' }]),
      await store.appendToStream('s', [{ type: 'B' }]),
    ]
    const deliveries = listen<DeliverContext>(CHANNEL_NAMES.deliver)
    const subscription = store.subscribeToAll()
    expect((await subscription.next()).value).toMatchObject({ type: 'event' })
    // Handed over, not yet done with: the subscriber holds it.
    expect(deliveries.seen.map((s) => s.phase)).toEqual(['start', 'end'])
    await subscription.next()
    expect(deliveries.seen.map((s) => s.phase)).toEqual([
      ...['start', 'end', 'asyncStart', 'asyncEnd'],
      ...['start', 'end'],
    ])
    await subscription.return?.()
    expect(deliveries.ended()).toEqual([
      {
        log,
        subscriber: 'subscription',
        name: '$all',
        events: 1,
        firstPosition: a.position,
        lastPosition: a.position,
      },
      {
        log,
        subscriber: 'subscription',
        name: '$all',
        events: 1,
        firstPosition: b.position,
        lastPosition: b.position,
      },
    ])
    const stream = store.subscribeToStream('s')
    await stream.next()
    const failure = new Error('the subscriber gave up')
    await expect(stream.throw?.(failure)).rejects.toBe(failure)
    const last = deliveries.seen.at(-1)
    expect(last?.phase).toBe('asyncEnd')
    expect(deliveries.seen.at(-3)).toMatchObject({
      phase: 'error',
      ctx: { name: 's', error: failure },
    })
  })

  it("a consumer's batch is one delivery: its handler's calls, then the checkpoint", async () => {
    const { store, log } = await open()
    const written = await store.appendMulti([
      { streamId: 'x', events: [{ type: 'A' }, { type: 'B' }] },
      { streamId: 'y', events: [{ type: 'C' }] },
    ])
    const deliveries = listen<DeliverContext>(CHANNEL_NAMES.deliver)
    // The log's head when each span ends: past the checkpoint's commit, which the span covers.
    const before = store.log.nextSequence()
    const heads: number[] = []
    const ended = (): number => heads.push(store.log.nextSequence())
    dc.channel(`tracing:${CHANNEL_NAMES.deliver}:asyncEnd`).subscribe(ended)
    cleanup.push(() =>
      Promise.resolve(
        void dc.channel(`tracing:${CHANNEL_NAMES.deliver}:asyncEnd`).unsubscribe(ended),
      ),
    )
    let calls = 0
    const consumer = await store.consumer('c', {
      handler: () => {
        if (++calls < 3) throw new Error('not yet')
      },
      retry: { delayMs: 0 },
    })
    await consumer.caughtUp()
    await consumer.stop()
    const [delivered] = deliveries.ended()
    expect(deliveries.ended()).toHaveLength(1)
    expect(delivered).toMatchObject({
      log,
      subscriber: 'consumer',
      name: 'c',
      events: 3,
      lastPosition: written[1]?.position,
      attempts: 3,
      result: 3,
    })
    expect(delivered?.firstPosition).toBeLessThan(delivered?.lastPosition ?? 0)
    expect(await store.checkpoints.load('c')).toBe(written[1]?.position)
    expect(heads).toHaveLength(1)
    expect(heads[0]).toBeGreaterThan(before)
  })

  it("a failing consumer's delivery carries HANDLER_FAILED", async () => {
    const { store } = await open()
    const written = await store.appendToStream('x', [{ type: 'A' }])
    const deliveries = listen<DeliverContext>(CHANNEL_NAMES.deliver)
    const consumer = await store.consumer('c', {
      handler: () => {
        throw new Error('broken')
      },
      retry: { attempts: 2, delayMs: 0 },
    })
    expect(await code(consumer.done)).toBe('HANDLER_FAILED')
    const errors = deliveries.seen.filter((s) => s.phase === 'error').map((s) => s.ctx)
    expect(errors).toHaveLength(1)
    expect(errors[0]).toMatchObject({
      subscriber: 'consumer',
      name: 'c',
      code: 'HANDLER_FAILED',
      events: 1,
      firstPosition: written.position,
      lastPosition: written.position,
    })
    expect(deliveries.ended()).toHaveLength(1)
  })

  it("a projection's batch is one delivery: the fold and its commit, with the documents changed", async () => {
    const { store, log } = await open()
    await store.appendToStream('x', [{ type: 'A' }, { type: 'A' }])
    const last = await store.appendToStream('y', [{ type: 'A' }])
    const deliveries = listen<DeliverContext>(CHANNEL_NAMES.deliver)
    const projection = await store.projection<number>('counts', {
      init: () => 0,
      evolve: (n) => n + 1,
      key: (event) => event.streamId,
    })
    await projection.caughtUp()
    await projection.stop()
    expect(deliveries.ended()).toEqual([
      expect.objectContaining({
        log,
        subscriber: 'projection',
        name: 'counts',
        events: 3,
        lastPosition: last.position,
        rebuild: false,
        documents: 2,
      }),
    ])
  })
})

describe('the log a span names', () => {
  it("is the storage's location when it names one, else storage, or log for a log given", async () => {
    const appends = listen<EventAppendContext>(CHANNEL_NAMES.eventAppend)
    const memory = await openMemoryStorage()
    // A storage that names where it keeps its data (a PostgreSQL table's does).
    const named = { ...memory, location: 'schema.events' }
    const located = await opened({ storage: named })
    await located.append([{ type: 'A' }])
    // Storages that name no location (the memory storage names itself `memory`): one that keeps
    // nothing, and one that says it persists.
    const { location: _bare, ...bare } = await openMemoryStorage()
    const kept = await opened({ storage: bare })
    await kept.append([{ type: 'A' }])
    const { location: _memory, ...persistent } = await openMemoryStorage()
    const unnamed = await opened({
      storage: { ...persistent, capabilities: { ...persistent.capabilities, persistent: true } },
    })
    await unnamed.append([{ type: 'A' }])
    const shared = await opened({ log: unnamed.log })
    await shared.append([{ type: 'A' }])
    expect(appends.ended().map((c) => c.log)).toEqual(['schema.events', 'memory', 'storage', 'log'])
  })
})

describe('with no subscriber', () => {
  it('builds no context: the arguments are read only for the append itself', async () => {
    const store = await opened({ storage: await openMemoryStorage() })
    let reads = 0
    const write = (): {
      readonly streamId: string
      readonly events: ReadonlyArray<{ type: string }>
    } => {
      const w = { events: [{ type: 'A' }] }
      Object.defineProperty(w, 'streamId', {
        enumerable: true,
        get: () => {
          reads++
          return 's'
        },
      })
      return w as unknown as {
        readonly streamId: string
        readonly events: ReadonlyArray<{ type: string }>
      }
    }
    await store.appendMulti([write()])
    const untraced = reads
    reads = 0
    const appends = listen<EventAppendContext>(CHANNEL_NAMES.eventAppend)
    await store.appendMulti([write()])
    expect(appends.ended()).toHaveLength(1)
    expect(reads).toBe(untraced + 1)
  })
})
