// Leases on PostgreSQL (src/postgres/lease.ts): one holder at a time per table and name, a
// standby that gets the lease as soon as its holder lets it go or its session ends, heartbeats
// that keep a running holder's lease past its ttl, a holder cut off from the server that loses
// the lease before the server gives it away, bounded waits, and no connection left behind.
import { randomBytes } from 'node:crypto'
import pg from 'pg'
import { afterEach, describe, expect, it } from 'vitest'
import { holdLease, type Lease, type LeaseOptions } from '../../src/postgres/lease.js'
import { code } from '../support/codes.js'
import { freezableProxy } from '../support/silentServer.js'
import { connection, freshTable, postgresRuns, postgresUrl } from './server.js'

const cleanups: Array<() => Promise<unknown>> = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

/** Connection settings whose sessions this test can count and end: an application name of its own. */
const tagged = (url = postgresUrl): { connectionString: string; application_name: string } => ({
  connectionString: url ?? connection().connectionString ?? '',
  application_name: `lease_${randomBytes(4).toString('hex')}`,
})

/** Holds a lease, released after the test. */
const hold = async (options: LeaseOptions): Promise<Lease> => {
  const lease = await holdLease(options)
  cleanups.push(() => lease.release())
  return lease
}

/** A wait for a lease, given up after the test; `settled()` says whether it ended. */
const wait = (options: Omit<LeaseOptions, 'signal'>) => {
  const stop = new AbortController()
  let settled = false
  const lease = holdLease({ ...options, signal: stop.signal })
  lease.then(
    () => (settled = true),
    () => (settled = true),
  )
  cleanups.push(async () => {
    stop.abort()
    await (await lease.catch(() => undefined))?.release()
  })
  return { lease, settled: () => settled, stop: () => stop.abort() }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/** Runs `sql` on a connection of its own. */
const ask = async <R extends pg.QueryResultRow>(sql: string, values: unknown[] = []) => {
  const client = new pg.Client(connection())
  await client.connect()
  try {
    return (await client.query<R>(sql, values)).rows
  } finally {
    await client.end()
  }
}

/** The server's sessions of an application name. */
const sessions = async (application: string): Promise<number> =>
  Number(
    (
      await ask<{ n: string }>(
        'SELECT count(*) AS n FROM pg_stat_activity WHERE application_name = $1',
        [application],
      )
    )[0]?.n,
  )

/** Waits until `check` holds, polling, for `ms` at most. */
const eventually = async (check: () => Promise<boolean> | boolean, ms = 3000): Promise<void> => {
  const deadline = Date.now() + ms
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`not within ${ms} ms: ${check.toString()}`)
    await sleep(20)
  }
}

const reasonCode = (signal: AbortSignal): unknown => (signal.reason as { code?: unknown }).code

