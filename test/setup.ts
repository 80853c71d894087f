// fast-check settings for every property in the suite. The seed is pinned so that CI runs are
// reproducible; FC_SEED and FC_NUM_RUNS override it for exploration and long runs. On failure
// fast-check prints the seed and the counterexample path, which `FC_SEED=... ` plus the `path`
// parameter replays.
import fc from 'fast-check'

const intFromEnv = (name: string): number | undefined => {
  const raw = process.env[name]
  if (raw === undefined || raw === '') return undefined
  const n = Number(raw)
  if (!Number.isSafeInteger(n)) throw new Error(`${name} must be an integer, got ${raw}`)
  return n
}

const seed = intFromEnv('FC_SEED') ?? 0x5eb10c
const numRuns = intFromEnv('FC_NUM_RUNS')

fc.configureGlobal({
  seed,
  ...(numRuns === undefined ? {} : { numRuns }),
})
