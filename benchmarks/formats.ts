// Format 1's writer against today's, in one process on the same addon: group commit of 256
// producers, sync, a fixed number of appends a round, each round against one synced put at a
// time on the raw addon; the three sides alternate their order from round to round. Format 1's
// writer is the tree of FORMAT1_COMMIT, the last commit whose writer wrote it, taken from git
// into a temporary directory that uses this checkout's node_modules (so the same addon).
// Each format's batch per commit is counted as well: puts and bytes, which no noise moves.
//
//   npm run bench:formats                 7 rounds of 40,000 appends; writes results/formats.json
//   npm run bench:formats -- --quick      tiny rounds; prints only
//   npm run bench:formats -- --profile    only the counted batches; writes results/formats.json
//
// Timings are only worth keeping from a quiet machine (a load average well below 1).
import { execFileSync } from 'node:child_process'
import { readFile, symlink, writeFile } from 'node:fs/promises'
import { loadavg } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { parseArgs } from 'node:util'
import { makeTempDir, removeDir } from '../test/support/tmpdir.js'
import { PRODUCER_COUNTS, replayBatch } from './ceiling.js'
import { recordCommit, withNotedWrites, type CommitShape, type LogModule } from './commitBatch.js'
import type { FormatProfile, FormatsResult, FormatsTimed } from './formatsReport.js'
import { inDir, perSecond, summarise, valueOf } from './measure.js'
import { openRaw } from './raw.js'

/** The last commit whose writer wrote format 1 (its child made the writer write format 2). */
export const FORMAT1_COMMIT = 'd2bffa3d1d89fa87c146e28c2399ce54f5c24dbb'

const PRODUCERS = 256
const VALUE_BYTES = 100

interface OpenedLog {
  readonly append: (records: ReadonlyArray<{ key: string; value: Uint8Array }>) => Promise<unknown>
  readonly close: () => Promise<void>
}
type OpenLog = (options: { path: string; durability: 'sync' }) => Promise<OpenedLog>

const root = new URL('..', import.meta.url).pathname

/** Format 1's source tree in `dir`, resolving packages from this checkout's node_modules. */
const extractFormat1 = async (dir: string): Promise<void> => {
  const archive = execFileSync('git', ['-C', root, 'archive', FORMAT1_COMMIT, 'src'], {
    maxBuffer: 256 * 1024 * 1024,
  })
  execFileSync('tar', ['-x', '-C', dir], { input: archive })
  await symlink(join(root, 'node_modules'), join(dir, 'node_modules'))
}

const load = async (srcDir: string): Promise<Build> => {
  const index = (await import(join(srcDir, 'index.ts'))) as { openLog: unknown }
  const memory = (await import(join(srcDir, 'storage', 'memory.ts'))) as {
    openMemoryStorage: () => unknown
  }
  return {
    openLog: index.openLog as LogModule['openLog'],
    openMemoryStorage: memory.openMemoryStorage,
    path: index.openLog as OpenLog,
  }
}

/** `total` appends from PRODUCERS producers, each awaiting its own: appends/s. */
const groupCommit = (openLog: OpenLog, total: number): Promise<number> =>
  inDir('formats-log', async (dir) => {
    const log = await openLog({ path: join(dir, 'log'), durability: 'sync' })
    const value = valueOf(VALUE_BYTES)
    let issued = 0
    const start = performance.now()
    try {
      await Promise.all(
        Array.from({ length: PRODUCERS }, async (_, p) => {
          while (issued < total) {
            issued++
            await log.append([{ key: `producer-${p}`, value }])
          }
        }),
      )
      return perSecond(total, performance.now() - start)
    } finally {
      await log.close()
    }
  })

