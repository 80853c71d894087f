// Event store case: concurrent appendToStream calls with an exact expectedRevision over 1,000
// streams, against an event store on better-sqlite3 doing the same check in a transaction — a
// table with a unique (stream, revision) key, as SQLite event stores keep it — both durable.
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { openEventStore } from '../../src/index.js'
import { figure, inDir, paired, perSecond, target, type CaseResult } from '../measure.js'

export interface EventStoreSizes {
  /** How long each side appends per round. */
  readonly ms: number
  readonly rounds: number
}

const STREAMS = 1_000
const PRODUCERS = 256

interface Statement {
  run(...params: unknown[]): unknown
  get(...params: unknown[]): unknown
}
interface Sqlite {
  pragma(source: string): unknown
  exec(source: string): void
  prepare(source: string): Statement
  transaction<A extends unknown[]>(f: (...args: A) => void): (...args: A) => void
  close(): void
}
const Database = createRequire(import.meta.url)('better-sqlite3') as new (path: string) => Sqlite

const data = { amount: 10, note: 'x'.repeat(60) }

/**
 * Runs producers until `ms` passes. Each producer owns the streams `p, p + PRODUCERS, …`, keeps
 * their revisions, and appends one event at a time with the exact expected revision.
 */
const run = async (
  producers: number,
  ms: number,
  append: (stream: string, expected: number | 'no_stream') => Promise<number>,
): Promise<number> => {
  const start = performance.now()
  const deadline = start + ms
  let done = 0
  await Promise.all(
    Array.from({ length: producers }, async (_, p) => {
      const owned = Array.from(
        { length: Math.ceil((STREAMS - p) / producers) },
        (_, i) => p + i * producers,
      )
      const revisions = new Map<number, number>()
      for (let i = 0; performance.now() < deadline; i++) {
        const stream = owned[i % owned.length] ?? p
        const current = revisions.get(stream)
        revisions.set(stream, await append(`account-${stream}`, current ?? 'no_stream'))
        done++
      }
    }),
  )
  return perSecond(done, performance.now() - start)
}

export const eventStore = async (sizes: EventStoreSizes): Promise<CaseResult> => {
  const deltalog = (): Promise<number> =>
    inDir('es-deltalog', async (dir) => {
      const store = await openEventStore({ path: join(dir, 'events'), durability: 'sync' })
      const rate = await run(PRODUCERS, sizes.ms, async (stream, expected) => {
        const r = await store.appendToStream(stream, [{ type: 'Deposited', data }], {
          expectedRevision: expected,
        })
        return r.nextExpectedRevision
      })
      await store.close()
      return rate
    })
  const sqlite = (): Promise<number> =>
    inDir('es-sqlite', async (dir) => {
      const db = new Database(join(dir, 'events.sqlite'))
      db.pragma('journal_mode = WAL')
      db.pragma('synchronous = FULL')
      db.exec(
        'CREATE TABLE events (position INTEGER PRIMARY KEY, stream TEXT NOT NULL, ' +
          'revision INTEGER NOT NULL, type TEXT NOT NULL, data TEXT NOT NULL, ' +
          'UNIQUE (stream, revision))',
      )
      const current = db.prepare('SELECT max(revision) AS revision FROM events WHERE stream = ?')
      const insert = db.prepare(
        'INSERT INTO events (stream, revision, type, data) VALUES (?, ?, ?, ?)',
      )
      let next = 0
      const append = db.transaction((stream: string, expected: number | 'no_stream') => {
        const row = current.get(stream) as { revision: number | null }
        const actual = row.revision ?? 'no_stream'
        if (actual !== expected) throw new Error(`wrong expected revision on ${stream}`)
        next = actual === 'no_stream' ? 0 : actual + 1
        insert.run(stream, next, 'Deposited', JSON.stringify(data))
      })
      // The binding is synchronous: one durable transaction per append, as its users run it.
      const rate = await run(1, sizes.ms, (stream, expected) => {
        append(stream, expected)
        return Promise.resolve(next)
      })
      db.close()
      return rate
    })
  const vsSqlite = figure(
    `deltalog event store, ${PRODUCERS} producers, sync`,
    'appends/s',
    'better-sqlite3 event store, WAL, synchronous = FULL, check and insert in one transaction',
    await paired(sizes.rounds, deltalog, sqlite),
  )
  return {
    id: 'event-store',
    title: 'Event store: appends with an exact expected revision',
    setup:
      `appendToStream of one event with an exact expectedRevision over ${STREAMS} streams, ` +
      `${sizes.ms} ms per side per round; every acknowledged event is durable`,
    rounds: sizes.rounds,
    figures: [vsSqlite],
    targets: [target(vsSqlite, 'ratio', '>=', 10)],
    notes: [
      'deltalog decides each batch of queued appends in its single writer and commits them as ' +
        'one atomic batch with one fsync; SQLite commits and syncs each transaction alone.',
    ],
  }
}
