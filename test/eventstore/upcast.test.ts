import { join } from 'node:path'
import * as E from 'fp-ts/lib/Either.js'
import * as t from 'io-ts'
import { afterEach, describe, expect, it } from 'vitest'
import { DeltalogError, type DeltalogErrorValue } from '../../src/errors.js'
import type { Json } from '../../src/eventstore/envelope.js'
import {
  openEventStore,
  type EventStore,
  type ReadEvent,
  type SubscriptionMessage,
  type Upcaster,
  type Upcasters,
} from '../../src/eventstore/store.js'
import { currentNameOf, storedNamesOf, versionOf } from '../../src/eventstore/upcast.js'
import { validateUpcasters } from '../../src/eventstore/upcasters.js'
import { openLog, type Log } from '../../src/openLog.js'
import { openMemoryStorage } from '../../src/storage/memory.js'
import { makeTempDir, removeDir } from '../support/tmpdir.js'

const cleanup: Array<() => Promise<void>> = []
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f()
})

// OrderPlaced's three versions: { amount }, then { amount, currency }, then { total: { … } }.
interface V2 {
  readonly amount: number
  readonly currency: string
}
const toV2: Upcaster = ({ data }) => ({ data: { ...(data as object), currency: 'EUR' } })
const toV3: Upcaster = ({ data }) => {
  const { amount, currency } = data as unknown as V2
  return { data: { total: { amount, currency } } }
}
const v3 = (amount: number, currency: string): Json => ({ total: { amount, currency } })
const V3 = t.type({ total: t.type({ amount: t.number, currency: t.string }) })

const sharedLog = async (): Promise<Log> => {
  const log = await openLog({ storage: await openMemoryStorage() })
  cleanup.push(() => log.close())
  return log
}

/** A store on `log` as code that knows `upcasters` sees it; closed after the test. */
const storeOn = async (log: Log, options: Record<string, unknown> = {}): Promise<EventStore> => {
  const store = await openEventStore({ log, ...options })
  cleanup.push(() => store.close())
  return store
}

/** Appends with a store that knows `upcasters`, as code of that time would, then closes it. */
const appendAs = async (
  log: Log,
  upcasters: Upcasters,
  streamId: string,
  events: ReadonlyArray<{ readonly type: string; readonly data?: Json }>,
): Promise<void> => {
  const store = await openEventStore({ log, upcasters })
  await store.appendToStream(streamId, events)
  await store.close()
}

/** One order of each version: 1 and 2 appended by older code, 3 by the current code. */
const threeVersions = async (): Promise<Log> => {
  const log = await sharedLog()
  await appendAs(log, {}, 'order-1', [{ type: 'OrderPlaced', data: { amount: 1 } }])
  await appendAs(log, { OrderPlaced: [toV2] }, 'order-1', [
    { type: 'OrderPlaced', data: { amount: 2, currency: 'USD' } },
  ])
  await appendAs(log, { OrderPlaced: [toV2, toV3] }, 'order-1', [
    { type: 'OrderPlaced', data: v3(3, 'GBP') },
  ])
  return log
}
const CURRENT = [v3(1, 'EUR'), v3(2, 'USD'), v3(3, 'GBP')]

const collect = async <A>(it: AsyncIterable<A>): Promise<A[]> => {
  const out: A[] = []
  for await (const x of it) out.push(x)
  return out
}

/** The error value a promise rejects with; anything but a DeltalogError fails the test. */
const failure = async (promise: Promise<unknown>): Promise<DeltalogErrorValue> => {
  try {
    await promise
  } catch (error) {
    expect(error).toBeInstanceOf(DeltalogError)
    return (error as DeltalogError).error
  }
  throw new Error('expected a rejection')
}

/** The first `n` messages of a subscription, then stops it. */
const take = async (
  it: AsyncIterable<SubscriptionMessage>,
  n: number,
  stop: AbortController,
): Promise<unknown[]> => {
  const out: unknown[] = []
  for await (const m of it) {
    out.push(m.type === 'event' ? m.event.data : 'caughtUp')
    if (out.length === n) stop.abort()
  }
  return out
}

