// The ceiling, measured first in every run: the latency of a synced 4 KiB write on this disk, a
// PostgreSQL round trip (with a server), and for 1 to 1024 producers the durable throughput
// curve — deltalog's sync group commit beside its ceiling, the raw addon writing back to back
// synced batches of exactly the puts one of deltalog's commits of that many appends writes.
import { open } from 'node:fs/promises'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import pg from 'pg'
import { openLog } from '../../src/index.js'
import { openMemoryStorage } from '../../src/storage/memory.js'
import {
  ceilingLabel,
  ceilingRate,
  curveLabel,
  latencyOf,
  PRODUCER_COUNTS,
  replayBatch,
  CEILING_ID,
  type BatchLimit,
  type Latency,
} from '../ceiling.js'
import { recordCommit, type CommitShape, type LogModule } from '../commitBatch.js'
import {
  figure,
  inDir,
  paired,
  producers,
  target,
  valueOf,
  type CaseResult,
  type Figure,
} from '../measure.js'
import { openRaw } from '../raw.js'

export interface CeilingSizes {
  /** How long each side runs per round, at each producer count. */
  readonly ms: number
  readonly rounds: number
  /** Synced 4 KiB writes timed. */
  readonly fsyncs: number
  /** PostgreSQL round trips timed. */
  readonly roundTrips: number
}

const VALUE_BYTES = 100
const FSYNC_BYTES = 4096

/** Appends a 4 KiB block to a file and fdatasyncs it, `count` times after one untimed. */
const fsyncLatency = (count: number): Promise<Latency> =>
  inDir('ceiling-fsync', async (dir) => {
    const file = await open(join(dir, 'synced'), 'w')
    const block = valueOf(FSYNC_BYTES)
    const samples: number[] = []
    try {
      for (let i = 0; i <= count; i++) {
        const start = performance.now()
        await file.write(block, 0, FSYNC_BYTES, null)
        await file.datasync()
        if (i > 0) samples.push(performance.now() - start)
      }
    } finally {
      await file.close()
    }
    return latencyOf(samples)
  })

/** `SELECT 1` on one connection, `count` times after one untimed. */
const roundTrip = async (url: string, count: number): Promise<Latency> => {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  const samples: number[] = []
  try {
    await client.query('SELECT 1')
    for (let i = 0; i < count; i++) {
      const start = performance.now()
      await client.query('SELECT 1')
      samples.push(performance.now() - start)
    }
  } finally {
    await client.end()
  }
  return latencyOf(samples)
}

/**
 * Writes synced batches of the commit's shape back to back for `ms`, each latency into `into`;
 * resolves with their mean latency in milliseconds.
 */
const rawBatches = (shape: CommitShape, ms: number, into: number[]): Promise<number> =>
  inDir('ceiling-raw', async (dir) => {
    const db = await openRaw(join(dir, 'raw'))
    const values = shape.puts.map((put, i) => valueOf(put.valueBytes, i + 1))
    const start = performance.now()
    let batches = 0
    try {
      while (performance.now() - start < ms || batches === 0) {
        const ops = replayBatch(shape, values, batches)
        const began = performance.now()
        await db.batch(ops, true)
        into.push(performance.now() - began)
        batches++
      }
    } finally {
      await db.close()
    }
    return (performance.now() - start) / batches
  })

/** deltalog's sync group commit of `count` producers, each appending one record: appends/s. */
const groupCommit = (count: number, ms: number): Promise<number> =>
  inDir('ceiling-deltalog', async (dir) => {
    const value = valueOf(VALUE_BYTES)
    const log = await openLog({ path: join(dir, 'log'), durability: 'sync' })
    try {
      return await producers(count, ms, (p) => log.append([{ key: `producer-${p}`, value }]))
    } finally {
      await log.close()
    }
  })

const thisBuild: LogModule = {
  openLog: openLog as unknown as LogModule['openLog'],
  openMemoryStorage,
}

/** One point of the curve: deltalog against its ceiling, round by round, and the raw batch. */
const point = async (
  count: number,
  sizes: CeilingSizes,
): Promise<{ readonly figure: Figure; readonly batch: BatchLimit }> => {
  const shape = await recordCommit(thisBuild, count, valueOf(VALUE_BYTES))
  const latencies: number[] = []
  const pairs = await paired(
    sizes.rounds,
    () => groupCommit(count, sizes.ms),
    async () => ceilingRate(count, await rawBatches(shape, sizes.ms, latencies)),
  )
  return {
    figure: figure(curveLabel(count), 'appends/s', ceilingLabel(count), pairs),
    batch: {
      producers: count,
      puts: shape.puts.length,
      bytes: shape.bytes,
      latency: latencyOf(latencies),
    },
  }
}

/** The ceiling case; `postgresUrl` adds the round trip. */
export const ceiling = async (
  sizes: CeilingSizes,
  postgresUrl: string | undefined,
): Promise<CaseResult> => {
  const fsync = await fsyncLatency(sizes.fsyncs)
  const postgres =
    postgresUrl === undefined ? undefined : await roundTrip(postgresUrl, sizes.roundTrips)
  const points = []
  for (const count of PRODUCER_COUNTS) points.push(await point(count, sizes))
  const figures = points.map((p) => p.figure)
  const at256 = figures.find((f) => f.label === curveLabel(256))
  return {
    id: CEILING_ID,
    title: 'Ceiling: the durable throughput curve',
    setup:
      `the sync group commit of ${PRODUCER_COUNTS.join(', ')} producers, each awaiting ` +
      `appends of one ${VALUE_BYTES}-byte record, against its ceiling: the raw addon writing, ` +
      `back to back, synced batches of the puts one commit of as many appends writes; ` +
      `${sizes.ms} ms per side per round at each count`,
    rounds: sizes.rounds,
    figures,
    targets: at256 === undefined ? [] : [target(at256, 'ratio', '>=', 0.9)],
    notes: [],
    limits: {
      fsync,
      ...(postgres === undefined ? {} : { postgres }),
      batches: points.map((p) => p.batch),
    },
  }
}
