import { afterEach, describe, expect, it } from 'vitest'
import type { DeltalogError } from '../../src/errors.js'
import {
  openEventStore,
  type EventStore,
  type Query,
  type ReadEvent,
  type SubscriptionMessage,
} from '../../src/eventstore/store.js'
import { openPostgresStorage } from '../../src/postgres/storage.js'
import { openMemoryStorage } from '../../src/storage/memory.js'
import { connection, dropTables, freshTable, postgresRuns } from '../postgres/server.js'
import { reopenableMemory } from '../log/storages.js'

const cleanup: Array<() => Promise<void>> = []
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f()
})

const memoryStore = async (): Promise<EventStore> => {
  const store = await openEventStore({ storage: await openMemoryStorage() })
  cleanup.push(() => store.close())
  return store
}

const collect = async <A>(it: AsyncIterable<A>): Promise<A[]> => {
  const out: A[] = []
  for await (const x of it) out.push(x)
  return out
}
const types = (events: ReadonlyArray<ReadEvent>): string[] => events.map((e) => e.type)
const failure = async (p: Promise<unknown>): Promise<DeltalogError> => {
  try {
    await p
  } catch (e) {
    return e as DeltalogError
  }
  throw new Error('expected a rejection')
}

const course = (id: string): Query => ({ items: [{ tags: [`course:${id}`] }] })

