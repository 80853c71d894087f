// The producer of the bounded-memory case, run in its own process so that its peak RSS is the
// store's and nothing else's: it appends `records` 100-byte records in batches of 1000 as fast as
// the store takes them, with up to 16 batches in flight, and prints its peak RSS as JSON.
//
//   tsx benchmarks/cases/memoryChild.ts <deltalog|raw> <directory> <records>
//
// With DELTALOG_BENCH_MEMORY_SAMPLE=<ms> it also samples the process's memory at that interval
// and prints to stderr, in MB, each measure's peak and the breakdown at the sample with the
// highest RSS: V8's heap by space, memory outside it (`external`: array buffers), and the rest
// (native code, RocksDB, what malloc keeps). The case itself never sets it.
import { join } from 'node:path'
import { getHeapSpaceStatistics, getHeapStatistics } from 'node:v8'
import { openLog } from '../../src/index.js'
import { valuesOf } from '../measure.js'
import { openRaw, type RawOp } from '../raw.js'

const [store, dir, count] = process.argv.slice(2)
const records = Number(count)
if ((store !== 'deltalog' && store !== 'raw') || dir === undefined || !(records > 0)) {
  throw new Error('usage: memoryChild.ts <deltalog|raw> <directory> <records>')
}

const BATCH = 1000
const IN_FLIGHT = 16
// Distinct values, as in the bulk cases: no two records in a row pass one array.
const values = valuesOf(BATCH, 100)

/** Calls `write(i)` for every batch start `i`, keeping up to IN_FLIGHT writes pending. */
const produce = async (write: (i: number) => Promise<unknown>): Promise<void> => {
  const pending = new Set<Promise<unknown>>()
  for (let i = 0; i < records; i += BATCH) {
    const p: Promise<unknown> = write(i).then(() => pending.delete(p))
    pending.add(p)
    if (pending.size >= IN_FLIGHT) await Promise.race(pending)
  }
  await Promise.all(pending)
}

const sampleMs = Number(process.env['DELTALOG_BENCH_MEMORY_SAMPLE'] ?? 0)
type Sample = Readonly<Record<string, number>>
const sample = (): Sample => {
  const m = process.memoryUsage()
  return {
    rss: m.rss,
    heapTotal: m.heapTotal,
    heapUsed: m.heapUsed,
    external: m.external,
    arrayBuffers: m.arrayBuffers,
    mallocedMemory: getHeapStatistics().malloced_memory,
    rest: m.rss - m.heapTotal - m.external,
    ...Object.fromEntries(getHeapSpaceStatistics().map((s) => [s.space_name, s.space_size])),
  }
}
const peaks: Record<string, number> = {}
let atPeakRss: Sample | undefined
const sampler =
  sampleMs > 0
    ? setInterval(() => {
        const s = sample()
        for (const [k, v] of Object.entries(s)) peaks[k] = Math.max(peaks[k] ?? 0, v)
        if (atPeakRss === undefined || (s['rss'] ?? 0) > (atPeakRss['rss'] ?? 0)) atPeakRss = s
      }, sampleMs).unref()
    : undefined
const inMB = (s: Sample | undefined): Record<string, number> =>
  Object.fromEntries(Object.entries(s ?? {}).map(([k, v]) => [k, Math.round(v / 2 ** 20)]))

const start = performance.now()
const beforeOpen = sampleMs > 0 ? sample() : undefined
if (store === 'deltalog') {
  const log = await openLog({ path: join(dir, 'log'), durability: 'buffered' })
  await produce((i) =>
    log.append(
      Array.from({ length: BATCH }, (_, j) => ({
        key: `stream-${(i + j) % 10}`,
        value: values[j] as Buffer,
      })),
    ),
  )
  await log.close()
} else {
  const db = await openRaw(join(dir, 'raw'))
  await produce((i) =>
    db.batch(
      Array.from({ length: BATCH }, (_, j): RawOp => ({
        type: 'put',
        key: `stream-${(i + j) % 10}/${String(i + j).padStart(12, '0')}`,
        value: values[j] as Buffer,
      })),
      false,
    ),
  )
  await db.close()
}
if (sampler !== undefined) {
  clearInterval(sampler)
  console.error(
    JSON.stringify({
      store,
      beforeOpen: inMB(beforeOpen),
      peaks: inMB(peaks),
      atPeakRss: inMB(atPeakRss),
    }),
  )
}
console.log(
  JSON.stringify({
    store,
    records,
    ms: performance.now() - start,
    peakRssBytes: process.resourceUsage().maxRSS * 1024,
  }),
)
