// Case 10, deltalog on PostgreSQL (deltalog/postgres), against what an application would write
// with `pg` itself: durable group commit of 256 producers against one INSERT per transaction,
// bulk append against a multi-row INSERT of the same records, and the delivery latency of a
// follower in another process, woken by NOTIFY, against the append's own.
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { performance } from 'node:perf_hooks'
import { createInterface } from 'node:readline'
import pg from 'pg'
import { openLog, type Log } from '../../src/index.js'
import { openPostgresStorage } from '../../src/postgres/storage.js'
import { typeScriptArgs } from '../../test/support/child.js'
import {
  figure,
  paired,
  percentile,
  perSecond,
  producers,
  target,
  time,
  valueOf,
  valuesOf,
  type CaseResult,
} from '../measure.js'

export interface PostgresSizes {
  /** How long each side of group commit appends per round. */
  readonly ms: number
  /** Records per side per round of bulk append, in batches of BATCH. */
  readonly records: number
  /** Appends per round of the follow latency. */
  readonly appends: number
  readonly rounds: number
}

const PRODUCERS = 256
const BATCH = 1000
const VALUE_BYTES = 100
// pg's default pool size, for both sides.
const POOL = 10
const FOLLOWER = new URL('./postgresFollower.ts', import.meta.url).pathname

const freshTable = (): string => `bench_${randomBytes(6).toString('hex')}`

/** Runs `run` with a pool on a new table name; drops what it created afterwards. */
const withTable = async <A>(
  url: string,
  run: (pool: pg.Pool, table: string) => Promise<A>,
): Promise<A> => {
  const pool = new pg.Pool({ connectionString: url, max: POOL })
  const table = freshTable()
  try {
    return await run(pool, table)
  } finally {
    await pool.query(`DROP TABLE IF EXISTS "${table}", "${table}_meta"`)
    await pool.end()
  }
}

const openOn = async (pool: pg.Pool, table: string, durability: 'sync' | 'buffered') => {
  const storage = await openPostgresStorage({ pool, table })
  return openLog({ storage, durability })
}

/** The table an application would append events to. */
const createEvents = (pool: pg.Pool, table: string) =>
  pool.query(
    `CREATE TABLE "${table}" (seq bigserial PRIMARY KEY, key text NOT NULL, value bytea NOT NULL)`,
  )

/** Follow latencies of one round: delivery to the other process, and the append's own. */
const followRound = async (url: string, appends: number) =>
  withTable(url, async (pool, table) => {
    const log: Log = await openOn(pool, table, 'sync')
    const child = spawn(process.execPath, typeScriptArgs(FOLLOWER, [url, table]), {
      stdio: ['pipe', 'pipe', 'inherit'],
    })
    const arrivals = new Map<number, (at: number) => void>()
    const lines = createInterface({ input: child.stdout })
    let ready: () => void = () => undefined
    const isReady = new Promise<void>((resolve) => (ready = resolve))
    lines.on('line', (line) => {
      if (line === 'ready') return ready()
      const [sequence, at] = line.split(' ').map(Number)
      arrivals.get(sequence ?? -1)?.(at ?? NaN)
    })
    const exited = new Promise<void>((resolve) => child.on('close', () => resolve()))
    try {
      await isReady
      const value = valueOf(VALUE_BYTES)
      const delivered: number[] = []
      const acknowledged: number[] = []
      for (let i = 0; i < appends; i++) {
        const sequence = log.nextSequence()
        const arrived = new Promise<number>((resolve) => arrivals.set(sequence, resolve))
        const start = performance.timeOrigin + performance.now()
        await log.append([{ key: 'stream-0', value }])
        acknowledged.push(performance.timeOrigin + performance.now() - start)
        delivered.push((await arrived) - start)
        arrivals.delete(sequence)
      }
      return { delivered, acknowledged }
    } finally {
      child.stdin.end()
      await exited
      await log.close()
    }
  })