describe('tags and queries', () => {
  it('reads back the tags an event was appended with, and none for an event without', async () => {
    const store = await memoryStore()
    await store.append([{ type: 'A', tags: ['x', 'y'] }, { type: 'B' }])
    const events = await collect(store.read('all'))
    expect(events.map((e) => [e.streamId, e.type, e.tags])).toEqual([
      ['', 'A', ['x', 'y']],
      ['', 'B', []],
    ])
  })

  it('matches any of an item’s types and all of its tags, and any of the items', async () => {
    const store = await memoryStore()
    await store.append([
      { type: 'A', tags: ['x'] },
      { type: 'B', tags: ['x', 'y'] },
      { type: 'C', tags: ['y'] },
      { type: 'A', tags: ['y', 'z'] },
    ])
    await store.appendToStream('s', [{ type: 'B', tags: ['z'] }])
    const q = async (query: Query): Promise<string[]> => types(await collect(store.read(query)))
    expect(await q({ items: [{ tags: ['x', 'y'] }] })).toEqual(['B'])
    expect(await q({ items: [{ tags: ['y'] }] })).toEqual(['B', 'C', 'A'])
    expect(await q({ items: [{ types: ['A', 'C'] }] })).toEqual(['A', 'C', 'A'])
    expect(await q({ items: [{ types: ['A'], tags: ['y'] }] })).toEqual(['A'])
    expect(await q({ items: [{ tags: ['x'] }, { tags: ['z'] }] })).toEqual(['A', 'B', 'A', 'B'])
    expect(await q({ items: [{ types: ['B'] }, { tags: ['y'] }] })).toEqual(['B', 'C', 'A', 'B'])
    expect(await q({ items: [{ tags: ['never'] }] })).toEqual([])
    expect(await q('all')).toEqual(['A', 'B', 'C', 'A', 'B'])
  })

  it('yields an event matching several items once, whether the matches lie close or far apart', async () => {
    const store = await memoryStore()
    // Far apart, each matching position is read on its own; close together, with one scan of
    // their span. Either way the event tagged both x and y is one answer to the two items.
    const both = await store.append([{ type: 'Both', tags: ['x', 'y'] }])
    await store.append(Array.from({ length: 40 }, () => ({ type: 'Other', tags: ['o'] })))
    await store.append([{ type: 'X', tags: ['x'] }])
    const query: Query = { items: [{ tags: ['x'] }, { tags: ['y'] }] }
    expect(types(await collect(store.read(query)))).toEqual(['Both', 'X'])
    expect(
      types(await collect(store.read({ items: [{ types: ['Both'] }, { tags: ['y'] }] }))),
    ).toEqual(['Both'])
    const close = await collect(store.read(query, { from: both.position, to: both.position + 1 }))
    expect(close.map((e) => e.position)).toEqual([both.position])
  })

  it('reads a range of positions with from, after, to and limit', async () => {
    const store = await memoryStore()
    const positions: number[] = []
    for (let i = 0; i < 5; i++) {
      positions.push((await store.append([{ type: 'E', data: i, tags: ['t'] }])).position)
    }
    const data = async (o: object): Promise<unknown[]> =>
      (await collect(store.read({ items: [{ tags: ['t'] }] }, o))).map((e) => e.data)
    const [p0, p1, , p3] = positions as [number, number, number, number]
    expect(await data({ from: p1 })).toEqual([1, 2, 3, 4])
    expect(await data({ after: p1 })).toEqual([2, 3, 4])
    expect(await data({ after: p0, to: p3 })).toEqual([1, 2])
    expect(await data({ limit: 2 })).toEqual([0, 1])
    expect(await data({ from: p1, limit: 0 })).toEqual([])
  })

  it('hides events of deleted streams from reads by query', async () => {
    const store = await memoryStore()
    await store.appendToStream('s', [{ type: 'A', tags: ['t'] }])
    await store.append([{ type: 'B', tags: ['t'] }])
    await store.deleteStream('s')
    expect(types(await collect(store.read({ items: [{ tags: ['t'] }] })))).toEqual(['B'])
  })

  it('refuses bad tags and queries with INVALID_ARGUMENT naming the field', async () => {
    const store = await memoryStore()
    const field = async (p: Promise<unknown>): Promise<string> => {
      const e = await failure(p)
      return `${e.code} ${(e.error as { field?: string }).field ?? ''}`
    }
    expect(await field(store.append([{ type: 'A', tags: [''] }]))).toBe(
      'INVALID_ARGUMENT events[0].tags[0]',
    )
    expect(await field(store.append([{ type: 'A', tags: ['a', 'a'] }]))).toBe(
      'INVALID_ARGUMENT events[0].tags[1]',
    )
    expect(await field(store.append([{ type: 'A', tags: 'a' as never }]))).toBe(
      'INVALID_ARGUMENT events[0].tags',
    )
    const many = Array.from({ length: 33 }, (_, i) => `t${i}`)
    expect(await field(store.append([{ type: 'A', tags: many }]))).toBe(
      'INVALID_ARGUMENT events[0].tags',
    )
    expect(await field(store.append([{ type: 'A', tags: ['x\uD800'] }]))).toBe(
      'INVALID_ARGUMENT events[0].tags[0]',
    )
    expect(await field(collect(store.read({ items: [] })))).toBe('INVALID_ARGUMENT query.items')
    expect(await field(collect(store.read({ items: [{}] })))).toBe(
      'INVALID_ARGUMENT query.items[0]',
    )
    expect(await field(collect(store.read({ items: [{ types: [] }] })))).toBe(
      'INVALID_ARGUMENT query.items[0].types',
    )
    expect(await field(collect(store.read({ items: [{ tags: ['a'], other: 1 } as never] })))).toBe(
      'INVALID_ARGUMENT query.items[0].other',
    )
    expect(await field(collect(store.read('every' as never)))).toBe('INVALID_ARGUMENT query')
    const condition = { failIfEventsMatch: { items: [{ tags: [''] }] } }
    expect(await field(store.append([{ type: 'A' }], { condition }))).toBe(
      'INVALID_ARGUMENT options.condition.failIfEventsMatch.items[0].tags[0]',
    )
    const after = { failIfEventsMatch: 'all' as const, after: -1 }
    expect(await field(store.append([{ type: 'A' }], { condition: after }))).toBe(
      'INVALID_ARGUMENT options.condition.after',
    )
    expect(await collect(store.read('all'))).toEqual([])
  })
})