/** `count` synced puts on the raw addon, one at a time: puts/s. */
const onePutAtATime = (count: number): Promise<number> =>
  inDir('formats-raw', async (dir) => {
    const db = await openRaw(join(dir, 'raw'))
    const value = valueOf(VALUE_BYTES)
    const start = performance.now()
    try {
      for (let i = 0; i < count; i++) {
        await db.put(`producer-0/${String(i).padStart(12, '0')}`, value, true)
      }
      return perSecond(count, performance.now() - start)
    } finally {
      await db.close()
    }
  })

const profileOf = async (
  format: 1 | 2,
  module: LogModule,
): Promise<ReadonlyArray<FormatProfile>> => {
  const out: FormatProfile[] = []
  for (const producers of PRODUCER_COUNTS) {
    const shape = await recordCommit(module, producers, valueOf(VALUE_BYTES))
    out.push({
      format,
      producers,
      puts: shape.puts.length,
      deletes: shape.deletes,
      bytes: shape.bytes,
    })
  }
  return out
}

/** Microseconds of this process's CPU time that `run` takes. */
const cpuTime = async (run: () => Promise<unknown>): Promise<number> => {
  const start = process.cpuUsage()
  await run()
  const used = process.cpuUsage(start)
  return used.user + used.system
}

/**
 * CPU time per commit of PRODUCERS appends on a memory storage, in µs: the engine's work alone,
 * with no disk, after as many commits to warm up.
 */
const engineCpu = (module: LogModule, commits: number): Promise<number> =>
  withNotedWrites(module, PRODUCERS, valueOf(VALUE_BYTES), async (round, writes) => {
    for (let i = 0; i < commits; i++) await round()
    writes.length = 0
    const used = await cpuTime(async () => {
      for (let i = 0; i < commits; i++) await round()
    })
    return used / writes.length
  })

/** CPU time per unsynced raw batch of the commit's shape, in µs: the addon's part of a write. */
const addonCpu = (shape: CommitShape, batches: number): Promise<number> =>
  inDir('formats-addon', async (dir) => {
    const db = await openRaw(join(dir, 'raw'))
    const values = shape.puts.map((put, i) => valueOf(put.valueBytes, i + 1))
    try {
      const used = await cpuTime(async () => {
        for (let b = 0; b < batches; b++) await db.batch(replayBatch(shape, values, b), false)
      })
      return used / batches
    } finally {
      await db.close()
    }
  })

interface Build extends LogModule {
  readonly path: OpenLog
}

const timed = async (
  sides: { readonly one: Build; readonly two: Build },
  sizes: {
    readonly appends: number
    readonly rounds: number
    readonly puts: number
    readonly commits: number
  },
): Promise<FormatsTimed> => {
  const loadAtStart = loadavg()[0] ?? 0
  const rates = { one: [] as number[], two: [] as number[], raw: [] as number[] }
  const cpu = {
    engine1: [] as number[],
    engine2: [] as number[],
    addon1: [] as number[],
    addon2: [] as number[],
  }
  const value = valueOf(VALUE_BYTES)
  const shapes = {
    one: await recordCommit(sides.one, PRODUCERS, value),
    two: await recordCommit(sides.two, PRODUCERS, value),
  }
  const runs = [
    () => groupCommit(sides.one.path, sizes.appends).then((r) => void rates.one.push(r)),
    () => groupCommit(sides.two.path, sizes.appends).then((r) => void rates.two.push(r)),
    () => onePutAtATime(sizes.puts).then((r) => void rates.raw.push(r)),
  ]
  for (let round = 0; round < sizes.rounds; round++) {
    for (let i = 0; i < runs.length; i++) await runs[(round + i) % runs.length]?.()
    cpu.engine1.push(await engineCpu(sides.one, sizes.commits))
    cpu.engine2.push(await engineCpu(sides.two, sizes.commits))
    cpu.addon1.push(await addonCpu(shapes.one, sizes.commits))
    cpu.addon2.push(await addonCpu(shapes.two, sizes.commits))
    process.stderr.write(
      `round ${round + 1}: format 1 ${Math.round(rates.one[round] ?? 0)}, format 2 ` +
        `${Math.round(rates.two[round] ?? 0)} appends/s; one put at a time ` +
        `${Math.round(rates.raw[round] ?? 0)} puts/s\n`,
    )
  }
  const over = (a: ReadonlyArray<number>, b: ReadonlyArray<number>) =>
    summarise(a.map((x, i) => x / (b[i] ?? NaN)))
  return {
    date: new Date().toISOString(),
    load: [loadAtStart, loadavg()[0] ?? 0],
    producers: PRODUCERS,
    appendsPerRound: sizes.appends,
    rounds: sizes.rounds,
    format1: summarise(rates.one),
    format2: summarise(rates.two),
    raw: summarise(rates.raw),
    format1Ratio: over(rates.one, rates.raw),
    format2Ratio: over(rates.two, rates.raw),
    format2OverFormat1: over(rates.two, rates.one),
    engineCpu: { format1: summarise(cpu.engine1), format2: summarise(cpu.engine2) },
    addonCpu: { format1: summarise(cpu.addon1), format2: summarise(cpu.addon2) },
  }
}

