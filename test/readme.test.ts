// The README's example must run as written: this extracts it, points its import at the source,
// runs it in a child process in a scratch directory, and checks what it printed.
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { expect, it } from 'vitest'
import { runTypeScript, sourceEntry } from './child.js'
import { makeTempDir, removeDir } from './tmpdir.js'

it('runs the README example as written', async () => {
  const readme = await readFile(new URL('../README.md', import.meta.url), 'utf8')
  const block = /## Using the log\s+```ts\n([\s\S]*?)```/.exec(readme)?.[1]
  expect(block).toBeDefined()
  const dir = await makeTempDir('readme')
  try {
    const script = join(dir, 'example.mts')
    await writeFile(
      script,
      (block ?? '').replace("from 'deltalog'", `from ${JSON.stringify(sourceEntry)}`),
    )
    const child = runTypeScript(script, { cwd: dir })
    expect(child.stderr).toBe('')
    expect(child.stdout.trim().split('\n')).toEqual([
      'appended 2 records from sequence 0',
      'orders 0 order-1',
      'live 2 order-2',
    ])
  } finally {
    await removeDir(dir)
  }
})
