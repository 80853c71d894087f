// verify learns about events through a hook (src/verify/checks.ts) that the event store
// registers when its module loads. The hook runs what is registered, and every entry point
// that offers verify loads the event store's check, so inverting the import lost nothing.
import { readFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { expect, it } from 'vitest'
import { openLog } from '../../src/openLog.js'
import { prefixCheck, registerEntryCheck } from '../../src/verify/checks.js'
import { verifyStorage } from '../../src/verify/verify.js'
import { reopenableMemory } from '../log/storages.js'

const root = fileURLToPath(new URL('../..', import.meta.url))
const text = new TextEncoder()

/** Every source file `entry` imports, directly or through others (relative imports only). */
const reachable = (entry: string): ReadonlySet<string> => {
  const seen = new Set<string>()
  const visit = (file: string): void => {
    if (seen.has(file)) return
    seen.add(file)
    const source = readFileSync(file, 'utf8')
    for (const [, spec] of source.matchAll(/(?:from|import)\s+'(\.{1,2}\/[^']+)'/g)) {
      visit(resolve(dirname(file), (spec ?? '').replace(/\.js$/, '.ts')))
    }
  }
  visit(join(root, entry))
  return new Set([...seen].map((f) => relative(root, f)))
}

it.each(['src/index.ts', 'src/cli/main.ts'])(
  '%s loads the event store checks, so its verify checks events and their index',
  (entry) => {
    expect(reachable(entry)).toContain('src/eventstore/verifyEvents.ts')
    expect(reachable(entry)).toContain('src/eventstore/verifyIndex.ts')
  },
)

it('runs a registered check on the entries of its prefix, once its marker is there', async () => {
  const seen: string[] = []
  registerEntryCheck(
    prefixCheck({
      name: 'test: greetings',
      marker: text.encode('$greetings'),
      prefix: text.encode('g/'),
      forKey: () => (value) => {
        const word = new TextDecoder().decode(value)
        seen.push(word)
        return word === 'hello' ? undefined : `is not a greeting: ${word}`
      },
    }),
  )
  const memory = reopenableMemory()
  const log = await openLog({ storage: memory.open() })
  await log.append([
    { key: 'g/a', value: 'hello' },
    { key: 'g/b', value: 'goodbye' },
    { key: 'h/c', value: 'ignored' },
  ])
  // Without the marker the check does not run.
  expect((await verifyStorage(memory.base)).violations).toEqual([])
  expect(seen).toEqual([])
  await log.append([{ key: '$greetings', value: '' }])
  await log.close()
  expect((await verifyStorage(memory.base)).violations).toEqual([
    'entry 1 of key "g/b" is not a greeting: goodbye',
  ])
  expect(seen).toEqual(['hello', 'goodbye'])
})
