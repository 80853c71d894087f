/**
 * A small seeded pseudo-random generator (mulberry32) for the crash tools, so that a power
 * loss, a run's kill moments and its workload all replay from a seed.
 */

/** Draws from one seeded stream. */
export interface Random {
  /** A float in [0, 1). */
  readonly next: () => number
  /** An integer in [0, n). */
  readonly int: (n: number) => number
}

/** A generator whose draws depend only on `seed`. */
export const makeRandom = (seed: number): Random => {
  let state = seed >>> 0
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 0x1_0000_0000
  }
  return { next, int: (n) => Math.floor(next() * n) }
}