/** The raw values of a key of the log. */
const raw = async (log: Log, key: string): Promise<string[]> =>
  (await collect(log.scan({ key }))).map((e) => new TextDecoder().decode(e.value))

describe('reading events stored in older versions', () => {
  const upcasters = { OrderPlaced: [toV2, toV3] }

  it('reads events of versions 1, 2 and 3 as version 3 in readStream, readAll and aggregateStream', async () => {
    const store = await storeOn(await threeVersions(), { upcasters })
    const data = (events: ReadonlyArray<ReadEvent>): unknown[] => events.map((e) => e.data)
    expect(data(await collect(store.readStream('order-1')))).toEqual(CURRENT)
    expect(data(await collect(store.readStream('order-1', { reverse: true })))).toEqual(
      [...CURRENT].reverse(),
    )
    expect(data(await collect(store.readAll()))).toEqual(CURRENT)
    const folded = await store.aggregateStream('order-1', {
      initialState: [] as unknown[],
      evolve: (s, e) => [...s, e.data],
    })
    expect(folded).toEqual(CURRENT)
  })

  it('delivers them as version 3 in both subscriptions, history and live, whoever appends', async () => {
    const log = await threeVersions()
    const store = await storeOn(log, { upcasters })
    const all = new AbortController()
    const one = new AbortController()
    const everything = take(store.subscribeToAll({ signal: all.signal }), 6, all)
    const stream = take(store.subscribeToStream('order-1', { signal: one.signal }), 6, one)
    await new Promise((r) => setTimeout(r, 10))
    // Code that knows only version 1 still runs somewhere, and appends.
    await appendAs(log, {}, 'order-1', [{ type: 'OrderPlaced', data: { amount: 4 } }])
    await store.appendToStream('order-1', [{ type: 'OrderPlaced', data: v3(5, 'CHF') }])
    const expected = [...CURRENT, 'caughtUp', v3(4, 'EUR'), v3(5, 'CHF')]
    expect(await everything).toEqual(expected)
    expect(await stream).toEqual(expected)
  })

  it('checks data with the codec after upcasting, so a codec of the current version alone passes', async () => {
    const log = await threeVersions()
    const store = await storeOn(log, { upcasters, codecs: { OrderPlaced: V3 } })
    expect((await collect(store.readAll())).map((e) => e.data)).toEqual(CURRENT)
    // Without the upcasters the same codec refuses the older events, naming the first.
    const plain = await storeOn(log, { codecs: { OrderPlaced: V3 } })
    expect(await failure(collect(plain.readStream('order-1')))).toMatchObject({
      code: 'DECODE_FAILED',
      streamId: 'order-1',
      revision: 0,
      type: 'OrderPlaced',
      storedVersion: 1,
    })
  })

  it('records the current version of its type on append, and no version field for version 1', async () => {
    const log = await threeVersions()
    const values = (await raw(log, 'e/order-1')).map((v) => JSON.parse(v) as { v?: number })
    expect(values.map((v) => v.v)).toEqual([undefined, 2, 3])
    expect(Object.hasOwn(values[0] ?? {}, 'v')).toBe(false)
    // A type without upcasters is at version 1, whatever other types have.
    const store = await storeOn(log, { upcasters })
    await store.appendMulti([{ streamId: 'other', events: [{ type: 'Other', data: 1 }] }])
    await store.appendMulti([
      { streamId: 'other', events: [{ type: 'OrderPlaced', data: v3(6, 'EUR') }] },
    ])
    const other = (await raw(log, 'e/other')).map((v) => JSON.parse(v) as { v?: number })
    expect(other.map((v) => v.v)).toEqual([undefined, 3])
  })

  it('hands each upcaster the event at its version, and keeps metadata unless one changes it', async () => {
    const log = await sharedLog()
    await appendAs(log, {}, 's', [{ type: 'A', data: 0 }])
    const seen: unknown[] = []
    const steps: Upcaster[] = [
      (e) => {
        seen.push(e)
        return { data: 1 }
      },
      () => ({ data: 2, metadata: { upcast: true } }),
      ({ data, metadata }) => ({ data: [data, metadata] }),
    ]
    const store = await storeOn(log, { upcasters: { A: steps } })
    const [event] = await collect(store.readStream('s'))
    expect(seen).toEqual([
      {
        type: 'A',
        version: 1,
        data: 0,
        metadata: null,
        streamId: 's',
        revision: 0,
        position: event?.position,
      },
    ])
    expect(event).toMatchObject({
      type: 'A',
      data: [2, { upcast: true }],
      metadata: { upcast: true },
    })
    // null is metadata too: a step that returns it clears what was there.
    const cleared = await storeOn(log, {
      upcasters: { A: [...steps, () => ({ data: 3, metadata: null })] },
    })
    expect(await collect(cleared.readStream('s'))).toMatchObject([{ data: 3, metadata: null }])
  })

  it('never changes the stored bytes, across a reopen on RocksDB', async () => {
    const dir = await makeTempDir('upcast')
    cleanup.push(() => removeDir(dir))
    const path = join(dir, 'db')
    const rawAt = async (): Promise<string[]> => {
      const log = await openLog({ path })
      try {
        return await raw(log, 'e/order-1')
      } finally {
        await log.close()
      }
    }
    for (const [known, data] of [
      [{}, { amount: 1 }],
      [{ OrderPlaced: [toV2] }, { amount: 2, currency: 'USD' }],
    ] as const) {
      const store = await openEventStore({ path, upcasters: known })
      await store.appendToStream('order-1', [{ type: 'OrderPlaced', data }])
      await store.close()
    }
    const before = await rawAt()
    expect(before.map((v) => JSON.parse(v) as unknown)).toMatchObject([
      { d: { amount: 1 } },
      { d: { amount: 2, currency: 'USD' }, v: 2 },
    ])
    const store = await openEventStore({ path, upcasters })
    expect((await collect(store.readStream('order-1'))).map((e) => e.data)).toEqual(
      CURRENT.slice(0, 2),
    )
    await store.close()
    expect(await rawAt()).toEqual(before)
  })
})

