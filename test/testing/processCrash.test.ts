// Real crashes: a writer process on RocksDB in sync mode is killed with SIGKILL again and again,
// and after every kill the reopened log must hold every acknowledged append (DESIGN.md
// invariants 1–4). `npm run test:crash -- --kills N` runs the same loop for longer.
import { afterEach, expect, it } from 'vitest'
import { runProcessCrashes } from '../../src/testing/processCrash.js'
import { makeTempDir, removeDir } from '../tmpdir.js'

const dirs: string[] = []
afterEach(async () => {
  for (const dir of dirs.splice(0)) await removeDir(dir)
})

it('keeps invariants 1–4 across 20 SIGKILLs of a writer on RocksDB', async () => {
  const dir = await makeTempDir('crash')
  dirs.push(dir)
  const seed = 0x5eb10c
  // Small blocks, so that block boundaries and restarts mid-block both happen.
  const report = await runProcessCrashes({ dir: `${dir}/log`, kills: 20, seed, blockSize: 64 })
  expect(report.violations, `seed ${seed}`).toEqual([])
  expect(report.crashes).toBe(20)
  expect(report.acknowledged).toBeGreaterThan(0)
  expect(report.recovered).toBeGreaterThanOrEqual(report.acknowledged)
}, 120_000)
