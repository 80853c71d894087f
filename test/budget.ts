// How many runs a property gets. Each test names its default budget, sized for the CI run;
// FC_NUM_RUNS replaces it outright and FC_SCALE multiplies it (npm run test:long uses 10).
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