describe('renamed types', () => {
  // CartCreated had two versions, then became CartOpened at version 1, which now has two.
  const upcasters = {
    CartCreated: {
      steps: [({ data }) => ({ data: { ...(data as object), items: [] } })],
      renamedTo: 'CartOpened',
    },
    CartOpened: [({ data }) => ({ data: { ...(data as object), open: true } })],
  } satisfies Upcasters
  const renamed = async (): Promise<Log> => {
    const log = await sharedLog()
    await appendAs(log, {}, 'cart-1', [{ type: 'CartCreated', data: { id: 1 } }])
    await appendAs(log, { CartCreated: upcasters.CartCreated.steps }, 'cart-2', [
      { type: 'CartCreated', data: { id: 2, items: ['x'] } },
    ])
    await appendAs(log, { CartCreated: upcasters.CartCreated }, 'cart-3', [
      { type: 'CartOpened', data: { id: 3, items: [] } },
    ])
    await appendAs(log, upcasters, 'cart-4', [
      { type: 'CartOpened', data: { id: 4, items: [], open: true } },
    ])
    return log
  }
  const CARTS = [
    { id: 1, items: [], open: true },
    { id: 2, items: ['x'], open: true },
    { id: 3, items: [], open: true },
    { id: 4, items: [], open: true },
  ]

  it('reads events stored under the old name as the new one, through both chains', async () => {
    const store = await storeOn(await renamed(), { upcasters })
    const events = await collect(store.readAll())
    expect(events.map((e) => [e.type, e.data])).toEqual(CARTS.map((c) => ['CartOpened', c]))
    const filtered = await collect(store.readAll({ filter: { eventTypes: ['CartOpened'] } }))
    expect(filtered.map((e) => e.data)).toEqual(CARTS)
    const stop = new AbortController()
    const subscribed = store.subscribeToAll({
      filter: { eventTypes: ['CartOpened'] },
      signal: stop.signal,
    })
    expect(await take(subscribed, 5, stop)).toEqual([...CARTS, 'caughtUp'])
  })

  it("decodes events stored under the old name with the new name's codec", async () => {
    // An exact codec drops the fields it does not name: what it returns shows that it ran.
    const codecs = { CartOpened: t.exact(t.type({ id: t.number, open: t.literal(true) })) }
    const store = await storeOn(await renamed(), { upcasters, codecs })
    const events = await collect(store.readAll())
    expect(events.map((e) => e.data)).toEqual(CARTS.map(({ id }) => ({ id, open: true })))
  })

  it('lands a renamed type on the version of the new name that asVersion gives', async () => {
    const log = await sharedLog()
    await appendAs(log, {}, 's', [{ type: 'ItemAddedV2', data: { amount: 1, currency: 'USD' } }])
    const store = await storeOn(log, {
      upcasters: {
        ItemAddedV2: { renamedTo: 'OrderPlaced', asVersion: 2 },
        OrderPlaced: [toV2, toV3],
      },
    })
    expect(await collect(store.readStream('s'))).toMatchObject([
      { type: 'OrderPlaced', data: v3(1, 'USD') },
    ])
  })

  it('refuses the old name where a caller names a type: appends and filters', async () => {
    const store = await storeOn(await renamed(), { upcasters })
    expect(
      await failure(store.appendToStream('c', [{ type: 'A' }, { type: 'CartCreated' }])),
    ).toEqual({
      code: 'INVALID_ARGUMENT',
      field: 'events[1].type',
      message: 'events[1].type: "CartCreated" was renamed to "CartOpened"; write that',
    })
    expect(
      await failure(
        store.appendMulti([
          { streamId: 'a', events: [{ type: 'A' }] },
          { streamId: 'b', events: [{ type: 'CartCreated' }] },
        ]),
      ),
    ).toMatchObject({ code: 'INVALID_ARGUMENT', field: 'writes[1].events[0].type' })
    expect(
      await failure(
        collect(store.readAll({ filter: { eventTypes: ['CartOpened', 'CartCreated'] } })),
      ),
    ).toMatchObject({ code: 'INVALID_ARGUMENT', field: 'options.filter.eventTypes[1]' })
    expect(
      await failure(collect(store.subscribeToAll({ filter: { eventTypes: ['CartCreated'] } }))),
    ).toMatchObject({ code: 'INVALID_ARGUMENT', field: 'options.filter.eventTypes[0]' })
    expect(await collect(store.readStream('a'))).toEqual([])
  })

  it('lists every stored name that reads as a current name, through chains of renames', () => {
    const chain = {
      A: { renamedTo: 'B' },
      Other: [toV2],
      B: { renamedTo: 'C' },
      D: { renamedTo: 'C' },
    } satisfies Upcasters
    expect(storedNamesOf(chain, 'C')).toEqual(['C', 'A', 'B', 'D'])
    expect(storedNamesOf(chain, 'Other')).toEqual(['Other'])
    expect(storedNamesOf(chain, 'Unknown')).toEqual(['Unknown'])
    expect(storedNamesOf(chain, 'B')).toEqual(['B', 'A'])
    expect(['A', 'B', 'C', 'D', 'Other'].map((n) => currentNameOf(chain, n))).toEqual([
      'C',
      'C',
      'C',
      'C',
      'Other',
    ])
    expect(['A', 'Other', 'constructor'].map((n) => versionOf(chain, n))).toEqual([1, 2, 1])
  })
})

