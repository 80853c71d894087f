// docs/faults.md shows exactly the rows of matrix.ts, and each row's test exists: a new fault is
// a new row in rows/ beside its test. After a deliberate change, `UPDATE_FAULTS=1 npx vitest run
// test/faults/matrix.test.ts` rewrites the table.
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import prettier from 'prettier'
import { describe, expect, it } from 'vitest'
import { faults, renderMatrix } from './matrix.js'

const root = fileURLToPath(new URL('../..', import.meta.url))
const docPath = `${root}/docs/faults.md`
const start = '<!-- matrix:start -->'
const end = '<!-- matrix:end -->'

describe('the fault matrix', () => {
  it.each(faults.map((f) => [`${f.fault} (${f.storage})`, f] as const))(
    '%s names a test that exists',
    (_, f) => {
      expect(existsSync(`${root}/${f.test.file}`), f.test.file).toBe(true)
      expect(readFileSync(`${root}/${f.test.file}`, 'utf8')).toContain(f.test.name)
    },
  )

  it('has one row per fault and storage', () => {
    const keys = faults.map((f) => `${f.fault} | ${f.storage}`)
    expect(new Set(keys).size).toBe(keys.length)
  })

  it('is what docs/faults.md shows', async () => {
    const doc = readFileSync(docPath, 'utf8')
    const [before, rest] = doc.split(start)
    const after = rest?.split(end)[1]
    expect(before, `${docPath} lacks ${start}`).toBeDefined()
    expect(after, `${docPath} lacks ${end}`).toBeDefined()
    const options = (await prettier.resolveConfig(docPath)) ?? {}
    const expected = await prettier.format(
      `${before}${start}\n\n${renderMatrix(faults)}\n\n${end}${after}`,
      { ...options, filepath: docPath },
    )
    if (process.env['UPDATE_FAULTS'] !== undefined && expected !== doc) {
      writeFileSync(docPath, expected)
    }
    expect(doc).toBe(expected)
  })
})
