// The conventions of the ecosystem on the log: a custom Storage needs only the port's required
// methods (openIterators is a test diagnostic, and Symbol.asyncDispose what the shipped openers
// add), `Symbol.asyncDispose` for `await using`, and `signal` on the bounded reads — scan, keys
// and count — which then fail with ABORTED and let go of the store's iterator.
import { afterEach, describe, expect, it } from 'vitest'
import { DeltalogError } from '../../src/errors.js'
import { openLog, type Log } from '../../src/openLog.js'
import { openMemoryStorage } from '../../src/storage/memory.js'
import type { Storage } from '../../src/storage/port.js'
import { code } from '../support/codes.js'
import { makeTempDir, removeDir } from '../support/tmpdir.js'
import { instrument } from './storages.js'

const str = (b: Uint8Array): string => new TextDecoder().decode(b)

const cleanup: Array<() => Promise<void>> = []
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f()
})

describe('a custom Storage', () => {
  it('opens without openIterators, watch or Symbol.asyncDispose: the port requires none', async () => {
    const {
      openIterators: _,
      watch: __,
      [Symbol.asyncDispose]: ___,
      ...required
    } = await openMemoryStorage()
    const storage: Storage = required
    expect('openIterators' in storage).toBe(false)
    expect(Symbol.asyncDispose in storage).toBe(false)
    const log = await openLog({ storage })
    cleanup.push(() => log.close())
    await log.append([{ key: 'k', value: 'v' }])
    const read: string[] = []
    for await (const entry of log.scan()) read.push(`${str(entry.key)}=${str(entry.value)}`)
    expect(read).toEqual(['k=v'])
  })

  it('still needs every required method', async () => {
    const { getMany: _, ...lacking } = await openMemoryStorage()
    await expect(openLog({ storage: lacking as never })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: expect.stringContaining('options.storage') as unknown,
    })
  })
})

describe('signal on scan, keys and count', () => {
  // Enough entries, in enough commits, that a scan holds its storage iterator between entries.
  const bigLog = async (): Promise<{ log: Log; storage: Storage }> => {
    const storage = await openMemoryStorage()
    const log = await openLog({ storage })
    cleanup.push(() => log.close())
    for (let c = 0; c < 30; c++) {
      await log.append(
        Array.from({ length: 100 }, (_, i) => ({ key: `k${(c * 100 + i) % 7}`, value: `v${i}` })),
      )
    }
    return { log, storage }
  }
  const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))
  const openIterators = (storage: Storage): number | undefined => storage.openIterators?.()

  it('reads everything while the signal does not abort', async () => {
    const { log } = await bigLog()
    const signal = new AbortController().signal
    let n = 0
    for await (const _ of log.scan({ signal })) n++
    expect(n).toBe(3000)
    expect(await log.count({ signal })).toBe(3000)
    const keys: string[] = []
    for await (const key of log.keys({ signal })) keys.push(str(key))
    expect(keys).toHaveLength(7)
  })

  it('refuses a signal that is no AbortSignal', async () => {
    const log = await openLog({ storage: await openMemoryStorage() })
    cleanup.push(() => log.close())
    for (const read of [
      () => log.scan({ signal: 'stop' } as never).next(),
      () => log.keys({ signal: 'stop' } as never).next(),
      () => log.count({ signal: 'stop' } as never),
    ]) {
      expect(await code(read())).toBe('INVALID_ARGUMENT')
    }
  })

  it('fails the first next() of a scan or keys, and a count, when already aborted', async () => {
    const { log, storage } = await bigLog()
    const controller = new AbortController()
    controller.abort(new Error('not wanted'))
    const { signal } = controller
    for (const read of [
      () => log.scan({ signal }).next(),
      () => log.scan({ signal, key: 'k1', reverse: true }).next(),
      () => log.keys({ signal }).next(),
      () => log.count({ signal }),
      () => log.count({ signal, key: 'k1' }),
      // An empty range too: the caller asked to stop before anything was read.
      () => log.count({ signal, from: 5, to: 5 }),
    ]) {
      await expect(read()).rejects.toMatchObject({
        code: 'ABORTED',
        cause: signal.reason as unknown,
      })
      expect(openIterators(storage)).toBe(0)
    }
  })

  it('lets go of a scan’s storage iterator as soon as the signal aborts, then fails next()', async () => {
    const { log, storage } = await bigLog()
    for (const options of [{}, { key: 'k3' }, { reverse: true }]) {
      const controller = new AbortController()
      const scan = log.scan({ ...options, signal: controller.signal })
      expect((await scan.next()).done).toBe(false)
      // A key scan reads its run records a page at a time and holds no iterator between pages.
      expect(openIterators(storage)).toBe('key' in options ? 0 : 1)
      controller.abort()
      await settle()
      // Released without another next(): the caller may never call one.
      expect(openIterators(storage)).toBe(0)
      expect(await code(scan.next())).toBe('ABORTED')
      // Once failed, the scan stays done.
      expect(await scan.next()).toEqual({ done: true, value: undefined })
    }
  })

  it('fails a next() in flight when the signal aborts, and releases the iterator first', async () => {
    const { log, storage } = await bigLog()
    const controller = new AbortController()
    const scan = log.scan({ signal: controller.signal })
    await scan.next()
    const inFlight = scan.next()
    controller.abort()
    expect(await code(inFlight)).toBe('ABORTED')
    expect(openIterators(storage)).toBe(0)
  })

  it('stops keys and count during the read', async () => {
    const { log, storage } = await bigLog()
    const forKeys = new AbortController()
    const keys = log.keys({ signal: forKeys.signal })
    expect((await keys.next()).done).toBe(false)
    forKeys.abort()
    expect(await code(keys.next())).toBe('ABORTED')
    expect(openIterators(storage)).toBe(0)
    for (const options of [{}, { key: 'k2' }]) {
      const forCount = new AbortController()
      // The count starts at once and goes on over many chunks: the abort lands during it.
      const counting = log.count({ ...options, signal: forCount.signal })
      forCount.abort()
      expect(await code(counting)).toBe('ABORTED')
      expect(openIterators(storage)).toBe(0)
    }
  })
})