describe('what cannot be read', () => {
  it('refuses an event stored in a version newer than the code knows, naming it', async () => {
    const log = await threeVersions()
    const older = await storeOn(log, { upcasters: { OrderPlaced: [toV2] } })
    const expected = {
      code: 'DECODE_FAILED',
      streamId: 'order-1',
      revision: 2,
      type: 'OrderPlaced',
      storedVersion: 3,
      knownVersion: 2,
    }
    const error = await failure(collect(older.readStream('order-1')))
    expect(error).toMatchObject(expected)
    const position = (error as { position: number }).position
    expect(error.message).toBe(
      `stream "order-1" revision 2 (position ${position}), type "OrderPlaced" stored at version 3: this code knows versions up to 2`,
    )
    const [, , third] = await collect(log.scan({ key: 'e/order-1' }))
    expect(position).toBe(third?.sequence)
    expect(await failure(collect(older.readAll()))).toMatchObject(expected)
    const initialState = 0
    expect(
      await failure(older.aggregateStream('order-1', { initialState, evolve: (s) => s + 1 })),
    ).toMatchObject(expected)
    expect(await failure(collect(older.subscribeToAll()))).toMatchObject(expected)
    const none = await storeOn(log)
    expect(await failure(collect(none.readStream('order-1')))).toMatchObject({
      revision: 1,
      storedVersion: 2,
      knownVersion: 1,
    })
  })

  it('turns an upcaster that throws or returns no data into DECODE_FAILED naming the event', async () => {
    const log = await threeVersions()
    const boom = new Error('boom')
    const throwing = await storeOn(log, {
      upcasters: {
        OrderPlaced: [
          toV2,
          () => {
            throw boom
          },
        ],
      },
    })
    const error = await failure(collect(throwing.readStream('order-1')))
    expect(error).toMatchObject({
      code: 'DECODE_FAILED',
      revision: 0,
      storedVersion: 1,
      knownVersion: 3,
      cause: boom,
    })
    expect(error.message).toMatch(
      /^stream "order-1" revision 0 \(position \d+\), type "OrderPlaced" stored at version 1: the upcaster of "OrderPlaced" from version 2 to 3 threw: boom$/,
    )
    const empty = await storeOn(log, { upcasters: { OrderPlaced: [toV2, () => undefined] } })
    expect((await failure(collect(empty.readStream('order-1')))).message).toMatch(
      /from version 2 to 3 returned no \{ data \}$/,
    )
  })
})

