// Code shown in the docs must be the code that runs: the crash-testing guide's examples are the
// files examples/crash-test.test.ts and examples/projection-crash.test.ts, which the test run
// executes, and its options line runs here; every other example runs too.
import { readdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { expect, it } from 'vitest'
import { runTypeScript } from './support/child.js'
import { makeTempDir, removeDir } from './support/tmpdir.js'

it('shows examples/crash-test.test.ts in docs/crash-testing.md exactly', async () => {
  const doc = await readFile(new URL('../docs/crash-testing.md', import.meta.url), 'utf8')
  const example = await readFile(new URL('../examples/crash-test.test.ts', import.meta.url), 'utf8')
  const block = /## Crash-testing your own code[\s\S]*?```ts\n([\s\S]*?)```/.exec(doc)?.[1]
  // The file opens with a two-line comment that the guide's prose replaces.
  const body = example.split('\n').slice(2).join('\n')
  expect(block).toBe(body)
})

it('shows examples/projection-crash.test.ts in docs/crash-testing.md exactly', async () => {
  const doc = await readFile(new URL('../docs/crash-testing.md', import.meta.url), 'utf8')
  const example = await readFile(
    new URL('../examples/projection-crash.test.ts', import.meta.url),
    'utf8',
  )
  const block = /## Crash-testing your projections[\s\S]*?```ts\n([\s\S]*?)```/.exec(doc)?.[1]
  const body = example.split('\n').slice(2).join('\n')
  expect(block).toBe(body)
})

it('shows examples/opentelemetry.test.ts in docs/observability.md exactly', async () => {
  const doc = await readFile(new URL('../docs/observability.md', import.meta.url), 'utf8')
  const example = await readFile(
    new URL('../examples/opentelemetry.test.ts', import.meta.url),
    'utf8',
  )
  const block = /## Wiring them to OpenTelemetry[\s\S]*?```ts\n([\s\S]*?)```/.exec(doc)?.[1]
  const body = example.split('\n').slice(2).join('\n')
  expect(block).toBe(body)
})

// Every ts block of every page in docs/ runs as a test. A page's blocks run in order as one
// program (later blocks go on with what earlier ones opened), in a scratch directory, with the
// package's names pointed at the source; pages whose examples need more than that are run by
// the test named here, which this table keeps honest by counting their blocks.
const runElsewhere: Record<string, { readonly blocks: number; readonly by: string }> = {
  'crash-testing.md': {
    blocks: 3,
    by: 'this file, examples/crash-test.test.ts and examples/projection-crash.test.ts',
  },
  'fp.md': { blocks: 1, by: 'test/fp/fp.test.ts' },
  'observability.md': { blocks: 1, by: 'this file and examples/opentelemetry.test.ts' },
  'postgres.md': {
    blocks: 3,
    by: 'test/postgres/storage.test.ts and test/postgres/consumerHolder.test.ts (need a server)',
  },
}
const runHere: Record<string, ReadonlyArray<RegExp>> = {
  'event-store.md': [
    /^\d+ OrderPlaced$/,
    /^mail: account-1 withdrew \{"amount":30\}$/,
    /^\{ balance: 70 \}$/,
    /^account-1 70$/,
    /^account-2 50$/,
    /^2$/,
    /^account-1 moved 130$/,
    /^\{ position: 5 \}$/,
    /^bob: event 5 was written after 2$/,
    /^bob decides again: math is full = true$/,
    /^5 StudentSubscribed course:math student:ada$/,
    /^OrderPlaced \{"amount":10,"currency":"EUR"\}$/,
    /^CartOpened \{"id":7\}$/,
    /^\d+ OrderPlaced$/,
  ],
}

const entries: Record<string, string> = {
  deltalog: 'src/index.ts',
  'deltalog/fp': 'src/fp/index.ts',
  'deltalog/core': 'src/core/index.ts',
  'deltalog/testing': 'src/testing/index.ts',
  'deltalog/postgres': 'src/postgres/index.ts',
}

const blocksOf = (page: string): string[] =>
  [...page.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1] ?? '')

it('runs or names a runner for every ts block of every page in docs/', async () => {
  const pages = (await readdir(new URL('../docs/', import.meta.url))).filter((f) =>
    f.endsWith('.md'),
  )
  for (const page of pages) {
    const count = blocksOf(
      await readFile(new URL(`../docs/${page}`, import.meta.url), 'utf8'),
    ).length
    if (count === 0) continue
    const expected = runElsewhere[page]?.blocks ?? (page in runHere ? count : -1)
    expect(count, `docs/${page} has ${count} ts blocks: run them here or name their test`).toBe(
      expected,
    )
  }
})

// Runs `program` as a script in a scratch directory, the package's names pointed at the
// source, and returns the lines it printed; it must print nothing on stderr and exit 0.
const run = async (program: string): Promise<string[]> => {
  const pointed = program.replace(/from '(deltalog(?:\/\w+)?)'/g, (all, name: string) => {
    const entry = entries[name]
    return entry === undefined
      ? all
      : `from ${JSON.stringify(fileURLToPath(new URL(`../${entry}`, import.meta.url)))}`
  })
  const dir = await makeTempDir('docs')
  try {
    const script = join(dir, 'example.mts')
    await writeFile(script, pointed)
    const child = runTypeScript(script, { cwd: dir })
    expect(child.stderr).toBe('')
    expect(child.status).toBe(0)
    return child.stdout.trim().split('\n')
  } finally {
    await removeDir(dir)
  }
}

for (const [page, lines] of Object.entries(runHere)) {
  it(`runs the examples of docs/${page} as written`, async () => {
    const text = await readFile(new URL(`../docs/${page}`, import.meta.url), 'utf8')
    const printed = await run(blocksOf(text).join('\n'))
    expect(printed).toHaveLength(lines.length)
    lines.forEach((line, i) => expect(printed[i]).toMatch(line))
  })
}

// The crash-testing guide's first block is one line, an `openCrashStorage` call with every
// delay option: it runs with its import, and the store it opens takes a log's commits.
it('runs the delay options of docs/crash-testing.md on a log', async () => {
  const text = await readFile(new URL('../docs/crash-testing.md', import.meta.url), 'utf8')
  const [options] = blocksOf(text)
  expect(options).toMatch(/^const storage = await openCrashStorage\(/)
  const printed = await run(
    [
      "import { openLog } from 'deltalog'",
      "import { openCrashStorage } from 'deltalog/testing'",
      options,
      'const log = await openLog({ storage })',
      "await log.append([{ key: 'k', value: 'a' }])",
      "const { startSequence } = await log.append([{ key: 'k', value: 'b' }])",
      "console.log(startSequence, await log.count({ key: 'k' }))",
      'await log.close()',
    ].join('\n'),
  )
  expect(printed).toEqual(['1 2'])
})
