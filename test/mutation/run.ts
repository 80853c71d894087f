// Applies every mutant of mutants.ts in a copy of the project and runs its guarding tests
// there: each run must fail. Prints one line per mutant and exits 1 if any survived.
//   npm run test:mutants            every mutant
//   npm run test:mutants -- sync    those whose rule or file contains "sync"
import { spawnSync } from 'node:child_process'
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { mutants } from './mutants.js'

const root = fileURLToPath(new URL('../..', import.meta.url))
const filter = process.argv[2]
const chosen = mutants.filter(
  (m) => filter === undefined || m.rule.includes(filter) || m.file.includes(filter),
)

const copy = mkdtempSync(join(tmpdir(), 'deltalog-mutants-'))
const skip = new Set(['node_modules', '.git', 'dist', 'data', 'coverage', '.ci'])
cpSync(root, copy, {
  recursive: true,
  filter: (path) => !skip.has(relative(root, path).split('/')[0] ?? ''),
})
symlinkSync(join(root, 'node_modules'), join(copy, 'node_modules'))

// As test/postgres/server.ts decides whether the PostgreSQL suites run.
const postgresRuns =
  process.env['DELTALOG_TEST_POSTGRES_URL'] !== undefined || process.env['CI'] !== undefined

let survived = 0
let skipped = 0
try {
  for (const mutant of chosen) {
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
      [join(root, 'node_modules/vitest/vitest.mjs'), 'run', '--testTimeout=10000', ...mutant.tests],
      { cwd: copy, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } },
    )
    writeFileSync(file, original)
    const seconds = ((Date.now() - started) / 1000).toFixed(1)
    if (run.status === 0) {
      survived++
      console.log(`SURVIVED  ${mutant.rule} (${mutant.tests.join(', ')} passed, ${seconds} s)`)
    } else {
      const failed = /Tests\s+(\d+) failed/.exec(run.stdout)?.[1] ?? '?'
      console.log(`caught    ${mutant.rule} (${failed} failing, ${seconds} s)`)
    }
  }
} finally {
  rmSync(copy, { recursive: true, force: true })
}
console.log(
  `${chosen.length - survived - skipped} passed, ${survived} failed` +
    (skipped === 0 ? '' : `, ${skipped} skipped`),
)
process.exit(survived === 0 ? 0 : 1)
