// fast-check settings for every property in the suite. The seed is pinned so that CI runs are
// reproducible; FC_SEED and FC_NUM_RUNS override it for exploration and long runs. On failure
// fast-check prints the seed and the counterexample path; FC_SEED=<seed> FC_PATH=<path> replays
// that run.
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
// FC_PATH with FC_SEED replays one failing run exactly, straight to its shrunk counterexample.
const path = process.env['FC_PATH']

fc.configureGlobal({
  seed,
  ...(numRuns === undefined ? {} : { numRuns }),
  ...(path === undefined || path === '' ? {} : { path }),
})
