// fast-check settings for every property in the suite. The seed is the run's (see
// globalSetup.ts): fresh every run, FC_SEED to replay one. FC_NUM_RUNS overrides every budget.
// A failing property names the command that replays it: FC_SEED and FC_PATH (fast-check's path
// to the shrunk counterexample) with the test file and name.
import { relative } from 'node:path'
import fc from 'fast-check'
import { expect, inject } from 'vitest'

const intFromEnv = (name: string): number | undefined => {
  const raw = process.env[name]
  if (raw === undefined || raw === '') return undefined
  const n = Number(raw)
  if (!Number.isSafeInteger(n)) throw new Error(`${name} must be an integer, got ${raw}`)
  return n
}

const numRuns = intFromEnv('FC_NUM_RUNS')
const path = process.env['FC_PATH']

/** The shell command that replays a failed run of the current test. */
export const replayCommand = (seed: number, counterexamplePath?: string | null): string => {
  const { testPath, currentTestName } = expect.getState()
  const test = currentTestName === undefined ? '' : ` -t ${JSON.stringify(currentTestName)}`
  const where = testPath === undefined ? '' : ` ${relative(process.cwd(), testPath)}`
  const at =
    counterexamplePath === undefined || counterexamplePath === null
      ? ''
      : ` FC_PATH=${JSON.stringify(counterexamplePath)}`
  return `FC_SEED=${seed}${at} npx vitest run${where}${test}`
}

fc.configureGlobal({
  seed: inject('fcSeed'),
  ...(numRuns === undefined ? {} : { numRuns }),
  ...(path === undefined || path === '' ? {} : { path }),
  reporter: (details) => {
    const message = fc.defaultReportMessage(details)
    if (message === undefined) return
    const cause: unknown = details.errorInstance
    const why = cause instanceof Error ? cause.message : String(cause)
    throw new Error(
      `${message}\nGot error: ${why}\n\nReplay: ${replayCommand(details.seed, details.counterexamplePath)}`,
      { cause },
    )
  },
})
