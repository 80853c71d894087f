// How many runs a property gets. Each test names its default budget, sized for the CI run;
// FC_NUM_RUNS replaces it outright and FC_SCALE multiplies it (npm run test:long uses 10).
// Each property's timeout grows with its runs (timeoutFor), so long runs do not time out.
const fromEnv = (name: string): number | undefined => {
  const raw = process.env[name]
  if (raw === undefined || raw === '') return undefined
  const n = Number(raw)
  if (!Number.isFinite(n) || n <= 0)
    throw new Error(`${name} must be a positive number, got ${raw}`)
  return n
}

export const numRuns = (base: number): number =>
  fromEnv('FC_NUM_RUNS') ?? Math.max(1, Math.round(base * (fromEnv('FC_SCALE') ?? 1)))

/**
 * Runs of the log's crash-model property: CRASH_RUNS sets them outright (npm run test:long runs
 * 10,000), otherwise `numRuns(base)`.
 */
export const crashRuns = (base: number): number => fromEnv('CRASH_RUNS') ?? numRuns(base)

/** A timeout that grows with a property's runs: `perRunMs` each, and never under 30 s. */
export const timeoutFor = (runs: number, perRunMs: number): number =>
  Math.max(30_000, runs * perRunMs)