const main = async (): Promise<void> => {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      profile: { type: 'boolean', default: false },
    },
  })
  const quick = values.quick ?? false
  const sizes = quick
    ? { appends: 2_000, rounds: 2, puts: 30, commits: 10 }
    : { appends: 40_000, rounds: 7, puts: 2_000, commits: 300 }
  const dir = await makeTempDir('format1')
  try {
    await extractFormat1(dir)
    const one = await load(join(dir, 'src'))
    const two = await load(join(root, 'src'))
    const profile = [...(await profileOf(1, one)), ...(await profileOf(2, two))]
    for (const p of profile) {
      process.stderr.write(
        `format ${p.format}, ${p.producers} producers: ${p.puts} puts, ${p.bytes} bytes a commit\n`,
      )
    }
    const result: FormatsResult = {
      format1Commit: FORMAT1_COMMIT,
      profiledOn: new Date().toISOString(),
      profile,
      ...((values.profile ?? false) ? {} : { timed: await timed({ one, two }, sizes) }),
    }
    if (result.timed !== undefined) {
      const t = result.timed
      process.stdout.write(
        `format 1: ${t.format1Ratio.median.toFixed(1)}× one synced put (${t.format1Ratio.min.toFixed(1)}–${t.format1Ratio.max.toFixed(1)})\n` +
          `format 2: ${t.format2Ratio.median.toFixed(1)}× one synced put (${t.format2Ratio.min.toFixed(1)}–${t.format2Ratio.max.toFixed(1)})\n` +
          `format 2 / format 1: ${t.format2OverFormat1.median.toFixed(2)}× (${t.format2OverFormat1.min.toFixed(2)}–${t.format2OverFormat1.max.toFixed(2)})\n` +
          `CPU per commit of ${PRODUCERS}, µs: engine ${Math.round(t.engineCpu.format1.median)} (format 1) ` +
          `and ${Math.round(t.engineCpu.format2.median)} (format 2); the addon's write ` +
          `${Math.round(t.addonCpu.format1.median)} and ${Math.round(t.addonCpu.format2.median)}\n` +
          `load average ${t.load[0].toFixed(2)} at the start, ${t.load[1].toFixed(2)} at the end\n`,
      )
    }
    if (!quick) {
      const path = join(root, 'benchmarks', 'results', 'formats.json')
      // A profile alone keeps the timed comparison of an earlier run.
      const earlier = await readFile(path, 'utf8')
        .then((text) => (JSON.parse(text) as FormatsResult).timed)
        .catch(() => undefined)
      const kept = result.timed ?? earlier
      await writeFile(
        path,
        `${JSON.stringify({ ...result, ...(kept === undefined ? {} : { timed: kept }) }, null, 2)}\n`,
      )
      process.stderr.write(`wrote ${path}\n`)
    }
  } finally {
    await removeDir(dir)
  }
}

await main()
