// The PostgreSQL adapter under faults of a real server: a takeover against a write in flight, a
// connection killed in the middle of a transaction, a restart of the server under a writer and
// a follower; and readers, woken by NOTIFY and never by polling.
import { execFile } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { promisify } from 'node:util'
import * as E from 'fp-ts/lib/Either.js'
import * as O from 'fp-ts/lib/Option.js'
import pg from 'pg'
import { afterEach, describe, expect, it } from 'vitest'
import { openLog, verifyStorage, type Log, type LogEntry } from '../../src/index.js'
import { seqBlockKey } from '../../src/codec/records.js'
import { openPostgresStorage } from '../../src/postgres/storage.js'
import type { Storage } from '../../src/storage/port.js'
import { code } from '../support/codes.js'
import { connection, dropTables, freshTable, postgresRuns } from './server.js'

// The sessions this file opens, by name: the only ones its tests terminate.
const OURS = `faults_${randomBytes(4).toString('hex')}`

const restartScript = process.env['DELTALOG_TEST_POSTGRES_RESTART']

const cleanups: Array<() => Promise<unknown>> = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

const newTable = (): string => {
  const table = freshTable()
  cleanups.push(() => dropTables(table))
  return table
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

const open = async (
  table: string,
  options: {
    readonly readOnly?: boolean
    readonly snapshot?: boolean
    readonly listen?: boolean
    readonly pool?: pg.Pool
  } = {},
): Promise<Storage> => {
  const { pool, ...rest } = options
  return openPostgresStorage({
    table,
    ...(pool === undefined ? { connection: connection(OURS) } : { pool }),
    ...rest,
  })
}

/**
 * A pool whose connections count their queries and can be stopped at one: `arm(match, then)`
 * makes the next query whose text starts with `match` wait for `then(client)` first.
 */
const interceptedPool = () => {
  const pool = new pg.Pool(connection(OURS))
  let queries = 0
  let armed: { match: string; then: (pid: number) => Promise<void> } | undefined
  pool.on('connect', (client) => {
    const query = client.query.bind(client) as (...args: unknown[]) => unknown
    const pid = (client as unknown as { processID: number }).processID
    ;(client as unknown as { query: (...args: unknown[]) => unknown }).query = (...args) => {
      queries++
      const hook = armed
      if (hook !== undefined && typeof args[0] === 'string' && args[0].startsWith(hook.match)) {
        armed = undefined
        return hook.then(pid).then(() => query(...args))
      }
      return query(...args)
    }
  })
  pool.on('error', () => undefined)
  cleanups.push(() => pool.end())
  return {
    pool,
    queries: () => queries,
    arm: (match: string, then: (pid: number) => Promise<void>) => (armed = { match, then }),
  }
}

/**
 * Holds the row of `key` in an open transaction of its own — a new row it inserted, or an
 * existing one it locked — so that a write of that key waits. `waiting()` resolves with the
 * waiting backend's pid; `release()` rolls the transaction back.
 */
const holdRow = async (table: string, key: Uint8Array, how: 'insert' | 'lock') => {
  const client = new pg.Client(connection(OURS))
  await client.connect()
  await client.query('BEGIN')
  await client.query(
    how === 'insert'
      ? `INSERT INTO "${table}" (key, value) VALUES ($1, $1)`
      : `SELECT 1 FROM "${table}" WHERE key = $1 FOR UPDATE`,
    [Buffer.from(key)],
  )
  const mine = (client as unknown as { processID: number }).processID
  return {
    waiting: async (): Promise<number> => {
      for (let tries = 0; tries < 500; tries++) {
        const found = await client.query<{ pid: number }>(
          "SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND pid <> $1 AND usename = current_user",
          [mine],
        )
        const pid = found.rows[0]?.pid
        if (pid !== undefined) return pid
        await sleep(10)
      }
      throw new Error('no write came to wait for the held row')
    },
    release: async (): Promise<void> => {
      await client.query('ROLLBACK')
      await client.end()
    },
  }
}

/** Runs one statement as the test role on a connection of its own. */
const admin = async (sql: string, params: unknown[] = []): Promise<pg.QueryResult> => {
  const client = new pg.Client(connection())
  await client.connect()
  try {
    return await client.query(sql, params)
  } finally {
    await client.end()
  }
}

const text = (bytes: Uint8Array): string => new TextDecoder().decode(bytes)

/** Takes `n` entries from a follower, as `sequence value`. */
const take = async (follower: AsyncIterator<LogEntry>, n: number): Promise<string[]> => {
  const out: string[] = []
  while (out.length < n) {
    const next = await follower.next()
    if (next.done === true) throw new Error('the follower ended')
    out.push(`${next.value.sequence} ${text(next.value.value)}`)
  }
  return out
}

const verified = async (table: string): Promise<number> => {
  const storage = await open(table, { readOnly: true })
  try {
    const report = await verifyStorage(storage)
    expect(report.violations).toEqual([])
    return report.entries
  } finally {
    await storage.close()()
  }
}

describe.runIf(postgresRuns)('postgres under faults', () => {
  it('lets a takeover wait for the write in flight, which lands first; the old writer is FENCED after', async () => {
    const table = newTable()
    const first = await open(table)
    const key = new TextEncoder().encode('k')
    // The write waits for the key's row inside its transaction, holding its lock on the epoch.
    const holder = await holdRow(table, key, 'insert')
    const writing = first.write([{ type: 'put', key, value: key }], { sync: true })()
    await holder.waiting()
    const takingOver = open(table)
    try {
      const early = await Promise.race([takingOver.then(() => 'took over'), sleep(300)])
      expect(early).toBeUndefined()
    } finally {
      await holder.release()
    }
    expect(E.isRight(await writing)).toBe(true)
    const second = await takingOver
    expect(O.isSome(E.getOrElseW(() => O.none)(await second.get(key)()))).toBe(true)
    const refused = await first.write([{ type: 'put', key, value: key }], { sync: true })()
    expect(E.isLeft(refused) && refused.left.code).toBe('FENCED')
    await first.close()()
    await second.close()()
  })

  it('rejects an append whose connection is killed mid-transaction; nothing half-written, a reopen recovers', async () => {
    const table = newTable()
    const log = await openLog({ storage: await open(table), blockSize: 4 })
    await log.append([{ key: 'k', value: 'v0' }])
    // Six records take a new SeqBlock: the commit's transaction waits for that row, and its
    // connection is killed there.
    const holder = await holdRow(table, seqBlockKey, 'lock')
    const batch = Array.from({ length: 6 }, (_, i) => ({ key: 'k', value: `lost${i}` }))
    const appending = code(log.append(batch))
    const pid = await holder.waiting()
    await admin('SELECT pg_terminate_backend($1)', [pid])
    await holder.release()
    expect(await appending).toBe('IO_ERROR')
    expect(await code(log.append([{ key: 'k', value: 'after' }]))).toBe('WRITER_FAILED')
    await log.close()
    expect(await verified(table)).toBe(1)

    const again = await openLog({ storage: await open(table), blockSize: 4 })
    const next = await again.append([{ key: 'k', value: 'v1' }])
    expect(next.startSequence).toBeGreaterThan(0)
    const values: string[] = []
    for await (const e of again.scan()) values.push(text(e.value))
    expect(values).toEqual(['v0', 'v1'])
    await again.close()
    expect(await verified(table)).toBe(2)
  })

  it('wakes a reader by NOTIFY, never by polling, and loses nothing when its connection is killed', async () => {
    const table = newTable()
    const writer = await openLog({ storage: await open(table) })
    cleanups.push(() => writer.close())
    const r = interceptedPool()
    const readerStorage = await open(table, { pool: r.pool, readOnly: true })
    const reader = await openLog({ storage: readerStorage, readOnly: true })
    cleanups.push(async () => {
      await reader.close()
      await readerStorage.close()()
    })
    const follower = reader.follow({ from: 0 })[Symbol.asyncIterator]()
    const append = (values: ReadonlyArray<string>) =>
      writer.append(values.map((value) => ({ key: 'k', value })))

    await append(['a0', 'a1'])
    expect(await take(follower, 2)).toEqual(['0 a0', '1 a1'])
    // Caught up and idle: a poller would query now and then; this reader asks nothing.
    const pending = follower.next()
    await sleep(200)
    const idle = r.queries()
    await sleep(1500)
    expect(r.queries()).toBe(idle)
    await append(['b0'])
    const woken = await pending
    expect(woken.done !== true && text(woken.value.value)).toBe('b0')

    // The listening connection is killed; commits meanwhile are delivered once it is back.
    const killed = await admin(
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE 'LISTEN %' AND application_name = $1",
      [OURS],
    )
    expect(killed.rowCount).toBeGreaterThan(0)
    await append(['c0', 'c1'])
    await append(['c2'])
    expect(await take(follower, 3)).toEqual(['3 c0', '4 c1', '5 c2'])
    await append(['d0'])
    expect(await take(follower, 1)).toEqual(['6 d0'])
  })

  it('lets a follower whose read loses its connection read on where it stood', async () => {
    const table = newTable()
    const writer = await openLog({ storage: await open(table), durability: 'buffered' })
    cleanups.push(() => writer.close())
    // More commits than one page of a scan: the follower's read goes back to the server.
    const count = 1100
    for (let i = 0; i < count; i++) await writer.append([{ key: `k${i % 7}`, value: `v${i}` }])
    await writer.flush()
    const storage = await open(table, { readOnly: true })
    const reader = await openLog({ storage, readOnly: true })
    cleanups.push(async () => {
      await reader.close()
      await storage.close()()
    })
    const follower = reader.follow({ from: 0 })[Symbol.asyncIterator]()
    const delivered = await take(follower, 1)
    // The read's snapshot is held open on its connection between pages; it is killed.
    const killed = await admin(
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE state = 'idle in transaction' AND application_name = $1",
      [OURS],
    )
    expect(killed.rowCount).toBe(1)
    delivered.push(...(await take(follower, count - 1)))
    expect(delivered).toEqual(Array.from({ length: count }, (_, i) => `${i} v${i}`))
  })

  it.runIf(restartScript !== undefined || process.env['CI'] !== undefined)(
    'keeps every acknowledged append across a server restart under a writer and a follower',
    async () => {
      if (restartScript === undefined) throw new Error('DELTALOG_TEST_POSTGRES_RESTART is not set')
      const table = newTable()
      let writer: Log = await openLog({ storage: await open(table) })
      const readerStorage = await open(table, { readOnly: true })
      const reader = await openLog({ storage: readerStorage, readOnly: true })
      cleanups.push(async () => {
        await reader.close()
        await readerStorage.close()()
      })
      const follower = reader.follow({ from: 0 })[Symbol.asyncIterator]()
      const acknowledged: string[] = []
      let stopped: string | undefined
      const appending = (async () => {
        for (let i = 0; stopped === undefined; i++) {
          try {
            const { startSequence } = await writer.append([{ key: 'k', value: `a${i}` }])
            acknowledged.push(`${startSequence} a${i}`)
          } catch (error) {
            stopped = (error as { code?: string }).code
          }
        }
      })()
      while (acknowledged.length < 20) await sleep(10)
      await promisify(execFile)(restartScript)
      await appending
      expect(['IO_ERROR', 'WRITER_FAILED']).toContain(stopped)
      await writer.close().catch(() => undefined)

      // A new writer after the restart goes on; the follower gets everything once, in order.
      writer = await openLog({ storage: await open(table) })
      const after = await writer.append([{ key: 'k', value: 'after' }])
      acknowledged.push(`${after.startSequence} after`)
      await writer.close()
      const delivered = await take(follower, acknowledged.length)
      const stored: string[] = []
      for await (const e of reader.scan()) stored.push(`${e.sequence} ${text(e.value)}`)
      expect(delivered).toEqual(stored)
      for (const a of acknowledged) expect(stored).toContain(a)
      await verified(table)
    },
    60_000,
  )
})

/** The notification channel of a table's log, as docs/postgres.md gives it. */
const channelOf = (table: string): string =>
  `deltalog_${createHash('sha256').update(table).digest('hex').slice(0, 24)}`

/** The LISTEN sessions of a table's readers, as the server lists them. */
const listening = async (table: string): Promise<number> => {
  const found = await admin(
    'SELECT count(*)::int AS n FROM pg_stat_activity WHERE query = $1 AND usename = current_user',
    [`LISTEN "${channelOf(table)}"`],
  )
  return (found.rows[0] as { n: number }).n
}

describe.runIf(postgresRuns)('postgres readers', () => {
  it('end a follower with the error when the server refuses the read, and let go of the listener on close', async () => {
    const table = newTable()
    const writer = await openLog({ storage: await open(table) })
    await writer.append([{ key: 'k', value: 'v0' }])
    await writer.close()
    const storage = await open(table, { readOnly: true })
    const reader = await openLog({ storage, readOnly: true })
    expect(await listening(table)).toBe(1)
    const follower = reader.follow({ from: 0 })[Symbol.asyncIterator]()
    expect(await take(follower, 1)).toEqual(['0 v0'])
    // The table goes; a commit's notification wakes the reader, whose reads now fail for good.
    const next = follower.next()
    // It may reject while the statements below still run: handled now, checked after them.
    next.catch(() => undefined)
    await admin(`DROP TABLE "${table}"`)
    await admin('SELECT pg_notify($1, $2)', [channelOf(table), ''])
    await expect(next).rejects.toMatchObject({ code: 'IO_ERROR' })
    await reader.close()
    // The listener's connection is ended, not awaited by the pool: its backend goes soon after.
    let left = await listening(table)
    for (let tries = 0; left > 0 && tries < 100; tries++) {
      await sleep(20)
      left = await listening(table)
    }
    expect(left).toBe(0)
    await storage.close()()
  })

  it('read one snapshot with snapshot: true, whatever the writer does meanwhile', async () => {
    const table = newTable()
    const writer = await openLog({ storage: await open(table), blockSize: 4 })
    cleanups.push(() => writer.close())
    await writer.append(Array.from({ length: 3 }, (_, i) => ({ key: 'k', value: `a${i}` })))
    const snapshot = await open(table, { readOnly: true, snapshot: true })
    expect(snapshot.watch).toBeUndefined()
    // A new block, more commits and a truncation, all after the snapshot.
    await writer.append(Array.from({ length: 6 }, (_, i) => ({ key: 'k', value: `b${i}` })))
    await writer.truncateBefore(2)
    const report = await verifyStorage(snapshot)
    expect(report.violations).toEqual([])
    expect(report.entries).toBe(3)
    const reader = await openLog({ storage: snapshot, readOnly: true })
    expect(await reader.count()).toBe(3)
    await reader.close()
    await snapshot.close()()
    await expect(
      openPostgresStorage({ connection: connection(OURS), table, snapshot: true }),
    ).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', error: { field: 'snapshot' } })
  })

  it("set a buffered write's durability for its own transaction only", async () => {
    const table = newTable()
    const pool = new pg.Pool({ ...connection(OURS), max: 1 })
    cleanups.push(() => pool.end())
    const storage = await open(table, { pool })
    const put = { type: 'put' as const, key: Uint8Array.of(1), value: Uint8Array.of(1) }
    expect(E.isRight(await storage.write([put], { sync: false })())).toBe(true)
    const shown = await pool.query<{ synchronous_commit: string }>('SHOW synchronous_commit')
    expect(shown.rows[0]?.synchronous_commit).toBe('on')
    await storage.close()()
  })
})

describe.runIf(postgresRuns)('a read-only postgres storage', () => {
  it('refuses writes with READ_ONLY, creates nothing, and fences no writer', async () => {
    const table = newTable()
    await expect(
      openPostgresStorage({ connection: connection(OURS), table, readOnly: true }),
    ).rejects.toMatchObject({ name: 'DeltalogError', code: 'NOT_A_LOG' })
    const exists = await admin('SELECT to_regclass($1) AS t', [table])
    expect(exists.rows[0]).toEqual({ t: null })

    const writer = await openLog({ storage: await open(table) })
    await writer.append([{ key: 'k', value: 'v' }])
    const storage = await open(table, { readOnly: true })
    const put = { type: 'put' as const, key: Uint8Array.of(1), value: Uint8Array.of(1) }
    const refused = await storage.write([put], { sync: true })()
    expect(E.isLeft(refused) && refused.left.code).toBe('READ_ONLY')
    const reader = await openLog({ storage, readOnly: true })
    expect(await reader.count()).toBe(1)
    // The writer was not fenced by the reader's open.
    await writer.append([{ key: 'k', value: 'w' }])
    await reader.close()
    await storage.close()()
    // Without listening (as on a hot standby), a reader sees the log as it was when it opened.
    const unlistened = await open(table, { readOnly: true, listen: false })
    expect(unlistened.watch).toBeUndefined()
    const still = await openLog({ storage: unlistened, readOnly: true })
    await writer.append([{ key: 'k', value: 'x' }])
    expect(still.nextSequence()).toBe(2)
    expect(await still.count({ to: still.nextSequence() })).toBe(2)
    await still.close()
    await unlistened.close()()
    await writer.close()
  })
})
