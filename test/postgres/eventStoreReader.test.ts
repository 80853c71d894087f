// An event store read from another process than its writer's, on PostgreSQL: a writer process
// (children/eventWriter.ts) makes the calls the test sends it, while a store opened with
// readOnly: true here reads, and subscribes, woken by the writer's NOTIFY.
import { afterEach, describe, expect, it } from 'vitest'
import {
  openEventStore,
  type EventStore,
  type ReadEvent,
  type SubscriptionMessage,
} from '../../src/index.js'
import { openPostgresStorage } from '../../src/postgres/storage.js'
import { spawnTypeScript, type RunningChild } from '../support/child.js'
import { code } from '../support/codes.js'
import { connection, dropTables, freshTable, postgresRuns, postgresUrl } from './server.js'

const writerScript = new URL('./children/eventWriter.ts', import.meta.url).pathname

const cleanup: Array<() => Promise<void>> = []
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f()
})

/** A table of its own, and a writer process whose store is open on it. */
const startWriter = async (): Promise<{ table: string; writer: RunningChild }> => {
  const table = freshTable()
  cleanup.push(() => dropTables(table))
  const writer = spawnTypeScript(writerScript, {
    env: { DELTALOG_TEST_POSTGRES_URL: postgresUrl ?? '', DELTALOG_TABLE: table },
  })
  cleanup.push(() => Promise.resolve(void writer.child.kill('SIGKILL')))
  expect(JSON.parse(await writer.line(8000))).toEqual({ opened: true })
  return { table, writer }
}

/**
 * The writer makes `calls` in order — or all at once, `together` — and resolves with what each
 * resolved to, or its code.
 */
const make = async (
  writer: RunningChild,
  calls: ReadonlyArray<{ readonly call: string; readonly args: ReadonlyArray<unknown> }>,
  together = false,
): Promise<unknown[]> => {
  writer.send(JSON.stringify(together ? { together: calls } : calls))
  const out: unknown[] = []
  for (const _ of calls) out.push(JSON.parse(await writer.line(8000)))
  return out
}

const append = (streamId: string, ...types: string[]) => ({
  call: 'appendToStream',
  args: [streamId, types.map((type) => ({ type, data: { type } }))],
})

/** A read-only store on the table, here. */
const openReader = async (table: string): Promise<EventStore> => {
  const storage = await openPostgresStorage({ connection: connection(), table, readOnly: true })
  const store = await openEventStore({ storage, readOnly: true })
  cleanup.push(async () => {
    await store.close()
    await storage.close()()
  })
  return store
}

const collect = async <A>(it: AsyncIterable<A>): Promise<A[]> => {
  const out: A[] = []
  for await (const x of it) out.push(x)
  return out
}
const brief = (e: ReadEvent): string => `${e.position} ${e.streamId}#${e.revision}:${e.type}`

/** A subscription's messages as they come; `until(n)` waits for n of them. */
const gather = (subscription: AsyncIterableIterator<SubscriptionMessage>) => {
  const seen: string[] = []
  const done = (async () => {
    for await (const m of subscription) seen.push(m.type === 'event' ? brief(m.event) : m.type)
  })()
  const until = async (n: number): Promise<string[]> => {
    const deadline = Date.now() + 5000
    while (seen.length < n) {
      if (Date.now() > deadline) throw new Error(`only ${seen.length}: ${JSON.stringify(seen)}`)
      await new Promise((r) => setTimeout(r, 5))
    }
    return seen
  }
  return { seen, done, until }
}

