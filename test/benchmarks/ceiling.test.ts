// The ceiling's pure parts: latency percentiles, the ceiling model and each durable figure's
// fraction of it, the replayed batches' shape, the commit a build writes, the curve's SVG and
// the report's Ceiling, Tracing and Format sections. No timing is asserted.
import { describe, expect, it } from 'vitest'
import {
  ceilingLabel,
  ceilingRate,
  curveLabel,
  durableFractions,
  latencyOf,
  PRODUCER_COUNTS,
  replayBatch,
  type Limits,
} from '../../benchmarks/ceiling.js'
import { recordCommit, shapeOf, type LogModule } from '../../benchmarks/commitBatch.js'
import { curvePoints, decades, renderCurve } from '../../benchmarks/curve.js'
import type { CaseResult, Figure } from '../../benchmarks/measure.js'
import { renderReport, renderTargetsText, type SuiteResult } from '../../benchmarks/report.js'
import { openLog } from '../../src/index.js'
import { openMemoryStorage } from '../../src/storage/memory.js'

const summary = (median: number) => ({ median, min: median, max: median })

const fig = (label: string, subject: number, baseline: number, baselineLabel = 'b'): Figure => ({
  label,
  unit: 'appends/s',
  subject: summary(subject),
  baselineLabel,
  baseline: summary(baseline),
  ratio: summary(subject / baseline),
})

const limits: Limits = {
  fsync: { p50: 1, p99: 4, samples: 100 },
  postgres: { p50: 1, p99: 2, samples: 100 },
  batches: PRODUCER_COUNTS.map((n) => ({
    producers: n,
    puts: n + 1,
    bytes: 240 * n,
    latency: { p50: 2, p99: 5, samples: 10 },
  })),
}

/** A ceiling case whose ceiling at n producers is 1000 n, deltalog at 80% of it. */
const ceilingCase: CaseResult = {
  id: 'ceiling',
  title: 'Ceiling: the durable throughput curve',
  setup: 'the curve',
  rounds: 1,
  figures: PRODUCER_COUNTS.map((n) => fig(curveLabel(n), 800 * n, 1000 * n, ceilingLabel(n))),
  targets: [
    {
      figure: curveLabel(256),
      baseline: ceilingLabel(256),
      on: 'ratio',
      op: '>=',
      threshold: 0.9,
      actual: 0.8,
      met: false,
    },
  ],
  notes: [],
  limits,
}

const plainCase = (id: string, title: string, figures: ReadonlyArray<Figure>): CaseResult => ({
  id,
  title,
  setup: 'a case',
  rounds: 1,
  figures,
  targets: [],
  notes: [],
})

const suiteOf = (cases: ReadonlyArray<CaseResult>): SuiteResult => ({
  machine: {
    cores: 2,
    cpu: 'cpu',
    memoryGiB: 1,
    node: '20',
    platform: 'linux',
    date: '2026-12-07',
    load: [0, 0],
  },
  quick: false,
  cases,
})

describe('the ceiling model', () => {
  it('takes p50 and p99 by nearest rank, whatever the order of the samples', () => {
    const samples = Array.from({ length: 100 }, (_, i) => 100 - i)
    expect(latencyOf(samples)).toEqual({ p50: 50, p99: 99, samples: 100 })
    expect(latencyOf([3, 1, 2])).toEqual({ p50: 2, p99: 3, samples: 3 })
  })

  it('is P appends per batch latency', () => {
    expect(ceilingRate(256, 2)).toBe(128_000)
    expect(ceilingRate(1, 0.5)).toBe(2_000)
  })

  it('holds each durable figure against the ceiling of its storage', () => {
    const fractions = durableFractions([
      ceilingCase,
      plainCase('durable-group-commit', 'Durable group commit', [
        fig('deltalog, 256 producers, sync', 192_000, 1_000),
      ]),
      plainCase('postgres', 'On PostgreSQL', [
        fig('deltalog on PostgreSQL, 256 producers, sync', 64_000, 1_000),
      ]),
      plainCase('reads', 'Reads', [fig('deltalog key scan, one key', 1, 1)]),
    ])
    expect(fractions.map((f) => [f.caseId, f.ceiling, f.fraction])).toEqual([
      ['durable-group-commit', 256_000, 0.75],
      // 256 ÷ (1 ms round trip + 1 ms synced write)
      ['postgres', 128_000, 0.5],
    ])
  })

  it('leaves out the PostgreSQL figures when the run had no server', () => {
    const { postgres: _, ...noServer } = limits
    const fractions = durableFractions([
      { ...ceilingCase, limits: noServer },
      plainCase('postgres', 'On PostgreSQL', [
        fig('deltalog on PostgreSQL, 256 producers, sync', 64_000, 1_000),
      ]),
    ])
    expect(fractions).toEqual([])
  })
})

