// The projection and snapshot cases of the benchmark suite, at tiny sizes, in this process: each
// must run (its own checks — the documents count every event once, a load from the snapshot
// folds `every - 1` events — throw if not) and report the figures and targets the report and
// the charts expect. No timing is asserted.
import { describe, expect, it } from 'vitest'
import { projectionCatchUp, projectionLag } from '../../benchmarks/cases/projections.js'
import { snapshotLoad } from '../../benchmarks/cases/snapshotLoad.js'
import type { CaseResult } from '../../benchmarks/measure.js'

/** Every figure's summaries are finite and positive; the targets are the ones given. */
const expectShape = (
  c: CaseResult,
  figures: ReadonlyArray<{ readonly unit: string }>,
  targets: ReadonlyArray<Pick<CaseResult['targets'][number], 'on' | 'op' | 'threshold'>>,
): void => {
  expect(c.figures.map((f) => ({ unit: f.unit }))).toEqual(figures)
  for (const f of c.figures) {
    for (const s of [f.subject, f.baseline, f.ratio]) {
      for (const n of [s.median, s.min, s.max]) {
        expect(Number.isFinite(n), `${c.id}: ${f.label}`).toBe(true)
        expect(n, `${c.id}: ${f.label}`).toBeGreaterThan(0)
      }
    }
  }
  expect(c.targets.map(({ on, op, threshold }) => ({ on, op, threshold }))).toEqual(targets)
  for (const t of c.targets) {
    // A target names a figure of its case, by its label and its baseline's.
    expect(c.figures.some((f) => f.label === t.figure && f.baselineLabel === t.baseline)).toBe(true)
    expect(Number.isFinite(t.actual)).toBe(true)
  }
}

describe('benchmark cases of projections and snapshots', { timeout: 60_000 }, () => {
  it('projection catch-up: events per second against the fold by hand, target ≥ 2×', async () => {
    const c = await projectionCatchUp({ events: 1_500, streams: 40, rounds: 2 })
    expect(c.id).toBe('projection-catch-up')
    expect(c.rounds).toBe(2)
    expectShape(c, [{ unit: 'events/s' }], [{ on: 'ratio', op: '>=', threshold: 2 }])
  })

  it('projection lag: p50 and p99 against the append, target p50 ≤ 2×', async () => {
    const c = await projectionLag({ appends: 10, rounds: 1 })
    expect(c.id).toBe('projection-lag')
    expectShape(c, [{ unit: 'ms' }, { unit: 'ms' }], [{ on: 'ratio', op: '<=', threshold: 2 }])
    expect(c.targets[0]?.figure).toContain('p50')
  })

  it('aggregate load from a snapshot against folding `every` events, target ≤ 1.5×', async () => {
    const c = await snapshotLoad({ events: 300, every: 100, loads: 3, rounds: 1 })
    expect(c.id).toBe('snapshot-load')
    expectShape(c, [{ unit: 'ms' }], [{ on: 'ratio', op: '<=', threshold: 1.5 }])
  })
})
