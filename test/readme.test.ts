// The README's examples must run as written: each is extracted, its import pointed at the
// source, run in a child process in a scratch directory, and its output checked.
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { expect, it } from 'vitest'
import { runTypeScript, sourceEntry } from './support/child.js'
import { makeTempDir, removeDir } from './support/tmpdir.js'

const runExample = async (section: string): Promise<string[]> => {
  const readme = await readFile(new URL('../README.md', import.meta.url), 'utf8')
  const block = new RegExp(`## ${section}\\s+\`\`\`ts\\n([\\s\\S]*?)\`\`\``).exec(readme)?.[1]
  expect(block, `README has a ts block under "## ${section}"`).toBeDefined()
  const dir = await makeTempDir('readme')
  try {
    const script = join(dir, 'example.mts')
    await writeFile(
      script,
      (block ?? '').replace("from 'deltalog'", `from ${JSON.stringify(sourceEntry)}`),
    )
    const child = runTypeScript(script, { cwd: dir })
    expect(child.stderr).toBe('')
    return child.stdout.trim().split('\n')
  } finally {
    await removeDir(dir)
  }
}

it('runs the README log example as written', async () => {
  expect(await runExample('Using the log')).toEqual([
    'appended 2 records from sequence 0',
    'orders 0 order-1',
    'live 2 order-2',
  ])
})

it('runs the README event store example as written', async () => {
  expect(await runExample('Event store')).toEqual(['0 OrderPlaced'])
})