describe("a commit's batch and its replay", () => {
  it('counts puts, deletes and bytes', () => {
    const shape = shapeOf(2, [
      { type: 'put', key: new Uint8Array(3), value: new Uint8Array(10) },
      { type: 'del', key: new Uint8Array(4) },
    ])
    expect(shape).toEqual({
      producers: 2,
      puts: [{ keyBytes: 3, valueBytes: 10 }],
      deletes: 1,
      bytes: 17,
    })
  })

  it("records one commit of today's writer: a run record per producer and the commit record", async () => {
    const build: LogModule = {
      openLog: openLog as unknown as LogModule['openLog'],
      openMemoryStorage,
    }
    const shape = await recordCommit(build, 16, new Uint8Array(100))
    expect(shape.puts).toHaveLength(17)
    expect(shape.deletes).toBe(0)
    expect(shape.bytes).toBe(shape.puts.reduce((s, p) => s + p.keyBytes + p.valueBytes, 0))
  })

  it('refuses a round that took more than one write', async () => {
    // A writer that commits each append alone: one producer at a time.
    const build: LogModule = {
      openLog: (options) => {
        const storage = options.storage as { write: (b: unknown, o: unknown) => unknown }
        return Promise.resolve({
          append: async () => {
            await storage.write([], { sync: true })
          },
          close: () => Promise.resolve(),
        })
      },
      openMemoryStorage: () => ({ write: () => Promise.resolve() }),
    }
    await expect(recordCommit(build, 2, new Uint8Array(1))).rejects.toThrow(/2 writes/)
  })

  it('replays the shape with fresh keys of the same sizes', () => {
    const shape = shapeOf(2, [
      { type: 'put', key: new Uint8Array(10), value: new Uint8Array(30) },
      { type: 'put', key: new Uint8Array(21), value: new Uint8Array(103) },
      { type: 'put', key: new Uint8Array(21), value: new Uint8Array(103) },
    ])
    const values = shape.puts.map((p) => Buffer.alloc(p.valueBytes))
    const batches = [0, 1, 2].map((b) => replayBatch(shape, values, b))
    for (const ops of batches) {
      expect(ops.map((o) => [o.key.length, o.value.length])).toEqual([
        [10, 30],
        [21, 103],
        [21, 103],
      ])
    }
    const keys = batches.flat().map((o) => Buffer.from(o.key).toString('hex'))
    expect(new Set(keys).size).toBe(keys.length)
  })
})

describe('the curve', () => {
  it('draws a point of deltalog and one of the ceiling at each producer count', () => {
    const svg = renderCurve(ceilingCase, 'Ceiling')
    for (const n of PRODUCER_COUNTS) {
      expect(svg).toContain(`class="deltalog-point" data-producers="${n}"`)
      expect(svg).toContain(`class="ceiling-point" data-producers="${n}"`)
    }
    expect(svg.match(/class="deltalog-point"/g)).toHaveLength(PRODUCER_COUNTS.length)
    expect(svg).toMatch(/<g class="ceiling"><polyline [^>]*stroke-dasharray/)
    expect(svg).toContain('>80%<')
  })

  it('spaces the producer counts on a log scale', () => {
    const svg = renderCurve(ceilingCase, 'Ceiling')
    const xs = PRODUCER_COUNTS.map((n) =>
      Number(
        new RegExp(`class="deltalog-point" data-producers="${n}" cx="([\\d.]+)"`).exec(svg)?.[1],
      ),
    )
    const gaps = xs.slice(1).map((x, i) => x - (xs[i] ?? NaN))
    // 1, 4, 16, 64, 256, 1024: each a factor of 4 from the last, so equal steps.
    for (const gap of gaps) expect(gap).toBeCloseTo(gaps[0] ?? NaN, 0)
    expect(gaps[0]).toBeGreaterThan(0)
  })

  it('draws appends/s on a log scale: one fraction is one gap between the lines', () => {
    const svg = renderCurve(ceilingCase, 'Ceiling')
    const yOf = (kind: string, n: number): number =>
      Number(
        new RegExp(`class="${kind}-point" data-producers="${n}" cx="[\\d.]+" cy="([\\d.]+)"`).exec(
          svg,
        )?.[1],
      )
    // deltalog is at 80% of the ceiling at every count.
    const gaps = PRODUCER_COUNTS.map((n) => yOf('deltalog', n) - yOf('ceiling', n))
    for (const gap of gaps) expect(gap).toBeCloseTo(gaps[0] ?? NaN, 0)
    expect(gaps[0]).toBeGreaterThan(0)
  })

  it('reads its points from the figures and grids at whole decades', () => {
    expect(curvePoints(ceilingCase).map((p) => p.producers)).toEqual(PRODUCER_COUNTS)
    expect(decades([1_500, 260_000])).toEqual([1_000, 10_000, 100_000, 1_000_000])
    expect(decades([100, 100])).toEqual([100, 1_000])
    expect(decades([0, NaN])).toEqual([10, 100])
  })
})