describe.runIf(postgresRuns)('leases', () => {
  it('has one holder per table and name: another name, or another table, is another lease', async () => {
    const table = freshTable()
    const settings = tagged()
    await hold({ connection: settings, table, name: 'orders' })
    // Each of these is held at once, beside the first.
    await hold({ connection: settings, table, name: 'payments' })
    await hold({ connection: settings, table: freshTable(), name: 'orders' })
    const [{ schema } = { schema: '' }] = await ask<{ schema: string }>(
      'SELECT current_schema() AS schema',
    )
    const same = [
      wait({ connection: settings, table, name: 'orders' }),
      // The same table, named with the schema an unqualified name resolves to.
      wait({ connection: settings, table: `${schema}.${table}`, name: 'orders' }),
    ]
    await sleep(400)
    expect(same.map((w) => w.settled())).toEqual([false, false])
  })

  it('gives the lease to a standby as soon as its holder lets it go, aborting lost with ABORTED', async () => {
    const table = freshTable()
    const settings = tagged()
    const holder = await holdLease({ connection: settings, table })
    const standby = wait({ connection: settings, table })
    await sleep(200)
    expect(standby.settled()).toBe(false)
    expect(holder.lost.aborted).toBe(false)
    const releasing = holder.release()
    // `lost` aborts before the lock is freed: what it guards stops before another takes over.
    expect(holder.lost.aborted).toBe(true)
    expect(reasonCode(holder.lost)).toBe('ABORTED')
    await releasing
    const started = Date.now()
    const next = await standby.lease
    // The standby waits on the lock, and gets it when it is freed, not at its next try.
    expect(Date.now() - started).toBeLessThan(1000)
    expect(next.lost.aborted).toBe(false)
    await holder[Symbol.asyncDispose]()
    await next.release()
    await next.release()
    await eventually(async () => (await sessions(settings.application_name)) === 0)
  })

  it('ends a wait at once when its signal aborts (ABORTED), leaving no connection', async () => {
    const table = freshTable()
    const settings = tagged()
    await hold({ connection: settings, table })
    const stop = new AbortController()
    const waiting = holdLease({ connection: settings, table, signal: stop.signal })
    await sleep(300)
    const started = Date.now()
    stop.abort()
    expect(await code(waiting)).toBe('ABORTED')
    expect(Date.now() - started).toBeLessThan(500)
    // The server lets the session go when the try in flight ends: within TRY_MS (2 s).
    await eventually(async () => (await sessions(settings.application_name)) === 1)
    expect(await code(holdLease({ connection: settings, table, signal: stop.signal }))).toBe(
      'ABORTED',
    )
  })

  it('keeps a lease once held when its signal aborts: the wait is what the signal ends', async () => {
    const table = freshTable()
    const settings = tagged()
    const stop = new AbortController()
    const lease = await hold({ connection: settings, table, signal: stop.signal })
    stop.abort()
    await sleep(100)
    expect(lease.lost.aborted).toBe(false)
    expect(
      await code(holdLease({ connection: settings, table, signal: AbortSignal.timeout(200) })),
    ).toBe('ABORTED')
  })

  it("keeps a running holder's lease past its ttl: heartbeats", async () => {
    const table = freshTable()
    const settings = tagged()
    const lease = await hold({ connection: settings, table, ttlMs: 300 })
    await sleep(1200)
    expect(lease.lost.aborted).toBe(false)
    expect(
      await code(holdLease({ connection: settings, table, signal: AbortSignal.timeout(300) })),
    ).toBe('ABORTED')
    expect(lease.lost.aborted).toBe(false)
  })

  it('loses the lease of a holder cut off from the server within its ttl, and the server frees it for a standby after the ttl', async () => {
    if (postgresUrl === undefined) throw new Error('no server')
    const proxy = await freezableProxy(postgresUrl)
    cleanups.push(() => proxy.close())
    const table = freshTable()
    const ttlMs = 600
    const lease = await hold({ connection: tagged(proxy.url), table, ttlMs })
    const standby = wait({ connection: tagged(), table, ttlMs })
    await sleep(300)
    expect(standby.settled()).toBe(false)
    const frozen = Date.now()
    proxy.freeze()
    // A heartbeat that gets no answer within ttl/3 ends the lease: before the server frees it.
    await eventually(() => lease.lost.aborted, 2000)
    const lostAfter = Date.now() - frozen
    // Lost by the heartbeat that got no answer within ttl/3.
    expect(lease.lost.reason).toMatchObject({
      code: 'IO_ERROR',
      error: { timeout: { waited: 'query', ms: ttlMs / 3 } },
    })
    expect(lostAfter).toBeLessThan(ttlMs)
    expect(standby.settled()).toBe(false)
    // The server ends the silent session after the ttl, freeing the lock.
    const next = await standby.lease
    // The server's clock ran from the last heartbeat, ttl/3 at most before the freeze.
    expect(Date.now() - frozen).toBeGreaterThanOrEqual(ttlMs - ttlMs / 3 - 50)
    expect(Date.now() - frozen).toBeLessThan(ttlMs + 2500)
    expect(next.lost.aborted).toBe(false)
  })

  it("loses the lease when the holder's session ends (IO_ERROR), and a standby whose connection is lost connects again", async () => {
    const table = freshTable()
    const holderSettings = tagged()
    const standbySettings = tagged()
    const lease = await hold({ connection: holderSettings, table })
    const standby = wait({ connection: standbySettings, table })
    await eventually(async () => (await sessions(standbySettings.application_name)) === 1)
    await ask(
      'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1',
      [standbySettings.application_name],
    )
    await sleep(300)
    expect(standby.settled()).toBe(false)
    await eventually(async () => (await sessions(standbySettings.application_name)) === 1)
    await ask(
      'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1',
      [holderSettings.application_name],
    )
    await eventually(() => lease.lost.aborted)
    expect(reasonCode(lease.lost)).toBe('IO_ERROR')
    const next = await standby.lease
    expect(next.lost.aborted).toBe(false)
    await lease.release()
    expect(await sessions(holderSettings.application_name)).toBe(0)
  })

  it('refuses bad options before connecting: INVALID_ARGUMENT', async () => {
    const c = { connectionString: 'postgresql://nobody@/nowhere?host=/nonexistent' }
    for (const options of [
      { connection: c, table: 'Orders' },
      { connection: c, table: 'a.b.c' },
      { connection: c, table: 't', ttlMs: 99 },
      { connection: c, table: 't', ttlMs: 1.5 },
      { connection: c, table: 't', name: 3 },
      { connection: c, table: 't', timeouts: { queryMs: 0 } },
      { connection: c, table: 't', colour: 'red' },
      { table: 't' },
    ]) {
      expect(await code(holdLease(options as unknown as LeaseOptions))).toBe('INVALID_ARGUMENT')
    }
  })
})
