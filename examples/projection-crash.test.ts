// Crash-testing your projections with deltalog/testing's checkProjection: an inline projection
// and a hand-written one, each proven to keep its documents exactly once through any crash.
import fc from 'fast-check'
import { test } from 'vitest'
import type { EventStore, ReadEvent } from 'deltalog'
import { checkProjection } from 'deltalog/testing'

type Totals = { readonly orders: number; readonly total: number }

// The fold: each customer's number of orders and their total.
const totals = {
  filter: { streamPrefix: 'order-' },
  key: (event: ReadEvent) => (event.data as { customer: string }).customer,
  init: (): Totals => ({ orders: 0, total: 0 }),
  evolve: (doc: Totals, event: ReadEvent): Totals => ({
    orders: doc.orders + 1,
    total: doc.total + (event.data as { amount: number }).amount,
  }),
}

// What each run appends: orders of three customers, each order a stream of its own.
const orders = fc.record({
  streamId: fc.integer({ min: 1, max: 50 }).map((n) => `order-${n}`),
  events: fc.array(
    fc.record({
      type: fc.constant('OrderPlaced'),
      data: fc.record({
        customer: fc.constantFrom('ada', 'bob', 'cy'),
        amount: fc.integer({ min: 1, max: 500 }),
      }),
    }),
    { minLength: 1, maxLength: 3 },
  ),
})

test('the inline projection keeps its totals through any crash', async () => {
  await checkProjection({ projection: { name: 'totals', ...totals }, events: orders })
})

// A hand-written projection: a customer's document is the last event of `total-<customer>`,
// appended with the checkpoint in the same commit.
const handWritten = {
  ...totals,
  run: async (store: EventStore, signal: AbortSignal): Promise<void> => {
    const after = await store.checkpoints.load('totals')
    for await (const m of store.subscribeToAll({
      ...(after === undefined ? {} : { after }),
      filter: totals.filter,
      signal,
    })) {
      if (m.type !== 'event') continue
      const key = totals.key(m.event)
      let doc = totals.init()
      for await (const last of store.readStream(`total-${key}`, { reverse: true, limit: 1 })) {
        doc = last.data as Totals
      }
      await store.appendToStream(
        `total-${key}`,
        [{ type: 'Total', data: totals.evolve(doc, m.event) }],
        { checkpoint: { name: 'totals', position: m.event.position } },
      )
    }
  },
  read: async (store: EventStore) => {
    const documents = new Map<string, Totals>()
    for await (const e of store.readAll({ filter: { streamPrefix: 'total-' } })) {
      documents.set(e.streamId.slice('total-'.length), e.data as Totals)
    }
    return { position: await store.checkpoints.load('totals'), documents }
  },
}

test('the hand-written projection keeps its totals through any crash', async () => {
  await checkProjection({ projection: handWritten, events: orders })
})
