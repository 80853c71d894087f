// Damaged tables answer, promptly, and never take the process down: random bytes of a closed
// RocksDB log are flipped, and `verify`, `export`, `stats` and a scan each end with a result,
// `CORRUPTION` or `IO_ERROR` within 10 s, in a child process that must exit cleanly afterwards.
import { readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { fc } from '@fast-check/vitest'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openLog } from '../../src/index.js'
import { numRuns, timeoutFor } from '../support/budget.js'
import { runTypeScript, spawnTypeScript, type RunningChild } from '../support/child.js'
import { makeTempDir, removeDir } from '../support/tmpdir.js'
import type { Flip } from './children/flipped.js'

const CHILD = new URL('./children/flipped.ts', import.meta.url).pathname
const DAMAGED_OPEN = new URL('./children/damagedOpen.ts', import.meta.url).pathname
const RUNS = numRuns(100)
const ANSWERS = ['ok', 'CORRUPTION', 'IO_ERROR']

// A small log whose records are in a table file: written, closed, and opened again, which
// flushes RocksDB's write-ahead log into a table. Values are varied so that the table holds
// several compressed blocks.
const writeLog = async (path: string): Promise<void> => {
  for (let round = 0; round < 2; round++) {
    await using log = await openLog({ path })
    for (let i = 0; i < 30; i++) {
      await log.append(
        Array.from({ length: 20 }, (_, j) => ({
          key: `key-${(i * 7 + j) % 13}`,
          value: `value ${round} ${i} ${j} ${'x'.repeat((i * j) % 97)}`,
        })),
      )
    }
  }
}

const flipArb: fc.Arbitrary<Flip> = fc.record({
  file: fc.nat(),
  at: fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
  mask: fc.array(fc.integer({ min: 1, max: 255 }), { minLength: 1, maxLength: 4 }),
})

describe('a RocksDB log with flipped bytes', () => {
  let dir: string
  let base: string
  let child: RunningChild
  beforeAll(async () => {
    dir = await makeTempDir('flipped')
    base = join(dir, 'base')
    await writeLog(base)
    child = spawnTypeScript(CHILD, {})
  })
  afterAll(async () => {
    child.child.stdin?.end()
    await child.rest().catch(() => undefined)
    await removeDir(dir)
  })

  it(
    'answers verify, export, stats and scan within 10 s with a result, CORRUPTION or IO_ERROR, and the process survives',
    async () => {
      expect((await readdir(base)).filter((name) => name.endsWith('.sst'))).not.toHaveLength(0)
      let trial = 0
      await fc.assert(
        fc.asyncProperty(fc.array(flipArb, { minLength: 1, maxLength: 3 }), async (flips) => {
          child.send(JSON.stringify({ base, dir: join(dir, `trial-${trial++}`), flips }))
          const answers = JSON.parse(await child.line(45_000)) as Record<
            'verify' | 'export' | 'stats' | 'scan',
            { answer: string; ms: number }
          >
          expect(ANSWERS.concat('violations')).toContain(answers.verify.answer)
          for (const command of ['export', 'stats', 'scan'] as const) {
            expect(ANSWERS, command).toContain(answers[command].answer)
          }
        }),
        { numRuns: RUNS },
      )
      child.child.stdin?.end()
      // Exits on its own: an abort as Node.js finalizes the native handles would fail this.
      await child.rest()
    },
    timeoutFor(RUNS, 2_000),
  )
})

describe('a table damaged under an open RocksDB store', () => {
  it('ends a failed iteration at once, closes the store, and the process exits cleanly', async () => {
    const dir = await makeTempDir('damaged-open')
    try {
      const run = runTypeScript(DAMAGED_OPEN, { args: [dir], timeoutMs: 60_000 })
      expect(run.stderr).toBe('')
      expect(run.status).toBe(0)
      const answers: Record<string, string> = Object.fromEntries(
        run.stdout
          .trim()
          .split('\n')
          .map((line): [string, string] => {
            const [name = '', answer = ''] = line.split(' ')
            return [name, answer]
          }),
      )
      expect(Number(answers['blocks'])).toBeGreaterThan(2)
      // No key read: the native iterator cannot be ended, and the store parks its handle.
      expect(answers['first-block']).toBe('CORRUPTION-after-none')
      // Keys read first: it seeks back to the last one, steps, and ends.
      expect(answers['last-block']).toBe('CORRUPTION-after-some')
      expect(answers['writer-after']).toBe('ok')
      expect(answers['writer-stranded']).toBe('CORRUPTION-after-none-LOCKED-restart')
      expect(answers['log-scan']).toBe('CORRUPTION')
    } finally {
      await removeDir(dir)
    }
  })
})
