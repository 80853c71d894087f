// Time limits on everything that waits for a PostgreSQL server: a server that accepts connections
// and never answers, one that answers the startup and then nothing, a real server frozen under an
// open storage, and a pool whose every connection is held by an unfinished scan. Each wait ends
// in IO_ERROR whose `timeout` names what waited, within its limit and a margin for a loaded
// machine (MARGIN_MS); `close()` ends too.
import pg from 'pg'
import { afterEach, describe, expect, it } from 'vitest'
import { openLog, type Log } from '../../src/index.js'
import { openPostgresStorage } from '../../src/postgres/storage.js'
import { DEFAULT_TIMEOUTS } from '../../src/postgres/timeouts.js'
import { code } from '../support/codes.js'
import { freezableProxy, silentServer } from '../support/silentServer.js'
import { connection, dropTables, freshTable, postgresRuns, postgresUrl } from './server.js'

// What a call may take beyond its limit on a loaded machine.
const MARGIN_MS = 1500

const cleanups: Array<() => Promise<unknown>> = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

/** How long `promise` takes to settle, and how: its value or its error. */
const timed = async <A>(
  promise: Promise<A>,
): Promise<{ ms: number; error: Record<string, unknown> | undefined }> => {
  const started = Date.now()
  try {
    await promise
    return { ms: Date.now() - started, error: undefined }
  } catch (error) {
    return { ms: Date.now() - started, error: error as Record<string, unknown> }
  }
}

/**
 * The error a timed call failed with: `IO_ERROR` whose `timeout` is `waited` (or one of them)
 * within `ms`.
 */
const expectTimeout = (
  result: { ms: number; error: Record<string, unknown> | undefined },
  waited: string | ReadonlyArray<string>,
  ms: number,
): void => {
  expect(result.error).toMatchObject({
    code: 'IO_ERROR',
    error: { timeout: { ms }, lostConnection: true },
  })
  const timeout = (result.error?.['error'] as { timeout: { waited: string } }).timeout
  expect(typeof waited === 'string' ? [waited] : waited).toContain(timeout.waited)
  expect(result.ms).toBeGreaterThanOrEqual(ms - 20)
  expect(result.ms).toBeLessThan(ms + MARGIN_MS)
}

describe('a server that never answers', () => {
  it('fails an open with IO_ERROR (timeout: connect) within connectMs, and leaves no connection', async () => {
    const server = await silentServer('mute')
    cleanups.push(() => server.close())
    for (const readOnly of [false, true]) {
      const opening = openPostgresStorage({
        connection: { connectionString: server.url },
        table: 'log',
        readOnly,
        timeouts: { connectMs: 300 },
      })
      expectTimeout(await timed(opening), 'connect', 300)
    }
    // The storage's pool dropped what it had begun.
    for (let tries = 0; tries < 100 && server.open() > 0; tries++) {
      await new Promise((resolve) => setTimeout(resolve, 10))
    }
    expect(server.open()).toBe(0)
  })

  it('fails an open with IO_ERROR (timeout: query) within queryMs when the server answers the startup only', async () => {
    const server = await silentServer('stall')
    cleanups.push(() => server.close())
    const opening = openPostgresStorage({
      connection: { connectionString: server.url },
      table: 'log',
      timeouts: { queryMs: 300 },
    })
    const result = await timed(opening)
    expectTimeout(result, 'query', 300)
    expect(String(result.error?.['message'])).toMatch(
      /whether the statement took effect is unknown/,
    )
  })

  it('has defaults, and refuses a limit that is not a whole number of ms', async () => {
    expect(DEFAULT_TIMEOUTS).toEqual({ connectMs: 10_000, poolMs: 10_000, queryMs: 30_000 })
    for (const timeouts of [
      { queryMs: 0 },
      { connectMs: 1.5 },
      { poolMs: 2 ** 31 },
      { other: 1 },
    ]) {
      await expect(
        openPostgresStorage({ connection: {}, table: 'log', timeouts }),
      ).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' })
    }
  })
})

