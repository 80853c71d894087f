// One fast-check seed per test run: fresh each run so that CI keeps exploring, printed at the
// start and the end so that any failure can be replayed (FC_SEED=<seed>), and handed to every
// test file through vitest's provide/inject. And a throwaway PostgreSQL server when the run was
// given none and PostgreSQL is installed (see postgres.ts), stopped at the end.
import { randomInt } from 'node:crypto'
import type { TestProject } from 'vitest/node'
import { startPostgres } from './postgres.js'

declare module 'vitest' {
  export interface ProvidedContext {
    fcSeed: number
  }
}

const fromEnv = (): number | undefined => {
  const raw = process.env['FC_SEED']
  if (raw === undefined || raw === '') return undefined
  const n = Number(raw)
  if (!Number.isSafeInteger(n)) throw new Error(`FC_SEED must be an integer, got ${raw}`)
  return n
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const stopPostgres = await startPostgres()
  const given = fromEnv()
  const seed = given ?? randomInt(0, 2 ** 31)
  project.provide('fcSeed', seed)
  const line = `fast-check seed ${seed}${given === undefined ? ' (fresh)' : ' (from FC_SEED)'}; FC_SEED=${seed} replays this run`
  console.log(line)
  return async () => {
    console.log(line)
    await stopPostgres()
  }
}