describe('conditional appends', () => {
  it('fails when a matching event exists above after, naming the first, and writes nothing', async () => {
    const store = await memoryStore()
    const first = await store.append([{ type: 'CourseDefined', tags: ['course:c1'] }])
    const second = await store.append([{ type: 'CourseRenamed', tags: ['course:c1'] }])
    const e = await failure(
      store.append([{ type: 'X', tags: ['course:c1'] }], {
        condition: { failIfEventsMatch: course('c1') },
      }),
    )
    expect(e.code).toBe('APPEND_CONDITION_FAILED')
    expect(e.error).toMatchObject({ position: first.position, after: undefined })
    const above = await failure(
      store.append([{ type: 'X' }], {
        condition: { failIfEventsMatch: course('c1'), after: first.position },
      }),
    )
    expect(above.error).toMatchObject({ position: second.position, after: first.position })
    expect(types(await collect(store.read('all')))).toEqual(['CourseDefined', 'CourseRenamed'])
  })

  it('succeeds when the only matches are at or below after, or match another item', async () => {
    const store = await memoryStore()
    await store.append([{ type: 'A', tags: ['x'] }])
    const last = await store.append([{ type: 'B', tags: ['x', 'y'] }])
    await store.append([{ type: 'C', tags: ['y'] }])
    const ok = async (query: Query, after?: number): Promise<boolean> =>
      store
        .append([{ type: 'Z' }], {
          condition: { failIfEventsMatch: query, ...(after === undefined ? {} : { after }) },
        })
        .then(
          () => true,
          (e: DeltalogError) => (e.code === 'APPEND_CONDITION_FAILED' ? false : Promise.reject(e)),
        )
    expect(await ok({ items: [{ tags: ['x'] }] }, last.position)).toBe(true)
    expect(await ok({ items: [{ tags: ['x'] }] }, last.position - 1)).toBe(false)
    expect(await ok({ items: [{ tags: ['x', 'z'] }] })).toBe(true)
    expect(await ok({ items: [{ types: ['A'], tags: ['y'] }] })).toBe(true)
    expect(await ok({ items: [{ types: ['C'] }] }, last.position)).toBe(false)
    expect(await ok({ items: [{ types: ['Q'] }, { tags: ['q'] }] })).toBe(true)
  })

  it("'all' fails on any event above after, and after past the head is refused", async () => {
    const store = await memoryStore()
    const a = await store.append([{ type: 'A' }])
    const e = await failure(
      store.append([{ type: 'B' }], { condition: { failIfEventsMatch: 'all' } }),
    )
    expect(e.error).toMatchObject({ code: 'APPEND_CONDITION_FAILED', position: a.position })
    await store.append([{ type: 'B' }], {
      condition: { failIfEventsMatch: 'all', after: a.position },
    })
    const past = store.log.nextSequence() + 5
    const beyond = await failure(
      store.append([{ type: 'C' }], { condition: { failIfEventsMatch: 'all', after: past } }),
    )
    expect(beyond.error).toMatchObject({ code: 'INVALID_ARGUMENT', field: 'condition.after' })
  })

  it('takes after up to the last position, and refuses the head itself', async () => {
    const store = await memoryStore()
    await store.append([{ type: 'A' }])
    const head = store.log.nextSequence()
    const at = async (after: number): Promise<string> =>
      store.append([{ type: 'B' }], { condition: { failIfEventsMatch: 'all', after } }).then(
        () => 'ok',
        (e: DeltalogError) => `${e.code} ${String((e.error as { field?: string }).field)}`,
      )
    expect(await at(head)).toBe('INVALID_ARGUMENT condition.after')
    expect(await at(head - 1)).toBe('ok')
  })

  it('of two concurrent appends with the same condition, exactly one succeeds', async () => {
    const store = await memoryStore()
    const base = await store.append([{ type: 'CourseDefined', tags: ['course:c1'] }])
    const attempt = (student: string): Promise<string> =>
      store
        .append([{ type: 'Subscribed', tags: ['course:c1', `student:${student}`] }], {
          condition: {
            failIfEventsMatch: { items: [{ types: ['Subscribed'], tags: ['course:c1'] }] },
            after: base.position,
          },
        })
        .then(
          () => 'ok',
          (e: DeltalogError) => e.code,
        )
    const results = await Promise.all(['s1', 's2', 's3', 's4'].map(attempt))
    expect(results.filter((r) => r === 'ok')).toHaveLength(1)
    expect(results.filter((r) => r === 'APPEND_CONDITION_FAILED')).toHaveLength(3)
    const subscribed = await collect(store.read({ items: [{ types: ['Subscribed'] }] }))
    expect(subscribed).toHaveLength(1)
  })

  it('names the position of a match written earlier in the same commit', async () => {
    const store = await memoryStore()
    const condition = { failIfEventsMatch: { items: [{ tags: ['k'] }] } }
    const [a, b] = await Promise.allSettled([
      store.append([{ type: 'A', tags: ['k'] }], { condition }),
      store.append([{ type: 'B', tags: ['k'] }], { condition }),
    ])
    expect(a.status).toBe('fulfilled')
    expect(b.status).toBe('rejected')
    const written = await collect(store.read({ items: [{ tags: ['k'] }] }))
    expect((b as PromiseRejectedResult).reason).toMatchObject({
      code: 'APPEND_CONDITION_FAILED',
      error: { position: written[0]?.position },
    })
  })

  it('composes with stream expectations: all or nothing', async () => {
    const store = await memoryStore()
    await store.append([{ type: 'A', tags: ['t'] }])
    const condition = { failIfEventsMatch: { items: [{ tags: ['t'] }] } }
    const both = await failure(
      store.appendToStream('s', [{ type: 'X' }], { expectedRevision: 'no_stream', condition }),
    )
    expect(both.code).toBe('APPEND_CONDITION_FAILED')
    const wrong = await failure(
      store.appendMulti(
        [
          { streamId: 's', events: [{ type: 'X' }] },
          { streamId: 'u', events: [{ type: 'Y' }], expectedRevision: 3 },
        ],
        { condition: { failIfEventsMatch: { items: [{ tags: ['none'] }] } } },
      ),
    )
    expect(wrong.code).toBe('WRONG_EXPECTED_REVISION')
    expect(await collect(store.readStream('s'))).toEqual([])
    const r = await store.appendToStream('s', [{ type: 'X', tags: ['u'] }], {
      expectedRevision: 'no_stream',
      condition: { failIfEventsMatch: { items: [{ tags: ['u'] }] } },
    })
    expect(r.nextExpectedRevision).toBe(0)
  })

  it('does not count an event its stream deleted: conditions see what reads return', async () => {
    const store = await memoryStore()
    await store.appendToStream('s', [{ type: 'A', tags: ['k'] }])
    const kept = await store.append([{ type: 'B', tags: ['k'] }])
    await store.deleteStream('s')
    const condition = { failIfEventsMatch: { items: [{ tags: ['k'] }] } }
    const e = await failure(store.append([{ type: 'C' }], { condition }))
    expect(e.error).toMatchObject({ code: 'APPEND_CONDITION_FAILED', position: kept.position })
    const onlyDeleted = { failIfEventsMatch: { items: [{ types: ['A'] }] } }
    await store.append([{ type: 'D' }], { condition: onlyDeleted })
    expect(types(await collect(store.read({ items: [{ tags: ['k'] }] })))).toEqual(['B'])
  })

  it('does not count what a delete earlier in the same commit hides, stored or new', async () => {
    const store = await memoryStore()
    await store.appendToStream('s', [{ type: 'A', tags: ['stored'] }])
    const stored = { failIfEventsMatch: { items: [{ tags: ['stored'] }] } }
    const fresh = { failIfEventsMatch: { items: [{ tags: ['fresh'] }] } }
    const outcomes = await Promise.allSettled([
      store.appendToStream('t', [{ type: 'B', tags: ['fresh'] }]),
      store.deleteStream('s'),
      store.deleteStream('t'),
      store.append([{ type: 'C' }], { condition: stored }),
      store.append([{ type: 'D' }], { condition: fresh }),
    ])
    expect(outcomes.map((o) => o.status)).toEqual(Array(5).fill('fulfilled'))
    // C's condition matched a stored event of the stream deleted before it: it is decided
    // again once the delete is written, so it lands after D.
    expect(types(await collect(store.read('all'))).sort()).toEqual(['C', 'D'])
  })

  it('a retry of stored events with ids succeeds whatever its condition matches now', async () => {
    const store = await memoryStore()
    const condition = { failIfEventsMatch: { items: [{ tags: ['k'] }] } }
    const first = await store.append([{ type: 'A', tags: ['k'], id: 'e1' }], { condition })
    const again = await store.append([{ type: 'A', tags: ['k'], id: 'e1' }], { condition })
    expect(again).toEqual(first)
    expect(await collect(store.read('all'))).toHaveLength(1)
  })
})

