// Real crashes: a writer process on RocksDB in sync mode is killed with SIGKILL again and again,
// and after every kill the reopened log must hold every acknowledged append (invariants
// 1–4 of docs/crash-testing.md). `npm run test:crash -- --kills N` runs the same loop for longer.
import { afterEach, expect, inject, it } from 'vitest'
import { runProcessCrashes } from '../../src/testing/processCrash.js'
import { replayCommand } from '../support/setup.js'
import { makeTempDir, removeDir } from '../support/tmpdir.js'

const dirs: string[] = []
afterEach(async () => {
  for (const dir of dirs.splice(0)) await removeDir(dir)
})

// CRASH_KILLS sets how many (npm run test:long: 1000). Each kill costs the start of a writer
// process, most of a second of CPU, so the default run keeps to 10: each run kills at fresh
// moments, and the long run goes deep.
const kills = Number(process.env['CRASH_KILLS'] ?? 10)

it(
  `keeps invariants 1–4 across ${kills} SIGKILLs of a writer on RocksDB`,
  async () => {
    expect(Number.isSafeInteger(kills) && kills > 0, 'CRASH_KILLS must be a positive integer').toBe(
      true,
    )
    const dir = await makeTempDir('crash')
    dirs.push(dir)
    // The run's seed picks the kill moments, so every run kills at new ones.
    const seed = inject('fcSeed')
    // Small blocks, so that block boundaries and restarts mid-block both happen.
    // Whole rereads every 5 kills (every 50 of 1000) and after the last; between them, the
    // entries above the last recovery are read and the rest counted.
    const fullCheckEvery = Math.max(5, Math.floor(kills / 20))
    const report = await runProcessCrashes({
      dir: `${dir}/log`,
      kills,
      seed,
      blockSize: 64,
      fullCheckEvery,
    })
    expect(report.violations, `replay: ${replayCommand(seed)}`).toEqual([])
    expect(report.crashes).toBe(kills)
    expect(report.acknowledged).toBeGreaterThan(0)
    expect(report.recovered).toBeGreaterThanOrEqual(report.acknowledged)
  },
  Math.max(120_000, kills * 3_000),
)
