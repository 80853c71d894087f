// `log.metrics()` after known sequences of appends, flushes, backpressure and followers: each
// figure is what those steps imply, on a writable log and on one opened read-only.
import { describe, expect, it } from 'vitest'
import { openLog, type Log } from '../../src/openLog.js'
import { makeMemoryStorage } from '../../src/storage/memory.js'
import { RECORD_OVERHEAD_BYTES } from '../../src/log/writer.js'
import { makeTempDir, removeDir } from '../support/tmpdir.js'
import { instrument } from './storages.js'

// A record of a one-byte key and a one-byte value counts this many bytes as pending.
const ONE = 2 + RECORD_OVERHEAD_BYTES
const record = (value: string): { key: string; value: string } => ({ key: 'k', value })

/** Resolves once `check` holds, trying again after each turn of the event loop. */
const until = async (check: () => boolean): Promise<void> => {
  while (!check()) await new Promise((resolve) => setImmediate(resolve))
}

describe('log.metrics()', () => {
  it('reports nothing pending, committed or synced on a new log', async () => {
    const log = await openLog({ storage: makeMemoryStorage() })
    const m = log.metrics()
    expect(m.pending).toEqual({ appends: 0, bytes: 0 })
    expect(m.lastCommit).toBeUndefined()
    expect(m.commitLatency.count).toBe(0)
    expect(m.syncLatency.count).toBe(0)
    expect(m.durability).toEqual({ nextSequence: 0, durableSequence: 0, lag: 0, lagMs: 0 })
    expect(m.followers).toEqual({ count: 0, each: [] })
    expect(m.backpressure).toEqual({ waits: 0, totalMs: 0, waiting: 0 })
    await log.close()
  })

  it('counts each commit, its appends, records and bytes, and each synced write', async () => {
    const log = await openLog({ storage: makeMemoryStorage() })
    const before = Date.now()
    await log.append([record('a'), record('b')])
    await log.append([record('c')])
    let m = log.metrics()
    expect(m.commitLatency.count).toBe(2)
    expect(m.syncLatency.count).toBe(2)
    expect(m.lastCommit).toMatchObject({ appends: 1, records: 1, bytes: ONE })
    expect(m.lastCommit?.at).toBeGreaterThanOrEqual(before)
    expect(m.lastCommit?.at).toBeLessThanOrEqual(Date.now())
    // Appends queued while the writer waits for its tick after a commit make one commit.
    await Promise.all(Array.from({ length: 10 }, (_, i) => log.append([record(String(i))])))
    m = log.metrics()
    expect(m.commitLatency.count).toBe(3)
    expect(m.lastCommit).toMatchObject({ appends: 10, records: 10, bytes: 10 * ONE })
    expect(m.pending).toEqual({ appends: 0, bytes: 0 })
    expect(m.durability).toMatchObject({ nextSequence: 13, durableSequence: 13, lag: 0, lagMs: 0 })
    await log.close()
  })

  it('counts appends queued and being written as pending, until their commit is written', async () => {
    const storage = instrument(makeMemoryStorage())
    const log = await openLog({ storage })
    storage.writeDelayMs = 20
    const appending = Promise.all([
      log.append([record('a')]),
      log.append([record('b'), record('c')]),
      log.append([record('d')]),
    ])
    expect(log.metrics().pending).toEqual({ appends: 3, bytes: 4 * ONE })
    await appending
    expect(log.metrics().pending).toEqual({ appends: 0, bytes: 0 })
    await log.close()
  })

  it('releases the pending appends of a failed write', async () => {
    const storage = instrument(makeMemoryStorage())
    const log = await openLog({ storage })
    storage.failWrites = true
    const failed = Promise.allSettled([log.append([record('a')]), log.append([record('b')])])
    expect(log.metrics().pending).toEqual({ appends: 2, bytes: 2 * ONE })
    await failed
    expect(log.metrics().pending).toEqual({ appends: 0, bytes: 0 })
    expect(log.metrics().lastCommit).toBeUndefined()
    expect(log.metrics().commitLatency.count).toBe(0)
    await log.close().catch(() => undefined)
  })

  it('tells how far the durable watermark lags, and since when, until a flush', async () => {
    const log = await openLog({ storage: makeMemoryStorage(), durability: 'buffered' })
    // The first commit opens a block of numbers, so it is synced.
    await log.append([record('a')])
    expect(log.metrics().durability).toMatchObject({ lag: 0, lagMs: 0 })
    await log.append([record('b'), record('c')])
    const m = log.metrics()
    expect(m.durability).toMatchObject({ nextSequence: 3, durableSequence: 1, lag: 2 })
    expect(m.durability.lagMs).toBeGreaterThanOrEqual(0)
    const synced = m.syncLatency.count
    await log.flush()
    expect(log.metrics().durability).toMatchObject({ durableSequence: 3, lag: 0, lagMs: 0 })
    expect(log.metrics().syncLatency.count).toBe(synced + 1)
    // The lag counts from the oldest commit after the flush, not from one it made durable.
    const since = performance.now()
    await log.append([record('d')])
    const lagMs = log.metrics().durability.lagMs
    expect(lagMs).toBeGreaterThan(0)
    expect(lagMs).toBeLessThanOrEqual(performance.now() - since)
    await log.close()
  })

  it('counts the appends that waited for room, and those waiting now', async () => {
    const storage = instrument(makeMemoryStorage())
    const log = await openLog({ storage, maxPendingBytes: ONE })
    storage.writeDelayMs = 20
    const first = log.append([record('a')])
    const second = log.append([record('b')])
    const third = log.append([record('c')])
    let m = log.metrics()
    expect(m.backpressure).toEqual({ waits: 2, totalMs: 0, waiting: 2 })
    expect(m.pending).toEqual({ appends: 3, bytes: 3 * ONE })
    await first
    await until(() => log.metrics().backpressure.waiting < 2)
    m = log.metrics()
    expect(m.backpressure.waiting).toBe(1)
    expect(m.backpressure.totalMs).toBeGreaterThan(0)
    await Promise.all([second, third])
    m = log.metrics()
    expect(m.backpressure).toMatchObject({ waits: 2, waiting: 0 })
    expect(m.pending).toEqual({ appends: 0, bytes: 0 })
    await log.close()
  })

  it('lists each follower that reads, where it stands and how far behind it is', async () => {
    const log = await openLog({ storage: makeMemoryStorage() })
    for (const v of ['a', 'b', 'c', 'd']) await log.append([record(v)])
    const behind = log.follow({ from: 1 })
    const live = log.follow()
    // A follower is listed once it began to read.
    expect(log.metrics().followers.count).toBe(0)
    await behind.next()
    expect(log.metrics().followers).toEqual({ count: 1, each: [{ position: 2, lag: 2 }] })
    const next = live.next()
    await until(() => log.metrics().followers.count === 2)
    expect(log.metrics().followers.each).toContainEqual({ position: 4, lag: 0 })
    await log.append([record('e')])
    await next
    await behind.return?.(undefined)
    expect(log.metrics().followers).toEqual({ count: 1, each: [{ position: 5, lag: 0 }] })
    await live.return?.(undefined)
    expect(log.metrics().followers.count).toBe(0)
    await log.close()
  })
})

describe('log.metrics() of a log opened read-only', () => {
  const readOnly = async (dir: string): Promise<Log> => openLog({ path: dir, readOnly: true })

  it('reports the watermarks and followers, and nothing pending, committed or synced', async () => {
    const dir = await makeTempDir('metrics')
    try {
      const writer = await openLog({ path: dir })
      for (const v of ['a', 'b', 'c']) await writer.append([record(v)])
      const reader = await readOnly(dir)
      const follower = reader.follow({ from: 1 })
      await follower.next()
      const m = reader.metrics()
      expect(m.pending).toEqual({ appends: 0, bytes: 0 })
      expect(m.lastCommit).toBeUndefined()
      expect(m.commitLatency.count).toBe(0)
      expect(m.syncLatency.count).toBe(0)
      expect(m.backpressure).toEqual({ waits: 0, totalMs: 0, waiting: 0 })
      expect(m.durability).toEqual({ nextSequence: 3, durableSequence: 3, lag: 0, lagMs: 0 })
      expect(m.followers).toEqual({ count: 1, each: [{ position: 2, lag: 1 }] })
      await follower.return?.(undefined)
      await reader.close()
      await writer.close()
    } finally {
      await removeDir(dir)
    }
  })
})