describe('queries and renamed types', () => {
  it('find events stored under a former name by the current one, and refuse the former', async () => {
    const memory = reopenableMemory()
    const old = await openEventStore({ storage: memory.open() })
    await old.append([{ type: 'CartCreated', tags: ['cart:1'] }])
    await old.close()
    const store = await openEventStore({
      storage: memory.open(),
      upcasters: { CartCreated: { renamedTo: 'CartOpened' } },
    })
    cleanup.push(() => store.close())
    await store.append([{ type: 'CartOpened', tags: ['cart:2'] }])
    const opened = await collect(store.read({ items: [{ types: ['CartOpened'] }] }))
    expect(opened.map((e) => [e.type, e.tags])).toEqual([
      ['CartOpened', ['cart:1']],
      ['CartOpened', ['cart:2']],
    ])
    const condition = {
      failIfEventsMatch: { items: [{ types: ['CartOpened'], tags: ['cart:1'] }] },
    }
    const e = await failure(store.append([{ type: 'X' }], { condition }))
    expect(e.code).toBe('APPEND_CONDITION_FAILED')
    const former = await failure(collect(store.read({ items: [{ types: ['CartCreated'] }] })))
    expect(former.error).toMatchObject({
      code: 'INVALID_ARGUMENT',
      field: 'query.items[0].types[0]',
    })
  })
})

