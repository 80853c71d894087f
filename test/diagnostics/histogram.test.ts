// The laws of the latency histogram (src/diagnostics/histogram.ts), with fast-check: counts and
// sums add up, each value lands in the one bucket whose bounds hold it, the percentiles are
// ordered within [min, max], and the order of recording does not matter.
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { BUCKET_BOUNDS_MS, bucketOf, makeHistogram } from '../../src/diagnostics/histogram.js'

// Latencies from a microsecond to past the last bound, bounds themselves included.
const latency = fc.oneof(
  fc.double({ min: 0, max: 40_000, noNaN: true }),
  fc.constantFrom(...BUCKET_BOUNDS_MS),
  fc.constant(0),
)

const recorded = (
  values: ReadonlyArray<number>,
): ReturnType<ReturnType<typeof makeHistogram>['snapshot']> => {
  const h = makeHistogram()
  for (const v of values) h.record(v)
  return h.snapshot()
}

describe('histogram', () => {
  it('is all zeros with nothing recorded, with every bucket listed', () => {
    const s = makeHistogram().snapshot()
    expect(s).toMatchObject({ count: 0, sum: 0, min: 0, max: 0, p50: 0, p90: 0, p99: 0 })
    expect(s.buckets.map((b) => b.le)).toEqual([...BUCKET_BOUNDS_MS, Infinity])
    expect(s.buckets.every((b) => b.count === 0)).toBe(true)
  })

  it('counts every value once, in buckets that add up to count, and sums them', () => {
    fc.assert(
      fc.property(fc.array(latency, { maxLength: 200 }), (values) => {
        const s = recorded(values)
        expect(s.count).toBe(values.length)
        expect(s.buckets.reduce((n, b) => n + b.count, 0)).toBe(values.length)
        expect(s.sum).toBeCloseTo(
          values.reduce((a, b) => a + b, 0),
          6,
        )
      }),
    )
  })

  it('puts a value in the first bucket whose bound is at or above it', () => {
    fc.assert(
      fc.property(latency, (value) => {
        const i = bucketOf(value)
        const le = BUCKET_BOUNDS_MS[i] ?? Infinity
        const below = BUCKET_BOUNDS_MS[i - 1] ?? -Infinity
        expect(value).toBeLessThanOrEqual(le)
        expect(value).toBeGreaterThan(below)
        const s = recorded([value])
        expect(s.buckets[i]).toEqual({ le, count: 1 })
      }),
    )
  })

  it('puts a value equal to a bound in that bound’s bucket, and one just above in the next', () => {
    for (const [i, le] of BUCKET_BOUNDS_MS.entries()) {
      expect(bucketOf(le)).toBe(i)
      expect(bucketOf(le * 1.000001)).toBe(i + 1)
    }
  })

  it('orders min ≤ p50 ≤ p90 ≤ p99 ≤ max, each the bound of the bucket holding its rank', () => {
    fc.assert(
      fc.property(fc.array(latency, { minLength: 1, maxLength: 200 }), (values) => {
        const s = recorded(values)
        expect(s.min).toBe(Math.min(...values))
        expect(s.max).toBe(Math.max(...values))
        expect(s.min).toBeLessThanOrEqual(s.p50)
        expect(s.p50).toBeLessThanOrEqual(s.p90)
        expect(s.p90).toBeLessThanOrEqual(s.p99)
        expect(s.p99).toBeLessThanOrEqual(s.max)
        // The true value at the rank lies in the same bucket as the estimate's bound.
        const sorted = [...values].sort((a, b) => a - b)
        for (const [q, estimate] of [
          [0.5, s.p50],
          [0.9, s.p90],
          [0.99, s.p99],
        ] as const) {
          const exact = sorted[Math.max(1, Math.ceil(q * values.length)) - 1] ?? 0
          expect(estimate).toBeGreaterThanOrEqual(exact)
          expect(bucketOf(estimate)).toBe(bucketOf(exact))
        }
      }),
    )
  })

  it('does not depend on the order values were recorded in', () => {
    fc.assert(
      fc.property(
        fc
          .array(latency, { maxLength: 100 })
          .chain((values) =>
            fc.tuple(
              fc.constant(values),
              fc.shuffledSubarray(values, { minLength: values.length }),
            ),
          ),
        ([values, shuffled]) => {
          const a = recorded(values)
          const b = recorded(shuffled)
          expect({ ...b, sum: 0 }).toEqual({ ...a, sum: 0 })
          expect(b.sum).toBeCloseTo(a.sum, 6)
        },
      ),
    )
  })

  it('counts a negative value or NaN as 0', () => {
    const s = recorded([-5, Number.NaN])
    expect(s).toMatchObject({ count: 2, sum: 0, min: 0, max: 0 })
    expect(s.buckets[0]?.count).toBe(2)
  })
})