describe('Symbol.asyncDispose', () => {
  // vitest's esbuild lowers `await using` where the runtime lacks it (Node 20 and 22); Node 24
  // runs it as it is. Either way the runtime's Symbol.asyncDispose is what gets called.
  it('closes the log at the end of an `await using` block, releasing its directory', async () => {
    const dir = await makeTempDir('dispose')
    cleanup.push(() => removeDir(dir))
    let kept: Log | undefined
    {
      await using log = await openLog({ path: dir })
      kept = log
      await log.append([{ key: 'k', value: 'v' }])
    }
    expect(await code(kept.append([{ key: 'k', value: 'w' }]))).toBe('CLOSED')
    // The directory's lock went with the close: the next open is not LOCKED.
    await using again = await openLog({ path: dir })
    expect(again.nextSequence()).toBeGreaterThan(0)
    expect(await again.count()).toBe(1)
  })

  it('is close(): one promise for a close in progress and after it', async () => {
    const log = await openLog({ storage: await openMemoryStorage() })
    const closing = log[Symbol.asyncDispose]()
    expect(log.close()).toBe(closing)
    await closing
    expect(log.close()).toBe(closing)
    await log[Symbol.asyncDispose]()
    expect(await code(log.count())).toBe('CLOSED')
  })

  it('rejects with DeltalogError when the close fails', async () => {
    const storage = instrument(await openMemoryStorage())
    const log = await openLog({ storage, durability: 'buffered' })
    // The first append syncs (it takes a new block); the second is only written.
    await log.append([{ key: 'k', value: '1' }])
    await log.append([{ key: 'k', value: '2' }])
    expect(log.durableSequence()).toBeLessThan(log.nextSequence())
    storage.failWrites = true
    const failed = await log[Symbol.asyncDispose]().then(
      () => undefined,
      (error: unknown) => error,
    )
    expect(failed).toBeInstanceOf(DeltalogError)
    expect(failed).toMatchObject({ code: 'IO_ERROR' })
  })
})
