// What every case reports: per-round samples of the engine and of its baseline, taken in the same
// process and run, summarised as median, min and max, with the per-round ratio between them.
import { performance } from 'node:perf_hooks'
import { makeTempDir, removeDir } from '../test/support/tmpdir.js'
import type { Limits } from './ceiling.js'

/** Median, min and max of a set of samples. */
export interface Summary {
  readonly median: number
  readonly min: number
  readonly max: number
}

/** One figure: the engine's samples, its baseline's, and their ratio round by round. */
export interface Figure {
  readonly label: string
  readonly unit: string
  readonly subject: Summary
  readonly baselineLabel: string
  readonly baseline: Summary
  /** subject / baseline, computed per round, then summarised. */
  readonly ratio: Summary
}

/**
 * A target: `figure`'s ratio of medians, deltalog's over its baseline's (or deltalog's median
 * itself), against a threshold.
 */
export interface Target {
  readonly figure: string
  readonly baseline: string
  readonly on: 'ratio' | 'subject'
  readonly op: '>=' | '<='
  readonly threshold: number
  readonly actual: number
  readonly met: boolean
}

/** One case as reported. */
export interface CaseResult {
  readonly id: string
  readonly title: string
  readonly setup: string
  readonly rounds: number
  readonly figures: ReadonlyArray<Figure>
  readonly targets: ReadonlyArray<Target>
  readonly notes: ReadonlyArray<string>
  /** The machine's limits: only the ceiling case (cases/ceiling.ts) measures them. */
  readonly limits?: Limits
}

/** A figure as the report prints it: grouped thousands, else two or three significant digits. */
export const formatNumber = (n: number): string =>
  !Number.isFinite(n)
    ? String(n)
    : Math.abs(n) >= 100
      ? Math.round(n).toLocaleString('en-US')
      : Math.abs(n) >= 10
        ? n.toFixed(1)
        : n.toFixed(2)

export const summarise = (samples: ReadonlyArray<number>): Summary => {
  const s = [...samples].sort((a, b) => a - b)
  return {
    median: percentile(s, 0.5),
    min: s[0] ?? NaN,
    max: s[s.length - 1] ?? NaN,
  }
}

/** The `p` quantile (0..1) of samples already sorted ascending, nearest rank. */
export const percentile = (sorted: ReadonlyArray<number>, p: number): number =>
  sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))] ?? NaN

/** Paired samples, one pair per round. */
export interface Pairs {
  readonly subject: ReadonlyArray<number>
  readonly baseline: ReadonlyArray<number>
}

export const figure = (
  label: string,
  unit: string,
  baselineLabel: string,
  pairs: Pairs,
): Figure => ({
  label,
  unit,
  subject: summarise(pairs.subject),
  baselineLabel,
  baseline: summarise(pairs.baseline),
  ratio: summarise(pairs.subject.map((s, i) => s / (pairs.baseline[i] ?? NaN))),
})

export const target = (
  f: Figure,
  on: 'ratio' | 'subject',
  op: '>=' | '<=',
  threshold: number,
): Target => {
  const actual = on === 'ratio' ? f.subject.median / f.baseline.median : f.subject.median
  return {
    figure: f.label,
    baseline: f.baselineLabel,
    on,
    op,
    threshold,
    actual,
    met: op === '>=' ? actual >= threshold : actual <= threshold,
  }
}

/**
 * Runs `rounds` rounds of a subject and its baseline. The order alternates from round to round,
 * so that neither always runs on a warmer cache or a fuller disk.
 */
export const paired = async (
  rounds: number,
  subject: (round: number) => Promise<number>,
  baseline: (round: number) => Promise<number>,
): Promise<Pairs> => {
  const s: number[] = []
  const b: number[] = []
  for (let round = 0; round < rounds; round++) {
    if (round % 2 === 0) {
      s.push(await subject(round))
      b.push(await baseline(round))
    } else {
      b.push(await baseline(round))
      s.push(await subject(round))
    }
  }
  return { subject: s, baseline: b }
}

/** Runs `producers` loops of awaited operations until `ms` passes; returns operations/s. */
export const producers = async (
  count: number,
  ms: number,
  op: (producer: number, i: number) => Promise<unknown>,
): Promise<number> => {
  const start = performance.now()
  const deadline = start + ms
  let done = 0
  await Promise.all(
    Array.from({ length: count }, async (_, p) => {
      for (let i = 0; performance.now() < deadline; i++) {
        await op(p, i)
        done++
      }
    }),
  )
  return perSecond(done, performance.now() - start)
}

/** Milliseconds that `run` takes. */
export const time = async (run: () => Promise<unknown>): Promise<number> => {
  const start = performance.now()
  await run()
  return performance.now() - start
}

/** Operations per second: `count` operations in `ms` milliseconds. */
export const perSecond = (count: number, ms: number): number => count / (ms / 1000)

/** A `size`-byte value of pseudo-random bytes (incompressible enough to be fair). */
/**
 * `count` distinct values of `size` bytes. Bulk cases give record `j` the value `j % count`, so
 * that no two records in a row pass one array: deltalog copies such an array once for the row.
 */
export const valuesOf = (count: number, size: number): ReadonlyArray<Buffer> =>
  Array.from({ length: count }, (_, i) => valueOf(size, i + 1))

export const valueOf = (size: number, seed = 1): Buffer => {
  const out = Buffer.alloc(size)
  let x = seed * 2654435761
  for (let i = 0; i < size; i++) {
    x = (x * 1103515245 + 12345) >>> 0
    out[i] = x >>> 24
  }
  return out
}

/** Runs `run` in a new temporary directory, removed afterwards. */
export const inDir = async <A>(name: string, run: (dir: string) => Promise<A>): Promise<A> => {
  const dir = await makeTempDir(`bench-${name}`)
  try {
    return await run(dir)
  } finally {
    await removeDir(dir)
  }
}
