// Code shown in the docs must be the code that runs: the crash-testing guide's example is the
// file examples/crash-test.test.ts, which the test run executes.
import { readFile } from 'node:fs/promises'
import { expect, it } from 'vitest'

it('shows examples/crash-test.test.ts in docs/crash-testing.md exactly', async () => {
  const doc = await readFile(new URL('../docs/crash-testing.md', import.meta.url), 'utf8')
  const example = await readFile(new URL('../examples/crash-test.test.ts', import.meta.url), 'utf8')
  const block = /## Crash-testing your own code[\s\S]*?```ts\n([\s\S]*?)```/.exec(doc)?.[1]
  // The file opens with a two-line comment that the guide's prose replaces.
  const body = example.split('\n').slice(2).join('\n')
  expect(block).toBe(body)
})
