/**
 * A latency histogram with fixed, logarithmic buckets: what `log.metrics()` keeps of every
 * commit and sync since the log opened. Recording is a few comparisons and additions, with no
 * allocation, so it is kept whether or not anyone reads it; a snapshot is a plain readonly value.
 *
 * Laws (test/diagnostics/histogram.test.ts checks them with fast-check):
 * - `count` is the sum of the buckets' counts, and `sum` the sum of what was recorded;
 * - a value lands in the first bucket whose bound is at or above it (`value <= le`), and the
 *   bound before is below it;
 * - `min <= p50 <= p90 <= p99 <= max`, each percentile being the bound of the bucket that holds
 *   its rank, clamped to `[min, max]`;
 * - the snapshot does not depend on the order values were recorded in.
 */

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/**
 * The buckets' upper bounds, in milliseconds: powers of two from 2⁻⁷ ms (about 8 µs) to 2¹⁴ ms
 * (about 16 s), then one unbounded bucket.
 */
export const BUCKET_BOUNDS_MS: ReadonlyArray<number> = Array.from(
  { length: 22 },
  (_, i) => 2 ** (i - 7),
)

/** One bucket of a histogram: how many values were at or below `le` and above the bound before. */
export interface HistogramBucket {
  /** The bucket's upper bound, inclusive; `Infinity` for the last. */
  readonly le: number
  readonly count: number
}

/** A histogram's snapshot. With nothing recorded, every figure is 0. */
export interface HistogramSnapshot {
  readonly count: number
  /** The sum of every recorded value. */
  readonly sum: number
  readonly min: number
  readonly max: number
  /** Estimated from the buckets: the bound of the bucket that holds the rank, within `[min, max]`. */
  readonly p50: number
  readonly p90: number
  readonly p99: number
  /** Every bucket, in ascending order of `le`; the counts are not cumulative. */
  readonly buckets: ReadonlyArray<HistogramBucket>
}

/** A histogram being recorded into. */
export interface Histogram {
  /** Records one value (milliseconds). A negative value or NaN counts as 0. */
  readonly record: (value: number) => void
  readonly snapshot: () => HistogramSnapshot
}

// -------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------

/** The index of the bucket that holds `value`: the first whose bound is at or above it. */
export const bucketOf = (value: number): number => {
  let i = 0
  while (i < BUCKET_BOUNDS_MS.length && value > (BUCKET_BOUNDS_MS[i] as number)) i++
  return i
}

/** An empty histogram. */
export const makeHistogram = (): Histogram => {
  const counts = new Array<number>(BUCKET_BOUNDS_MS.length + 1).fill(0)
  let count = 0
  let sum = 0
  let min = Infinity
  let max = -Infinity
  return {
    record: (raw) => {
      const value = raw > 0 ? raw : 0
      const i = bucketOf(value)
      counts[i] = (counts[i] ?? 0) + 1
      count++
      sum += value
      if (value < min) min = value
      if (value > max) max = value
    },
    snapshot: () => toSnapshot(counts, count, sum, min, max),
  }
}

// -------------------------------------------------------------------------------------
// destructors
// -------------------------------------------------------------------------------------

const boundOf = (i: number): number => BUCKET_BOUNDS_MS[i] ?? Infinity

/** The value at quantile `q`: the bound of the bucket holding rank `ceil(q × count)`. */
const quantile = (
  counts: ReadonlyArray<number>,
  count: number,
  min: number,
  max: number,
  q: number,
): number => {
  const rank = Math.max(1, Math.ceil(q * count))
  let seen = 0
  for (const [i, n] of counts.entries()) {
    seen += n
    if (seen >= rank) return Math.min(Math.max(boundOf(i), min), max)
  }
  return max
}

const toSnapshot = (
  counts: ReadonlyArray<number>,
  count: number,
  sum: number,
  min: number,
  max: number,
): HistogramSnapshot => {
  const buckets = counts.map((n, i) => ({ le: boundOf(i), count: n }))
  if (count === 0) return { count, sum, min: 0, max: 0, p50: 0, p90: 0, p99: 0, buckets }
  return {
    count,
    sum,
    min,
    max,
    p50: quantile(counts, count, min, max, 0.5),
    p90: quantile(counts, count, min, max, 0.9),
    p99: quantile(counts, count, min, max, 0.99),
    buckets,
  }
}