describe.runIf(postgresRuns)('a server that stops answering under an open storage', () => {
  it('fails scan and append within queryMs, stops the writer, ends a follower, and closes in bounded time', async () => {
    const table = freshTable()
    cleanups.push(() => dropTables(table))
    if (postgresUrl === undefined) throw new Error('no server')
    const proxy = await freezableProxy(postgresUrl)
    cleanups.push(() => proxy.close())
    const timeouts = { connectMs: 300, poolMs: 300, queryMs: 300 }
    const open = (readOnly: boolean) =>
      openPostgresStorage({
        connection: { connectionString: proxy.url },
        table,
        readOnly,
        timeouts,
      })
    const writer = await openLog({ storage: await open(false) })
    cleanups.push(() => writer.close().catch(() => undefined))
    await writer.append([{ key: 'k', value: 'v0' }])
    const readerStorage = await open(true)
    const reader = await openLog({ storage: readerStorage, readOnly: true })
    cleanups.push(() => reader.close())
    const follower = reader.follow({ from: 1 })[Symbol.asyncIterator]()
    const waiting = follower.next()
    // A storage whose pool keeps an idle connection, which the server will not let go.
    const idle = await openPostgresStorage({
      connection: { connectionString: proxy.url },
      table,
      readOnly: true,
      listen: false,
      timeouts,
    })

    proxy.freeze()
    const scanning = (async () => {
      for await (const entry of reader.scan()) void entry
    })()
    // A new connection, or the statement on an idle one.
    expectTimeout(await timed(scanning), ['connect', 'query'], 300)
    // The write's answer never came: whether it landed is unknown, so the writer stops.
    expectTimeout(await timed(writer.append([{ key: 'k', value: 'v1' }])), 'query', 300)
    expect(await code(writer.append([{ key: 'k', value: 'v2' }]))).toBe('WRITER_FAILED')

    // A follower waiting on a silent server ends when its log closes; every close ends.
    const bound = timeouts.queryMs + timeouts.connectMs + MARGIN_MS
    const closing = await timed(Promise.all([reader.close(), writer.close()]))
    expect(closing.error).toBeUndefined()
    expect(closing.ms).toBeLessThan(bound)
    expect(await waiting).toEqual({ done: true, value: undefined })
    const released = await timed(readerStorage.close()())
    expect(released.ms).toBeLessThan(bound)
    // Its connection, which the server never lets go, is dropped: no socket is left to keep the
    // process alive (the proxy's own two stay).
    const sockets = (): number =>
      process.getActiveResourcesInfo().filter((r) => r === 'PipeWrap').length
    const before = sockets()
    const dropped = await timed(idle.close()())
    expect(dropped.error).toBeUndefined()
    expect(dropped.ms).toBeLessThan(timeouts.connectMs + MARGIN_MS)
    expect(sockets()).toBe(before - 1)
  })
})

describe.runIf(postgresRuns)('a pool whose connections are all held', () => {
  it('fails the next scan, append and count with IO_ERROR (timeout: pool) within poolMs, and closes', async () => {
    const table = freshTable()
    cleanups.push(() => dropTables(table))
    const pool = new pg.Pool({ ...connection(), max: 10 })
    cleanups.push(() => pool.end())
    // A short connectMs too: a pool wait taken for a connection's fails soon.
    const timeouts = { poolMs: 300, connectMs: 1000 }
    const writer: Log = await openLog({
      storage: await openPostgresStorage({ pool, table, timeouts }),
    })
    await writer.append([{ key: 'k', value: 'v0' }])
    const storage = await openPostgresStorage({
      pool,
      table,
      readOnly: true,
      listen: false,
      timeouts,
    })
    const reader = await openLog({ storage, readOnly: true })
    // Ten unfinished scans, each holding a connection for its snapshot.
    const scans = Array.from({ length: 10 }, () => reader.scan()[Symbol.asyncIterator]())
    for (const scan of scans) expect((await scan.next()).done).toBe(false)

    const eleventh = reader.scan()[Symbol.asyncIterator]().next()
    expectTimeout(await timed(eleventh), 'pool', 300)
    expectTimeout(await timed(writer.append([{ key: 'k', value: 'v1' }])), 'pool', 300)
    expectTimeout(await timed(reader.count()), 'pool', 300)
    const closing = await timed(
      Promise.all([reader.close(), writer.close().catch(() => undefined), storage.close()()]),
    )
    expect(closing.error).toBeUndefined()
    expect(closing.ms).toBeLessThan(MARGIN_MS)
  })
})

describe.runIf(postgresRuns)('many key scans at once on a small pool', () => {
  it('all finish: a key scan holds no connection while it reads the commit records of its runs', async () => {
    const table = freshTable()
    cleanups.push(() => dropTables(table))
    const timeouts = { poolMs: 2000 }
    const storage = await openPostgresStorage({
      connection: { ...connection(), max: 4 },
      table,
      timeouts,
    })
    const log = await openLog({ storage })
    cleanups.push(() => log.close())
    // Values past the inline limit of a run: a key scan reads them from their commit records.
    const big = 'x'.repeat(2000)
    for (let i = 0; i < 5; i++) {
      await log.append(Array.from({ length: 20 }, (_, j) => ({ key: `k${j}`, value: big })))
    }
    const scans = Array.from({ length: 20 }, async (_, j) => {
      let n = 0
      for await (const entry of log.scan({ key: `k${j}` })) {
        if (entry.value.length === big.length) n++
      }
      return n
    })
    expect(await Promise.all(scans)).toEqual(Array(20).fill(5))
  })
})
