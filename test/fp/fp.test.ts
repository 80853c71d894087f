// deltalog/fp: the Promise API's operations as TaskEithers. Each effect's Left is the error value
// a DeltalogError would carry, and running one never rejects; docs/fp.md's example runs as written.
import { readFile, writeFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import * as E from 'fp-ts/lib/Either.js'
import { expect, it } from 'vitest'
import * as fp from '../../src/fp/index.js'
import { runTypeScript } from '../support/child.js'
import { makeTempDir, removeDir } from '../support/tmpdir.js'

const fpEntry = new URL('../../src/fp/index.ts', import.meta.url).pathname
// The example runs in a scratch directory: its fp-ts imports resolve from this project.
const resolve = createRequire(import.meta.url).resolve

const rightOf = <A>(result: E.Either<fp.DeltalogErrorValue, A>): A => {
  if (E.isLeft(result))
    throw new Error(`expected a Right, got ${result.left.code}: ${result.left.message}`)
  return result.right
}

it('runs docs/fp.md as written', async () => {
  const doc = await readFile(new URL('../../docs/fp.md', import.meta.url), 'utf8')
  const block = /```ts\n([\s\S]*?)```/.exec(doc)?.[1]
  expect(block).toBeDefined()
  const dir = await makeTempDir('fp-doc')
  try {
    const script = join(dir, 'example.mts')
    const program = (block ?? '')
      .replace("from 'deltalog/fp'", `from ${JSON.stringify(fpEntry)}`)
      .replace(
        /from '(fp-ts\/[^']+)'/g,
        (_, name: string) => `from ${JSON.stringify(resolve(name))}`,
      )
    await writeFile(script, program)
    const child = runTypeScript(script, { cwd: dir })
    expect(child.stderr).toBe('')
    expect(child.stdout.trim()).toBe('{"refused":0}')
  } finally {
    await removeDir(dir)
  }
})

it('gives every effect of the event store as a TaskEither whose Left is the error value', async () => {
  const storage = rightOf(await fp.openMemoryStorage()())
  const store = rightOf(await fp.openEventStore({ storage })())
  const first = rightOf(
    await store.appendToStream('s', [{ type: 'A', data: 1 }], { expectedRevision: 'no_stream' })(),
  )
  expect(first.nextExpectedRevision).toBe(0)
  expect(Number.isSafeInteger(first.position)).toBe(true)
  const refused = await store.appendToStream('s', [{ type: 'A', data: 2 }], {
    expectedRevision: 'no_stream',
  })()
  expect(E.isLeft(refused) && refused.left.code).toBe('WRONG_EXPECTED_REVISION')
  rightOf(
    await store.appendMulti([{ streamId: 't', events: [{ type: 'B', data: 3 }] }], {
      checkpoint: { name: 'c', position: first.position },
    })(),
  )
  expect(rightOf(await store.checkpoints.load('c')())).toBe(first.position)
  expect(rightOf(await store.checkpoints.load('none')())).toBeUndefined()
  rightOf(await store.checkpoints.save('d', first.position)())
  expect(rightOf(await store.checkpoints.load('d')())).toBe(first.position)
  const past = await store.checkpoints.save('d', 1_000_000)()
  expect(E.isLeft(past) && past.left.code).toBe('INVALID_ARGUMENT')
  const sum = rightOf(
    await store.aggregateStream('s', {
      initialState: 0,
      evolve: (state: number, event) => state + (event.data as number),
    })(),
  )
  expect(sum).toBe(1)
  const read: string[] = []
  for await (const event of store.readAll()) read.push(event.streamId)
  expect(read).toEqual(['s', 't'])
  const tagged = rightOf(await store.append([{ type: 'C', tags: ['k'] }])())
  const condition = { failIfEventsMatch: { items: [{ tags: ['k'] }] } }
  const conflict = await store.append([{ type: 'D' }], { condition })()
  expect(E.isLeft(conflict) && conflict.left).toMatchObject({
    code: 'APPEND_CONDITION_FAILED',
    position: tagged.position,
  })
  const byTag: string[] = []
  for await (const event of store.read({ items: [{ tags: ['k'] }] })) byTag.push(event.type)
  expect(byTag).toEqual(['C'])
  const live = store.subscribe({ items: [{ tags: ['k'] }] })
  expect((await live.next()).value).toMatchObject({ type: 'event', event: { type: 'C' } })
  await live.return?.()
  rightOf(await store.deleteStream('t')())
  const afterDelete: string[] = []
  for await (const event of store.readAll()) afterDelete.push(event.streamId)
  expect(afterDelete).toEqual(['s', ''])
  // The store's log, in its TaskEither form, is the same log.
  const n = rightOf(await store.log.count()())
  expect(n).toBeGreaterThan(0)
  const badCount = await store.log.count({ from: -1 })()
  expect(E.isLeft(badCount) && badCount.left.code).toBe('INVALID_ARGUMENT')
  rightOf(await store.close()())
  const closed = await store.appendToStream('s', [{ type: 'A', data: 3 }])()
  expect(E.isLeft(closed) && closed.left.code).toBe('CLOSED')
})

it('opens a log whose effects are TaskEithers, and refuses bad options with a Left', async () => {
  const bad = await fp.openLog({ path: 'x', storage: {} })()
  expect(E.isLeft(bad) && bad.left.code).toBe('INVALID_ARGUMENT')
  const storage = rightOf(await fp.openMemoryStorage()())
  const log = rightOf(await fp.openLog({ storage })())
  expect(rightOf(await log.append([{ key: 'k', value: 'v' }])())).toEqual({
    startSequence: 0,
    count: 1,
  })
  const refused = await log.append([{ key: '', value: 'v' }])()
  expect(E.isLeft(refused) && refused.left.code).toBe('INVALID_ARGUMENT')
  rightOf(await log.close()())
})
