// Applies every mutant of mutants.ts in a copy of the project and runs its guarding tests
// there: each run must fail. Prints one line per mutant and exits 1 if any survived.
//   npm run test:mutants            every mutant
//   npm run test:mutants -- sync    those whose rule or file contains "sync"
//   MUTANTS_SAMPLE=10 MUTANTS_SEED=7 npm run test:mutants
//                                   10 of them, drawn by the seed
//   MUTANTS_SAMPLE=6 MUTANTS_BUDGET=20 MUTANTS_SEED=7 npm run test:mutants
//                                   at most 6 of them, in the seed's order, starting no more
//                                   once 20 s are spent (what `npm test` runs)
import { spawnSync } from 'node:child_process'
import {
  cpSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { startPostgres } from '../support/postgres.js'
import { mutants } from './mutants.js'

const root = fileURLToPath(new URL('../..', import.meta.url))
const filter = process.argv[2]
const matching = mutants.filter(
  (m) => filter === undefined || m.rule.includes(filter) || m.file.includes(filter),
)

const intFromEnv = (name: string): number | undefined => {
  const raw = process.env[name]
  if (raw === undefined || raw === '') return undefined
  const n = Number(raw)
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`${name} must be a whole number: ${raw}`)
  return n
}

/** `count` of `list`, drawn without repeats by a small seeded generator (mulberry32). */
const sample = <T>(list: ReadonlyArray<T>, count: number, seed: number): T[] => {
  let state = seed >>> 0
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = Math.imul(state ^ (state >>> 15), state | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32
  }
  const pool = [...list]
  for (let i = pool.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1))
    ;[pool[i], pool[j]] = [pool[j] as T, pool[i] as T]
  }
  return pool.slice(0, count)
}

const sampleSize = intFromEnv('MUTANTS_SAMPLE')
const seed = intFromEnv('MUTANTS_SEED') ?? 0
// Seconds after which no further mutant is started (the one running finishes): the guarding
// tests of one take from a few seconds to half a minute, so a count alone does not bound the time.
const budget = process.env['MUTANTS_BUDGET'] === 'none' ? undefined : intFromEnv('MUTANTS_BUDGET')
const chosen =
  sampleSize === undefined || sampleSize >= matching.length
    ? matching
    : sample(matching, sampleSize, seed)
if (chosen !== matching) {
  console.log(
    `sample    ${chosen.length} of ${matching.length} mutants, drawn by MUTANTS_SEED=${seed}` +
      (budget === undefined ? '' : `, tried in that order for ${budget} s`),
  )
}

const copy = mkdtempSync(join(tmpdir(), 'deltalog-mutants-'))
const skip = new Set(['node_modules', '.git', 'dist', 'data', 'coverage', '.ci/node'])
cpSync(root, copy, {
  recursive: true,
  filter: (path) => {
    const [top = '', next = ''] = relative(root, path).split('/')
    return !skip.has(top) && !skip.has(`${top}/${next}`)
  },
})
symlinkSync(join(root, 'node_modules'), join(copy, 'node_modules'))
// The tests' temporary files go inside the copy, so that what a mutant makes them leave behind
// (a test that fails before its cleanup) goes with it.
const scratch = join(copy, '.tmp')
mkdirSync(scratch)

// One server for every mutant's tests, as the test run starts one (test/support/postgres.ts):
// where none is given and PostgreSQL is installed.
const stopPostgres = await startPostgres()

// As test/postgres/server.ts decides whether the PostgreSQL suites run.
const postgresRuns =
  process.env['DELTALOG_TEST_POSTGRES_URL'] !== undefined || process.env['CI'] !== undefined

let survived = 0
let skipped = 0
let tried = 0
const began = Date.now()
try {
  for (const mutant of chosen) {
    // The first is always tried, so that a run with a budget still proves something.
    const spent = (Date.now() - began) / 1000
    if (budget !== undefined && tried > 0 && spent >= budget) {
      console.log(
        `budget    ${budget} s spent after ${tried}; the other ${chosen.length - tried} not tried`,
      )
      break
    }
    tried++
    if (mutant.needs === 'postgres' && !postgresRuns) {
      console.log(
        `skipped   ${mutant.rule}: its tests need a PostgreSQL server (.ci/with-postgres)`,
      )
      skipped++
      continue
    }
    const file = join(copy, mutant.file)
    const original = readFileSync(file, 'utf8')
    if (original.split(mutant.from).length !== 2) {
      console.log(`STALE     ${mutant.rule}: the text to replace is not once in ${mutant.file}`)
      survived++
      continue
    }
    writeFileSync(file, original.replace(mutant.from, mutant.to))
    const started = Date.now()
    const run = spawnSync(
      process.execPath,
      // A mutant that makes a test hang is caught by the timeout: no need to wait 30 s for it.
      // One failing test catches it: the run stops there (--bail) rather than run the rest.
      [
        join(root, 'node_modules/vitest/vitest.mjs'),
        'run',
        '--testTimeout=10000',
        '--bail=1',
        ...mutant.tests,
      ],
      { cwd: copy, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1', TMPDIR: scratch } },
    )
    writeFileSync(file, original)
    const seconds = ((Date.now() - started) / 1000).toFixed(1)
    // Caught only when its tests ran and failed: a run that never got to them (a setup that
    // failed, a crash) proves nothing. A test that timed out under --bail is counted among the
    // failed tests while its file is not (vitest 4 prints "Test Files (1)"): either count does.
    const failingTests = /Tests\s+(\d+) failed/.exec(run.stdout)?.[1]
    const failed = /Test Files\s+(\d+) failed/.exec(run.stdout)?.[1] ?? failingTests
    const failing = failingTests ?? 'no test, a file'
    if (run.status === 0) {
      survived++
      console.log(`SURVIVED  ${mutant.rule} (${mutant.tests.join(', ')} passed, ${seconds} s)`)
    } else if (failed === undefined) {
      survived++
      const tail = `${run.stdout}${run.stderr}`.trim().split('\n').slice(-5).join(' | ')
      console.log(`NOT RUN   ${mutant.rule}: its tests did not run (${tail})`)
    } else {
      console.log(`caught    ${mutant.rule} (${failing} failing, ${seconds} s)`)
    }
  }
} finally {
  rmSync(copy, { recursive: true, force: true })
  await stopPostgres()
}
console.log(
  `${tried - survived - skipped} passed, ${survived} failed` +
    (skipped === 0 ? '' : `, ${skipped} skipped`),
)
process.exit(survived === 0 ? 0 : 1)