export const postgres = async (url: string, sizes: PostgresSizes): Promise<CaseResult> => {
  const value = valueOf(VALUE_BYTES)
  const groupDeltalog = () =>
    withTable(url, async (pool, table) => {
      const log = await openOn(pool, table, 'sync')
      const rate = await producers(PRODUCERS, sizes.ms, (p) =>
        log.append([{ key: `producer-${p}`, value }]),
      )
      await log.close()
      return rate
    })
  const groupInsert = () =>
    withTable(url, async (pool, table) => {
      await createEvents(pool, table)
      const sql = `INSERT INTO "${table}" (key, value) VALUES ($1, $2)`
      return producers(PRODUCERS, sizes.ms, (p) => pool.query(sql, [`producer-${p}`, value]))
    })

  const values = valuesOf(BATCH, VALUE_BYTES)
  const keys = Array.from({ length: BATCH }, () => 'stream-0')
  const records = values.map((v) => ({ key: 'stream-0', value: v }))
  const bulkDeltalog = () =>
    withTable(url, async (pool, table) => {
      const log = await openOn(pool, table, 'sync')
      const ms = await time(async () => {
        for (let i = 0; i < sizes.records; i += BATCH) await log.append(records)
      })
      await log.close()
      return perSecond(sizes.records, ms)
    })
  const bulkInsert = () =>
    withTable(url, async (pool, table) => {
      await createEvents(pool, table)
      const sql = `INSERT INTO "${table}" (key, value) SELECT * FROM unnest($1::text[], $2::bytea[])`
      const ms = await time(async () => {
        for (let i = 0; i < sizes.records; i += BATCH) await pool.query(sql, [keys, values])
      })
      return perSecond(sizes.records, ms)
    })

  const group = figure(
    'deltalog on PostgreSQL, 256 producers, sync',
    'appends/s',
    `pg, 256 producers on a pool of ${POOL}, one INSERT per transaction`,
    await paired(sizes.rounds, groupDeltalog, groupInsert),
  )
  const bulk = figure(
    'deltalog on PostgreSQL, bulk append of 1000 records, sync',
    'records/s',
    'pg, one multi-row INSERT of the same 1000 records per transaction',
    await paired(sizes.rounds, bulkDeltalog, bulkInsert),
  )
  const rounds = []
  for (let round = 0; round < sizes.rounds; round++) {
    rounds.push(await followRound(url, sizes.appends))
  }
  const p50 = (xs: ReadonlyArray<number>): number =>
    percentile(
      [...xs].sort((a, b) => a - b),
      0.5,
    )
  const follow = figure(
    'follow delivery p50, in another process',
    'ms',
    'append resolved p50, sync',
    {
      subject: rounds.map((r) => p50(r.delivered)),
      baseline: rounds.map((r) => p50(r.acknowledged)),
    },
  )
  return {
    id: 'postgres',
    title: 'On PostgreSQL',
    setup:
      `On one PostgreSQL server, deltalog/postgres against pg: ${PRODUCERS} producers awaiting ` +
      `appends of one ${VALUE_BYTES}-byte record for ${sizes.ms} ms; ` +
      `${sizes.records.toLocaleString('en-US')} records in appends of ${BATCH}; ` +
      `${sizes.appends.toLocaleString('en-US')} single appends with a follower in another process`,
    rounds: sizes.rounds,
    figures: [group, bulk, follow],
    targets: [target(group, 'ratio', '>=', 10), target(bulk, 'ratio', '>=', 0.8)],
    notes: [
      'Both sides commit with synchronous_commit = on, so every acknowledged record is in the ' +
        "server's flushed write-ahead log; both use a pool of 10 connections. The baseline " +
        'table is what an application would write: (seq bigserial primary key, key text, ' +
        'value bytea).',
      'The follower runs in a child process on a read-only storage, woken by NOTIFY; its ' +
        'delivery time runs from the call to append to the entry reaching the follower, on ' +
        "one host's clock. It is reported, without a target.",
    ],
  }
}
