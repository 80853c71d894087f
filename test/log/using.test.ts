// `await using` as the runtime itself runs it, not as a compiler lowers it: the block is compiled
// by V8 from a string, so it runs only where the syntax is native (Node.js 24 and later; the CI
// runs this file on 24). Elsewhere conventions.test.ts covers the same disposal, lowered.
import { expect, it } from 'vitest'
import { openEventStore } from '../../src/eventstore/store.js'
import { openLog } from '../../src/openLog.js'
import { code } from '../support/codes.js'
import { makeTempDir, removeDir } from '../support/tmpdir.js'

const nativeUsing = ((): boolean => {
  try {
    // eslint-disable-next-line @typescript-eslint/no-implied-eval -- the point: V8 compiles it
    new Function('return async () => { await using x = null }')
    return true
  } catch {
    return false
  }
})()

type Run = (...args: unknown[]) => Promise<unknown>
// eslint-disable-next-line @typescript-eslint/require-await -- only its constructor is wanted
const AsyncFunction = (async () => undefined).constructor as new (...source: string[]) => Run

it.runIf(nativeUsing)(
  'closes a log and an event store at the end of native `await using` blocks',
  async () => {
    const dir = await makeTempDir('using')
    try {
      const run = new AsyncFunction(
        'openLog',
        'openEventStore',
        'dir',
        `
      let log, store
      {
        await using opened = await openLog({ path: dir + '/log' })
        log = opened
        await opened.append([{ key: 'k', value: 'v' }])
      }
      {
        await using opened = await openEventStore({ path: dir + '/events' })
        store = opened
        await opened.appendToStream('s', [{ type: 'A', data: 1 }])
      }
      return { log, store }
      `,
      )
      const { log, store } = (await run(openLog, openEventStore, dir)) as {
        log: Awaited<ReturnType<typeof openLog>>
        store: Awaited<ReturnType<typeof openEventStore>>
      }
      expect(await code(log.append([{ key: 'k', value: 'w' }]))).toBe('CLOSED')
      expect(await code(store.appendToStream('s', [{ type: 'A', data: 2 }]))).toBe('CLOSED')
      // Both directories were released: they open again.
      const again = await openLog({ path: `${dir}/log` })
      expect(await again.count()).toBe(1)
      await again.close()
    } finally {
      await removeDir(dir)
    }
  },
)
