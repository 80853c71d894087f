// The conventions of the ecosystem on the log: a custom Storage needs only the port's required
// methods (openIterators is a test diagnostic), `Symbol.asyncDispose` for `await using`, and
// `signal` on the bounded reads — scan, keys and count — which then fail with ABORTED and let
// go of the store's iterator.
import { afterEach, describe, expect, it } from 'vitest'
import { openLog } from '../../src/openLog.js'
import { openMemoryStorage } from '../../src/storage/memory.js'
import type { Storage } from '../../src/storage/port.js'

const str = (b: Uint8Array): string => new TextDecoder().decode(b)

const cleanup: Array<() => Promise<void>> = []
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f()
})

describe('a custom Storage', () => {
  it('opens without openIterators (and without watch): the port requires neither', async () => {
    const { openIterators: _, watch: __, ...required } = openMemoryStorage()
    const storage: Storage = required
    expect('openIterators' in storage).toBe(false)
    const log = await openLog({ storage })
    cleanup.push(() => log.close())
    await log.append([{ key: 'k', value: 'v' }])
    const read: string[] = []
    for await (const entry of log.scan()) read.push(`${str(entry.key)}=${str(entry.value)}`)
    expect(read).toEqual(['k=v'])
  })

  it('still needs every required method', async () => {
    const { getMany: _, ...lacking } = openMemoryStorage()
    await expect(openLog({ storage: lacking as never })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: expect.stringContaining('options.storage') as unknown,
    })
  })
})