describe("the report's new sections", () => {
  it('renders the ceiling before the numbered cases, with its target marked C', () => {
    const suite = suiteOf([
      ceilingCase,
      plainCase('durable-group-commit', 'Durable group commit', [
        fig('deltalog, 256 producers, sync', 192_000, 1_000),
      ]),
    ])
    const md = renderReport(suite, {})
    expect(md).toContain('## Ceiling')
    expect(md).toContain('## 1. Durable group commit')
    expect(md.indexOf('## Ceiling')).toBeLessThan(md.indexOf('## 1. Durable group commit'))
    expect(md).toContain('![The durable throughput curve')
    expect(md).toMatch(/\| 256 \| 204,800 \| 256,000 \| \*\*80%\*\*/)
    expect(md).toContain('**75%** of its ceiling of 256,000')
    expect(md).toMatch(/\| C \| Ceiling: the durable throughput curve \|/)
    expect(renderTargetsText(suite)).toMatch(
      /MISSED +0.80× +≥ 0.9× +Ceiling: the durable throughput curve: deltalog, 256/,
    )
  })

  it("explains the ceiling's target in its section, or says that no profile explains it", () => {
    const suite = suiteOf([ceilingCase])
    const label = 'deltalog, 256 producers, sync'
    const explained = renderReport(suite, { [`ceiling: ${label}`]: ['Why.', 'And why not.'] })
    const section = explained.slice(explained.indexOf('## Ceiling'))
    expect(section).toMatch(
      /- \*\*Missed\*\*: deltalog, 256 producers[^\n]*\n\nWhy\.\n\nAnd why not\.\n/,
    )
    expect(renderReport(suite, {})).toContain(
      `**${label}: missed in this run, with no profile recorded for it yet.**`,
    )
  })

  it('says that the ceiling and tracing are not yet measured when the results lack them', () => {
    const md = renderReport(suiteOf([plainCase('reads', 'Reads', [fig('x', 1, 1)])]), {})
    expect(md).toMatch(/## Ceiling\n[^#]*\*\*Not yet measured\*\*/)
    expect(md).toMatch(/## Tracing overhead\n\n\*\*Not yet measured\*\*/)
    expect(md).toContain('## 1. Reads')
  })

  it('shows each format’s batch per commit, and the timed comparison only once measured', () => {
    const profile = [1, 2].map((format) => ({
      format: format as 1 | 2,
      producers: 256,
      puts: 257,
      deletes: 0,
      bytes: format === 1 ? 34_862 : 61_526,
    }))
    const base = { format1Commit: 'd2bffa3d1d89', profiledOn: '2026-12-07', profile }
    const md = renderReport(suiteOf([]), {}, base)
    expect(md).toContain('| 256 | 257 | 34,862 | 257 | 61,526 | 1.76× |')
    expect(md).toContain('**The timed comparison is not yet measured**')
    const read = renderReport(suiteOf([]), { 'formats: group commit': ['Why it differs.'] }, base)
    expect(read).toContain('\n\nWhy it differs.\n')
    const r = { median: 2, min: 1, max: 3 }
    const timed = renderReport(
      suiteOf([]),
      {},
      {
        ...base,
        timed: {
          date: '2026-12-07',
          load: [0.1, 0.2],
          producers: 256,
          appendsPerRound: 40_000,
          rounds: 7,
          format1: r,
          format2: r,
          raw: r,
          format1Ratio: { median: 30, min: 29, max: 34 },
          format2Ratio: r,
          format2OverFormat1: { median: 0.8, min: 0.7, max: 0.9 },
          engineCpu: { format1: { median: 500, min: 450, max: 600 }, format2: r },
          addonCpu: { format1: r, format2: { median: 1_100, min: 1_000, max: 1_200 } },
        },
      },
    )
    expect(timed).toContain("| format 1's writer | 2.00 (1.00–3.00) | **30.0×** (29.0–34.0) |")
    expect(timed).toContain('**0.80×** (0.70–0.90)')
    expect(timed).toContain(
      '| the engine on a memory storage, per commit | 500 (450–600) | 2.00 (1.00–3.00) |',
    )
    expect(timed).toContain(
      "| the addon's write of the batch | 2.00 (1.00–3.00) | 1,100 (1,000–1,200) |",
    )
    expect(timed).toContain(
      '| the engine on a memory storage, per commit | 500 (450–600) | 2.00 (1.00–3.00) |',
    )
    expect(timed).toContain(
      "| the addon's write of the batch | 2.00 (1.00–3.00) | 1,100 (1,000–1,200) |",
    )
    expect(timed).not.toContain('not yet measured**: it needs')
  })
})
