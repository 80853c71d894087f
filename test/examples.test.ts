// The runnable examples run as documented and print what they claim.
import { join } from 'node:path'
import { expect, it } from 'vitest'
import { runTypeScript } from './support/child.js'
import { makeTempDir, removeDir } from './support/tmpdir.js'

it('runs the bank account example with its projection and checkpoint', async () => {
  const dir = await makeTempDir('bank')
  try {
    const script = new URL('../examples/bank-account.ts', import.meta.url).pathname
    const child = runTypeScript(`${script}`, { args: [join(dir, 'bank')] })
    expect(child.stderr).toBe('')
    expect(child.stdout.trim().split('\n')).toEqual([
      'withdrew 30 from alice',
      'refused: bob has 50, asked 80',
      'alice: 70, bob: 75',
      'projection handled 2 events, then stopped',
      'projection resumed and handled 2 more',
      'total held: 145',
    ])
  } finally {
    await removeDir(dir)
  }
})