describe('the upcasters option', () => {
  const f: Upcaster = ({ data }) => ({ data })
  it.each([
    ['not an object', 'x', 'options.upcasters'],
    ['an array', [f], 'options.upcasters'],
    ['an empty type name', { '': [f] }, 'options.upcasters'],
    ['an entry that is neither', { A: 'f' }, 'options.upcasters.A'],
    ['a step that is no function', { A: [f, 1] }, 'options.upcasters.A[1]'],
    ['steps that are no array', { A: { steps: f } }, 'options.upcasters.A.steps'],
    ['an unknown field', { A: { renamed: 'B' } }, 'options.upcasters.A.renamed'],
    ['an empty new name', { A: { renamedTo: '' } }, 'options.upcasters.A.renamedTo'],
    ['a rename to itself', { A: { renamedTo: 'A' } }, 'options.upcasters.A.renamedTo'],
    ['asVersion without a rename', { A: { asVersion: 2 } }, 'options.upcasters.A.asVersion'],
    ['asVersion 0', { A: { renamedTo: 'B', asVersion: 0 } }, 'options.upcasters.A.asVersion'],
    [
      'asVersion past the new name',
      { A: { renamedTo: 'B', asVersion: 3 }, B: [f] },
      'options.upcasters.A.asVersion',
    ],
    [
      'renames in a cycle',
      { A: { renamedTo: 'B' }, B: { steps: [f], renamedTo: 'A' } },
      'options.upcasters.A.renamedTo',
    ],
  ])('refuses %s with INVALID_ARGUMENT naming the field', async (_, upcasters, field) => {
    const error = await failure(
      openEventStore({ storage: await openMemoryStorage(), upcasters: upcasters as Upcasters }),
    )
    expect(error).toMatchObject({ code: 'INVALID_ARGUMENT', field })
  })

  it('keeps a copy: changing the object after opening changes nothing', async () => {
    const log = await sharedLog()
    await appendAs(log, {}, 's', [{ type: 'A', data: 0 }])
    const chain = [() => ({ data: 1 })]
    const upcasters = { A: chain }
    const store = await storeOn(log, { upcasters })
    chain.push(() => ({ data: 2 }))
    Object.assign(upcasters, { B: { renamedTo: 'A' } })
    expect((await collect(store.readStream('s'))).map((e) => e.data)).toEqual([1])
    await store.appendToStream('s', [{ type: 'B' }])
    expect(E.isRight(validateUpcasters(upcasters, 'u'))).toBe(true)
  })
})
