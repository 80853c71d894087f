// A reader's LISTEN connection lost and made again: commits made while it was down were never
// announced on it, so the notifier tells every listener once it listens again. The new LISTEN is
// held back until a commit has landed, so that nothing but that catch-up can announce it.
import { randomBytes } from 'node:crypto'
import pg from 'pg'
import { afterEach, describe, expect, it } from 'vitest'
import { openPostgresStorage } from '../../src/postgres/storage.js'
import { connection, dropTables, freshTable, postgresRuns } from './server.js'

// The sessions this file opens, by name: the only ones it terminates.
const OURS = `notifier_${randomBytes(4).toString('hex')}`

const cleanups: Array<() => Promise<unknown>> = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

describe.runIf(postgresRuns)('a reader whose LISTEN connection was lost', () => {
  it('announces the commits made while it was down once it listens again', async () => {
    const table = freshTable()
    cleanups.push(() => dropTables(table))
    const writer = await openPostgresStorage({ connection: connection(OURS), table })
    cleanups.push(() => writer.close()())
    // The reader's pool holds back its next LISTEN until `release` is called.
    const pool = new pg.Pool(connection(OURS))
    pool.on('error', () => undefined)
    cleanups.push(() => pool.end())
    let hold: Promise<void> | undefined = undefined
    let release = (): void => undefined
    pool.on('connect', (client) => {
      const query = client.query.bind(client) as (...args: unknown[]) => Promise<unknown>
      Object.assign(client, {
        query: async (...args: unknown[]) => {
          if (hold !== undefined && String(args[0]).startsWith('LISTEN')) await hold
          return query(...args)
        },
      })
    })
    const reader = await openPostgresStorage({ pool, table, readOnly: true })
    cleanups.push(() => reader.close()())
    let told = 0
    const watching = await reader.watch?.(() => told++)()
    expect(watching !== undefined && watching._tag).toBe('Right')

    hold = new Promise((resolve) => (release = resolve))
    const admin = new pg.Client(connection())
    await admin.connect()
    cleanups.push(() => admin.end())
    const killed = await admin.query(
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE 'LISTEN %' AND application_name = $1",
      [OURS],
    )
    expect(killed.rowCount).toBeGreaterThan(0)
    // A commit while nothing listens: its NOTIFY reaches no one.
    const put = { type: 'put' as const, key: Uint8Array.of(1), value: Uint8Array.of(1) }
    expect((await writer.write([put], { sync: true })())._tag).toBe('Right')
    const before = told
    release()
    for (let waited = 0; told === before && waited < 5000; waited += 20) await sleep(20)
    expect(told).toBeGreaterThan(before)
  })
})