describe('subscribing by query', () => {
  it('delivers matching history, caughtUp, then matching live events, each once in order', async () => {
    const store = await memoryStore()
    await store.append([
      { type: 'A', tags: ['c'] },
      { type: 'B', tags: ['d'] },
    ])
    const ac = new AbortController()
    const seen: string[] = []
    const sub = store.subscribe({ items: [{ tags: ['c'] }] }, { signal: ac.signal })
    const done = (async (): Promise<void> => {
      for await (const m of sub as AsyncIterable<SubscriptionMessage>) {
        seen.push(m.type === 'event' ? m.event.type : 'caughtUp')
        if (seen.length === 4) ac.abort()
      }
    })()
    await store.append([{ type: 'C', tags: ['d'] }])
    await store.append([{ type: 'D', tags: ['c', 'd'] }])
    await store.appendToStream('s', [{ type: 'E', tags: ['c'] }])
    await done
    expect(seen).toEqual(['A', 'caughtUp', 'D', 'E'])
  })
})

describe('the index read with few connections (PostgreSQL)', () => {
  // An iteration on PostgreSQL holds a connection of the pool until it ends: a lookup that kept
  // one open per tag and type while it waited for another would wait for itself.
  it.runIf(postgresRuns)(
    'checks concurrent conditions of many tags, and reads a query of many types, on a pool of two',
    async () => {
      const table = freshTable()
      const storage = await openPostgresStorage({
        connection: { ...connection(), max: 2 },
        table,
        timeouts: { poolMs: 2000 },
      })
      const store = await openEventStore({ storage })
      cleanup.push(() => dropTables(table))
      cleanup.push(() => store.close())
      await store.append([
        { type: 'A', tags: ['x', 'y'] },
        { type: 'B', tags: ['y', 'z'] },
      ])
      const condition = (tags: string[]) => ({
        condition: { failIfEventsMatch: { items: [{ tags }, { types: ['C', 'D'], tags }] } },
      })
      const results = await Promise.allSettled([
        store.append([{ type: 'C' }], condition(['x', 'y'])),
        store.append([{ type: 'C' }], condition(['y', 'z'])),
        store.append([{ type: 'C' }], condition(['x', 'z'])),
        store.append([{ type: 'C' }], condition(['z', 'w'])),
      ])
      expect(
        results.map((r) => (r.status === 'fulfilled' ? 'ok' : (r.reason as DeltalogError).code)),
      ).toEqual(['APPEND_CONDITION_FAILED', 'APPEND_CONDITION_FAILED', 'ok', 'ok'])
      const read = await collect(
        store.read({ items: [{ types: ['A', 'B', 'C', 'D'] }, { tags: ['y'] }] }),
      )
      expect(types(read)).toEqual(['A', 'B', 'C', 'C'])
    },
  )
})
