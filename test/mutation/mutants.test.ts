// Every mutant still applies to today's source (its text occurs exactly once in its file, and its
// guarding tests exist), and the suite catches every one: the same run as `npm run test:mutants`.
import { existsSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { runTypeScript } from '../support/child.js'
import { mutants } from './mutants.js'

const root = fileURLToPath(new URL('../..', import.meta.url))

describe('the mutant list', () => {
  it.each(mutants.map((m) => [m.rule, m] as const))('%s still applies', (_, mutant) => {
    const source = readFileSync(`${root}/${mutant.file}`, 'utf8')
    expect(source.split(mutant.from).length - 1).toBe(1)
    expect(mutant.to).not.toBe(mutant.from)
    for (const test of mutant.tests) expect(existsSync(`${root}/${test}`), test).toBe(true)
  })
})

describe('the suite catches every mutant', () => {
  it('fails each mutant’s guarding tests, in a copy of the project', () => {
    const run = runTypeScript(fileURLToPath(new URL('./run.ts', import.meta.url)), {
      timeoutMs: 600_000,
    })
    expect(run.stderr).toBe('')
    const lines = run.stdout.trimEnd().split('\n')
    // Mutants whose tests need a PostgreSQL server are skipped without one, and only then.
    const skipped = lines.filter((line) => line.startsWith('skipped ')).length
    if (process.env['DELTALOG_TEST_POSTGRES_URL'] !== undefined) expect(skipped).toBe(0)
    expect(skipped).toBeLessThanOrEqual(mutants.filter((m) => m.needs === 'postgres').length)
    expect(
      lines.filter((line) => !line.startsWith('caught ') && !line.startsWith('skipped ')),
    ).toEqual([
      `${mutants.length - skipped} passed, 0 failed${skipped === 0 ? '' : `, ${skipped} skipped`}`,
    ])
    expect(run.status).toBe(0)
  }, 600_000)
})
