// Every mutant still applies to today's source (its text occurs exactly once in its file, and its
// guarding tests exist), and the suite catches a sample of them, drawn by the run's seed: each run
// tries others, FC_SEED replays a run's draw, and MUTANTS_SAMPLE=all tries every one (as
// `npm run test:mutants`, `npm run test:long` and .ci/run do). The sample is tried in the drawn
// order for a budget of seconds (MUTANTS_BUDGET), so that a draw of slow mutants does not
// stretch the run: the first is always tried, and no other starts once the budget is spent.
import { existsSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { describe, expect, inject, it } from 'vitest'
import { runTypeScript } from '../support/child.js'
import { mutants } from './mutants.js'

const root = fileURLToPath(new URL('../..', import.meta.url))

// How many mutants a plain run draws, and for how many seconds it tries them: enough to keep
// every area honest over a few runs, little enough for the suite's time (the guarding tests of
// one take 3–30 s). MUTANTS_SAMPLE=all tries every one, with no budget.
const DEFAULT_SAMPLE = 6
const DEFAULT_BUDGET_S = 20
const sampleSetting = process.env['MUTANTS_SAMPLE'] ?? String(DEFAULT_SAMPLE)
const sampleSize = sampleSetting === 'all' ? mutants.length : Number(sampleSetting)
if (!Number.isSafeInteger(sampleSize) || sampleSize < 0) {
  throw new Error(`MUTANTS_SAMPLE must be a whole number or all, got ${sampleSetting}`)
}
const budgetSetting =
  process.env['MUTANTS_BUDGET'] ?? (sampleSetting === 'all' ? 'none' : String(DEFAULT_BUDGET_S))
const budget = budgetSetting === 'none' ? undefined : Number(budgetSetting)
if (budget !== undefined && (!Number.isSafeInteger(budget) || budget < 0)) {
  throw new Error(`MUTANTS_BUDGET must be a whole number of seconds or none, got ${budgetSetting}`)
}

describe('the mutant list', () => {
  it.each(mutants.map((m) => [m.rule, m] as const))('%s still applies', (_, mutant) => {
    const source = readFileSync(`${root}/${mutant.file}`, 'utf8')
    expect(source.split(mutant.from).length - 1).toBe(1)
    expect(mutant.to).not.toBe(mutant.from)
    for (const test of mutant.tests) expect(existsSync(`${root}/${test}`), test).toBe(true)
  })
})

describe('the suite catches every mutant', () => {
  it('fails each sampled mutant’s guarding tests, in a copy of the project', () => {
    const draw = Math.min(sampleSize, mutants.length)
    const run = runTypeScript(fileURLToPath(new URL('./run.ts', import.meta.url)), {
      timeoutMs: 3_600_000,
      env: {
        MUTANTS_SAMPLE: String(draw),
        MUTANTS_SEED: String(inject('fcSeed')),
        // Empty for no budget: the runner reads an empty variable as unset.
        MUTANTS_BUDGET: budget === undefined ? '' : String(budget),
      },
    })
    expect(run.stderr).toBe('')
    // One line per mutant tried and the count; not what the runner says of its sample, its
    // budget or its server.
    const lines = run.stdout
      .trimEnd()
      .split('\n')
      .filter((line) => /^(caught|skipped|SURVIVED|NOT RUN|STALE) |^\d+ passed/.test(line))
    const tried = lines.length - 1
    // Every drawn mutant is tried, unless the budget ran out first; then at least the first was.
    if (budget === undefined || draw === 0) expect(tried).toBe(draw)
    else expect(tried).toBeGreaterThanOrEqual(1)
    expect(tried).toBeLessThanOrEqual(draw)
    const stopped = run.stdout.includes(`budget    ${budget} s spent after ${tried};`)
    expect(stopped).toBe(tried < draw)
    // Mutants whose tests need a PostgreSQL server are skipped without one, and only then.
    const skipped = lines.filter((line) => line.startsWith('skipped ')).length
    if (process.env['DELTALOG_TEST_POSTGRES_URL'] !== undefined) expect(skipped).toBe(0)
    expect(skipped).toBeLessThanOrEqual(mutants.filter((m) => m.needs === 'postgres').length)
    expect(
      lines.filter((line) => !line.startsWith('caught ') && !line.startsWith('skipped ')),
    ).toEqual([`${tried - skipped} passed, 0 failed${skipped === 0 ? '' : `, ${skipped} skipped`}`])
    expect(run.status).toBe(0)
  }, 3_600_000)
})
