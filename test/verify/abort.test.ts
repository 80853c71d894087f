// verifyStorage reads the whole store, so it takes a signal like every long read: an abort,
// before or during, rejects with ABORTED (the signal's reason as its cause) and leaves no
// iteration open on the store.
import { expect, it } from 'vitest'
import { DeltalogError } from '../../src/errors.js'
import { openLog } from '../../src/openLog.js'
import { makeMemoryStorage } from '../../src/storage/memory.js'
import { verifyStorage } from '../../src/verify/verify.js'

const abortedBy = (reason: unknown) => ({ code: 'ABORTED', cause: reason })

const filled = async (records: number) => {
  const storage = makeMemoryStorage()
  const log = await openLog({ storage, readOnly: false })
  for (let i = 0; i < records; i += 500) {
    await log.append(
      Array.from({ length: Math.min(500, records - i) }, (_, j) => ({
        key: `k${(i + j) % 7}`,
        value: `v${i + j}`,
      })),
    )
  }
  // verify reads the store while the log that wrote it stays open.
  return { storage, log }
}

it('rejects with ABORTED before reading anything when the signal aborted before', async () => {
  // An empty log: the walk meets no record, so only the check before it can refuse.
  const { storage, log } = await filled(0)
  const stop = new AbortController()
  stop.abort('early')
  const error = await verifyStorage(storage, { signal: stop.signal }).then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(error).toBeInstanceOf(DeltalogError)
  expect(error).toMatchObject(abortedBy('early'))
  expect(storage.openIterators?.()).toBe(0)
  await log.close()
})

it('stops in the middle of the walk when the signal aborts, and releases its iterator', async () => {
  const { storage, log } = await filled(5000)
  const stop = new AbortController()
  let calls = 0
  const error = await verifyStorage(storage, {
    signal: stop.signal,
    onProgress: () => {
      calls++
      stop.abort('enough')
    },
  }).then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(error).toMatchObject(abortedBy('enough'))
  // It stopped at the first record after the abort, not at the end of the store.
  expect(calls).toBe(1)
  expect(storage.openIterators?.()).toBe(0)
  // Without a signal the same store verifies whole.
  const report = await verifyStorage(storage)
  expect(report.violations).toEqual([])
  expect(report.entries).toBe(5000)
  await log.close()
})

it('refuses a signal that is not an AbortSignal', async () => {
  const { storage, log } = await filled(1)
  await expect(verifyStorage(storage, { signal: {} as AbortSignal })).rejects.toMatchObject({
    code: 'INVALID_ARGUMENT',
    error: { field: 'options.signal' },
  })
  await log.close()
})
