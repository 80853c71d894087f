// Closing an event store: once, awaitable by every caller, and through Symbol.asyncDispose.
import * as TE from 'fp-ts/lib/TaskEither.js'
import { describe, expect, it } from 'vitest'
import { DeltalogError, ioError } from '../../src/errors.js'
import { openEventStore } from '../../src/eventstore/store.js'
import { openLog, type Log } from '../../src/openLog.js'
import { openMemoryStorage } from '../../src/storage/memory.js'
import { instrument } from '../log/storages.js'
import { code } from '../support/codes.js'

const appendRejectsClosed = async (log: Log): Promise<void> => {
  expect(await code(log.append([{ key: 'k', value: 'v' }]))).toBe('CLOSED')
}

describe('close', () => {
  it('gives a second caller the same promise, which waits for the queued appends', async () => {
    const storage = instrument(await openMemoryStorage())
    storage.writeDelayMs = 5
    const store = await openEventStore({ storage })
    let appended = false
    const pending = store.appendToStream('s', [{ type: 'A' }]).then(() => {
      appended = true
    })
    const first = store.close()
    const second = store.close()
    expect(second).toBe(first)
    await second
    expect(appended).toBe(true)
    await pending
    await appendRejectsClosed(store.log)
  })

  it('resolves at once after it closed, and refuses appends with CLOSED', async () => {
    const store = await openEventStore({ storage: await openMemoryStorage() })
    const first = store.close()
    await first
    const again = store.close()
    expect(again).toBe(first)
    await again
    expect(await code(store.appendToStream('s', [{ type: 'A' }]))).toBe('CLOSED')
    expect(await code(store.checkpoints.save('p', 0))).toBe('CLOSED')
  })

  it('refuses writes once closed even on a shared log, which stays open', async () => {
    const log = await openLog({ storage: await openMemoryStorage() })
    const store = await openEventStore({ log })
    await store.appendToStream('s', [{ type: 'A' }])
    await store.close()
    const head = log.nextSequence()
    await expect(store.appendToStream('s', [{ type: 'B' }])).rejects.toMatchObject({
      code: 'CLOSED',
      message: 'event store is closed',
    })
    expect(await code(store.deleteStream('s'))).toBe('CLOSED')
    expect(log.nextSequence()).toBe(head)
    await log.append([{ key: 'mine', value: 'still open' }])
    await log.close()
  })

  it('rejects with a DeltalogError when the log underneath fails to close', async () => {
    const storage = await openMemoryStorage()
    const failing = {
      ...storage,
      close: () => TE.left(ioError('the disk went away', new Error('EIO'))),
    }
    const store = await openEventStore({ storage: failing })
    const closing = store.close()
    await expect(closing).rejects.toBeInstanceOf(DeltalogError)
    await expect(closing).rejects.toMatchObject({ code: 'IO_ERROR' })
    // The same outcome for every caller: close is not tried twice.
    expect(store.close()).toBe(closing)
  })
})

describe('Symbol.asyncDispose', () => {
  it('closes the store and the log it opened', async () => {
    const store = await openEventStore({ storage: await openMemoryStorage() })
    await store.appendToStream('s', [{ type: 'A' }])
    await store[Symbol.asyncDispose]()
    await appendRejectsClosed(store.log)
    expect(await code(store.appendToStream('s', [{ type: 'B' }]))).toBe('CLOSED')
    // The same close: disposing after close() gives its promise.
    const closed = store.close()
    expect(store[Symbol.asyncDispose]()).toBe(closed)
  })

  it('is what await using calls at the end of the block', async () => {
    let log: Log | undefined
    {
      await using store = await openEventStore({ storage: await openMemoryStorage() })
      log = store.log
      await store.appendToStream('s', [{ type: 'A' }])
    }
    await appendRejectsClosed(log)
  })

  it('rejects with a DeltalogError when closing fails', async () => {
    const storage = await openMemoryStorage()
    const store = await openEventStore({
      storage: { ...storage, close: () => TE.left(ioError('no', new Error('EIO'))) },
    })
    await expect(store[Symbol.asyncDispose]()).rejects.toMatchObject({ code: 'IO_ERROR' })
  })
})