describe.runIf(postgresRuns)('a read-only event store in another process than its writer', () => {
  it("subscribes to the writer's events and gets each once, in order, woken by NOTIFY", async () => {
    const { table, writer } = await startWriter()
    await make(writer, [append('a', 'A0'), append('b', 'B0')])
    const reader = await openReader(table)
    const all = gather(reader.subscribeToAll())
    const a = gather(reader.subscribeToStream('a'))
    await all.until(3)
    await a.until(2)
    // The writer goes on while the reader follows: single appends, a multi-stream commit, and
    // batches sent at once, so that some commits land while the reader is reading.
    const later = [
      append('a', 'A1', 'A2'),
      {
        call: 'appendMulti',
        args: [
          [
            { streamId: 'b', events: [{ type: 'B1' }] },
            { streamId: 'a', events: [{ type: 'A3' }] },
          ],
        ],
      },
      ...Array.from({ length: 20 }, (_, i) => append(i % 3 === 0 ? 'a' : 'c', `X${i}`)),
    ]
    const results = await make(writer, later)
    expect(results.filter((r) => !Object.hasOwn(r as object, 'ok'))).toEqual([])
    const events = (await collect(reader.readAll())).map(brief)
    expect(events).toHaveLength(26)
    expect(await all.until(27)).toEqual([...events.slice(0, 2), 'caughtUp', ...events.slice(2)])
    const ofA = events.filter((e) => e.includes(' a#'))
    const typesOfA = ['A0', 'A1', 'A2', 'A3', ...[0, 3, 6, 9, 12, 15, 18].map((i) => `X${i}`)]
    expect(ofA.map((e) => e.split(' ')[1])).toEqual(typesOfA.map((t, r) => `a#${r}:${t}`))
    expect(await a.until(12)).toEqual([ofA[0], 'caughtUp', ...ofA.slice(1)])
    // Nothing more comes: each event was delivered once.
    await new Promise((r) => setTimeout(r, 100))
    expect(all.seen).toHaveLength(27)
    expect(a.seen).toHaveLength(12)
    writer.send('close')
    await writer.rest()
  })

  it('subscribes by query while the writer appends with conditions: every match once, in order', async () => {
    const { table, writer } = await startWriter()
    const course = (id: string) => ({
      call: 'append',
      args: [[{ type: 'CourseDefined', tags: [`course:${id}`] }]],
    })
    await make(writer, [course('c1'), course('c2')])
    const reader = await openReader(table)
    const query = { items: [{ tags: ['course:c1'] }] }
    const c1 = gather(reader.subscribe(query))
    await c1.until(2)
    // Each student subscribes to a course once: a second try fails its condition, and writes
    // nothing the reader could see.
    const subscribe = (student: string, id: string) => ({
      call: 'append',
      args: [
        [{ type: 'Subscribed', tags: [`course:${id}`, `student:${student}`] }],
        {
          condition: {
            failIfEventsMatch: {
              items: [{ types: ['Subscribed'], tags: [`course:${id}`, `student:${student}`] }],
            },
          },
        },
      ],
    })
    const calls = Array.from({ length: 24 }, (_, i) =>
      subscribe(`s${i % 8}`, i % 3 === 0 ? 'c2' : 'c1'),
    )
    const results = [
      ...(await make(writer, calls.slice(0, 12), true)),
      ...(await make(writer, calls.slice(12))),
    ]
    const failed = results.filter((r) => Object.hasOwn(r as object, 'code'))
    expect(failed.every((r) => (r as { code: string }).code === 'APPEND_CONDITION_FAILED')).toBe(
      true,
    )
    expect(failed.length).toBeGreaterThan(0)
    const matching = (await collect(reader.read(query))).map(brief)
    // The course, and one subscription per student who tried c1.
    const students = new Set(calls.flatMap((_, i) => (i % 3 === 0 ? [] : [`s${i % 8}`])))
    expect(matching).toHaveLength(1 + students.size)
    expect(await c1.until(matching.length + 1)).toEqual([
      matching[0],
      'caughtUp',
      ...matching.slice(1),
    ])
    await new Promise((r) => setTimeout(r, 100))
    expect(c1.seen).toHaveLength(matching.length + 1)
    writer.send('close')
    await writer.rest()
  })

  it("reads what the writer wrote, shows the writer's later delete at its next read, and refuses writes", async () => {
    const { table, writer } = await startWriter()
    await make(writer, [
      append('a', 'A0', 'A1'),
      append('b', 'B0'),
      { call: 'checkpoints.save', args: ['projection', 1] },
    ])
    const reader = await openReader(table)
    expect((await collect(reader.readStream('a'))).map((e) => e.type)).toEqual(['A0', 'A1'])
    expect((await collect(reader.readAll())).map((e) => e.type)).toEqual(['A0', 'A1', 'B0'])
    expect(await reader.checkpoints.load('projection')).toBe(1)
    expect(await make(writer, [{ call: 'deleteStream', args: ['a'] }])).toEqual([{ ok: null }])
    // At once, whether or not the reader was told of the delete yet.
    expect(await collect(reader.readStream('a'))).toEqual([])
    expect((await collect(reader.readAll())).map((e) => e.type)).toEqual(['B0'])
    expect(await code(reader.appendToStream('a', [{ type: 'X' }]))).toBe('READ_ONLY')
    expect(await code(reader.deleteStream('b'))).toBe('READ_ONLY')
    expect(await code(reader.checkpoints.save('projection', 2))).toBe('READ_ONLY')
    const [appended] = await make(writer, [append('b', 'B1')])
    expect(appended).toMatchObject({ ok: { nextExpectedRevision: 1 } })
    writer.send('close')
    await writer.rest()
  })
})
