// require('deltalog') from CommonJS, as a user's program does it: the package is built into a
// scratch directory (not dist/, which the command-line tests build at the same time), installed
// there by its name with the project's package.json, and required from a .cjs file in a child
// Node.js. Where require() loads ES modules (Node.js 20.19+, 22.12+) it must give the very module
// import() gives (and the README's CommonJS example runs); where it does not, it must throw
// ERR_REQUIRE_ESM with a message that says how.
import { execFileSync, spawnSync } from 'node:child_process'
import { copyFile, mkdir, readFile, symlink, writeFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { makeTempDir, removeDir } from './support/tmpdir.js'

const root = fileURLToPath(new URL('..', import.meta.url))
const entries = [
  'deltalog',
  'deltalog/fp',
  'deltalog/core',
  'deltalog/testing',
  'deltalog/postgres',
] as const

/** The user's program: requires every entry point, then opens a log through require('deltalog'). */
const program = `'use strict'
const { join } = require('node:path')
const main = async () => {
  const entries = {}
  for (const name of ${JSON.stringify(entries)}) {
    try {
      const required = require(name)
      entries[name] = { same: required === (await import(name)), names: Object.keys(required) }
    } catch (e) {
      entries[name] = { code: e.code, message: e.message }
    }
  }
  let values
  if (entries.deltalog.same) {
    const { openLog } = require('deltalog')
    const log = await openLog({ path: join(__dirname, 'log') })
    await log.append([{ key: 'a', value: 'one' }])
    values = []
    for await (const entry of log.scan()) values.push(Buffer.from(entry.value).toString())
    await log.close()
  }
  console.log(JSON.stringify({ entries, values }))
}
main().catch((e) => { console.error(e); process.exitCode = 1 })
`

interface Report {
  readonly entries: Record<
    string,
    { same?: boolean; names?: string[]; code?: string; message?: string }
  >
  readonly values?: string[]
}

let dir = ''
let app = ''

beforeAll(async () => {
  dir = await makeTempDir('commonjs')
  const pkg = join(dir, 'package')
  app = join(dir, 'app')
  await mkdir(join(app, 'node_modules'), { recursive: true })
  await mkdir(pkg)
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc')
  execFileSync(process.execPath, [
    tsc,
    ...['-p', join(root, 'tsconfig.build.json'), '--outDir', join(pkg, 'dist')],
    ...['--declaration', 'false', '--declarationMap', 'false', '--sourceMap', 'false'],
  ])
  await copyFile(join(root, 'package.json'), join(pkg, 'package.json'))
  await symlink(join(root, 'node_modules'), join(pkg, 'node_modules'), 'dir')
  await symlink(pkg, join(app, 'node_modules', 'deltalog'), 'dir')
  await writeFile(join(app, 'main.cjs'), program)
}, 120_000)
afterAll(() => removeDir(dir))

const runProgram = (flags: ReadonlyArray<string>): { report: Report; stderr: string } => {
  const child = spawnSync(process.execPath, [...flags, join(app, 'main.cjs')], {
    cwd: app,
    encoding: 'utf8',
    timeout: 30_000,
  })
  expect(child.status, child.stderr).toBe(0)
  return { report: JSON.parse(child.stdout) as Report, stderr: child.stderr }
}

// Node.js before 20.17 knows no flag for it, and its require() loads no ES module.
const loadsEsm = process.features.require_module === true

it.runIf(loadsEsm)(
  'require() gives CommonJS the module import() gives, with no warning, and its log works',
  () => {
    const { report, stderr } = runProgram([])
    expect(stderr).toBe('')
    for (const name of entries) expect(report.entries[name]?.same, name).toBe(true)
    expect(report.entries['deltalog']?.names).toContain('openLog')
    expect(report.entries['deltalog/testing']?.names).toContain('openCrashStorage')
    expect(report.entries['deltalog/postgres']?.names).toContain('openPostgresStorage')
    expect(report.values).toEqual(['one'])
  },
)

it.runIf(loadsEsm)("runs the README's CommonJS example as written", async () => {
  const readme = await readFile(join(root, 'README.md'), 'utf8')
  const block = /### From CommonJS\s[\s\S]*?```js\n([\s\S]*?)```/.exec(readme)?.[1]
  expect(block, 'README has a js block under "### From CommonJS"').toBeDefined()
  await writeFile(join(app, 'readme.cjs'), block ?? '')
  const child = spawnSync(process.execPath, [join(app, 'readme.cjs')], {
    cwd: app,
    encoding: 'utf8',
    timeout: 30_000,
  })
  expect(child.stderr).toBe('')
  expect(child.stdout).toBe('orders 0 order-1\n')
})

it('where require() loads no ES module, it throws ERR_REQUIRE_ESM and says what to write', () => {
  // On 20.19+ and 22.12+ the flag turns require(esm) off, as it is on 20.0-20.18 and 22.0-22.11.
  const { report } = runProgram(loadsEsm ? ['--no-experimental-require-module'] : [])
  for (const name of entries) {
    const refusal = report.entries[name]
    expect(refusal?.code, name).toBe('ERR_REQUIRE_ESM')
    expect(refusal?.message).toContain(`deltalog is an ES module`)
    expect(refusal?.message).toContain(`(${process.version})`)
    expect(refusal?.message).toContain('from Node.js 20.19 and 22.12 on')
    expect(refusal?.message).toContain("`const { openLog } = await import('deltalog')`")
  }
  expect(report.values).toBeUndefined()
})

it('lists types first, then module-sync before require, for every entry point', async () => {
  const pkg = JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as {
    exports: Record<string, string | Record<string, string>>
  }
  for (const [entry, dist] of [
    ['.', './dist/index'],
    ['./fp', './dist/fp/index'],
    ['./core', './dist/core/index'],
    ['./testing', './dist/testing/index'],
    ['./postgres', './dist/postgres/index'],
  ] as const) {
    // Key order is what Node.js and TypeScript match conditions by.
    expect(Object.entries(pkg.exports[entry] ?? {}), entry).toEqual([
      ['types', `${dist}.d.ts`],
      ['module-sync', `${dist}.js`],
      ['import', `${dist}.js`],
      ['require', './dist/commonjs.cjs'],
    ])
  }
})
