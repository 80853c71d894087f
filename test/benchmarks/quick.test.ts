// The benchmark suite must keep running: its quick mode runs every case at small sizes, and this
// checks that the JSON it writes has every case with numbers. No timing is asserted.
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { expect, it } from 'vitest'
import type { SuiteResult } from '../../benchmarks/report.js'
import { runTypeScript } from '../support/child.js'
import { postgresRuns } from '../postgres/server.js'
import { makeTempDir, removeDir } from '../support/tmpdir.js'

const suite = new URL('../../benchmarks/run.ts', import.meta.url).pathname

// The suite takes about a minute and a half on two busy cores; the timeouts leave room for more.
it('runs every benchmark case in quick mode', { timeout: 180_000 }, async () => {
  const dir = await makeTempDir('bench-quick')
  try {
    const child = runTypeScript(suite, { args: ['--quick', '--out', dir], timeoutMs: 170_000 })
    expect(child.error).toBeUndefined()
    expect(child.status, child.stderr).toBe(0)
    const result = JSON.parse(await readFile(join(dir, 'quick.json'), 'utf8')) as SuiteResult
    expect(result.quick).toBe(true)
    expect(result.machine.cores).toBeGreaterThan(0)
    expect(result.cases.map((c) => c.id)).toEqual([
      // The machine's limits and the durable throughput curve, measured first.
      'ceiling',
      'bulk-append-one-key',
      'bulk-append-many-keys',
      'durable-group-commit',
      'reads',
      'follow-latency',
      'recovery',
      'bounded-memory',
      'event-store',
      'read-stream',
      // On the test server; under CI, where there must be one, never left out.
      ...(postgresRuns ? ['postgres'] : []),
      'dcb',
      ...(postgresRuns ? ['dcb-postgres'] : []),
      'projection-catch-up',
      'projection-lag',
      'snapshot-load',
      'tracing',
    ])
    const limits = result.cases.find((c) => c.id === 'ceiling')?.limits
    expect(limits?.batches.map((b) => b.producers)).toEqual([1, 4, 16, 64, 256, 1024])
    expect(limits?.fsync.p50).toBeGreaterThan(0)
    expect(limits?.postgres !== undefined).toBe(postgresRuns)
    for (const c of result.cases) {
      expect(c.figures.length, c.id).toBeGreaterThan(0)
      for (const f of c.figures) {
        for (const s of [f.subject, f.baseline, f.ratio]) {
          for (const n of [s.median, s.min, s.max]) {
            expect(Number.isFinite(n), `${c.id}: ${f.label}`).toBe(true)
            expect(n, `${c.id}: ${f.label}`).toBeGreaterThan(0)
          }
        }
      }
      for (const t of c.targets) expect(Number.isFinite(t.actual), c.id).toBe(true)
    }
  } finally {
    await removeDir(dir)
  }
})
