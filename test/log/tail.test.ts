// The hot tail: a caught-up follower gets each commit's entries from memory, a follower that
// falls behind reads storage, and either way it sees every entry once, in order.
import { test } from '@fast-check/vitest'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { segmentsOf, type Entry } from '../../src/delta/delta.js'
import { openLog, type LogEntry } from '../../src/openLog.js'
import { makeHotTail } from '../../src/log/tail.js'
import { openMemoryStorage } from '../../src/storage/memory.js'
import { openCrashStorage } from '../../src/testing/crashStorage.js'
import type { Storage } from '../../src/storage/port.js'
import { interrupting, reopenableMemory } from './storages.js'

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s)
const text = new TextDecoder()
const show = (e: LogEntry): string => `${e.sequence}:${text.decode(e.key)}=${text.decode(e.value)}`

/** Commits as the writer makes them: each a run of sequences after the last, gaps allowed. */
const arbCommits = fc.array(
  fc.record({
    gap: fc.oneof(fc.constant(0), fc.nat({ max: 3 })),
    keys: fc.array(fc.constantFrom('a', 'b', 'c'), { maxLength: 5 }),
    size: fc.nat({ max: 20 }),
  }),
  { maxLength: 30 },
)

describe('makeHotTail', () => {
  test.prop([
    fc.nat({ max: 50 }),
    arbCommits,
    fc.record({ entries: fc.integer({ min: 1, max: 12 }), bytes: fc.integer({ min: 1, max: 80 }) }),
    fc.nat({ max: 200 }),
    fc.option(fc.constantFrom('a', 'b', 'c'), { nil: undefined }),
    fc.nat({ max: 200 }),
  ])(
    'holds every entry of [start, end), within its limits, and reads exactly those asked for',
    (opened, commits, limits, from, key, truncatedBefore) => {
      const tail = makeHotTail(opened, limits)
      const all: Entry[] = []
      let end = opened
      let start = tail.start()
      for (const commit of commits) {
        const first = end + commit.gap
        const entries = commit.keys.map((k, i) => ({
          key: bytes(k),
          value: new Uint8Array(commit.size),
          sequence: first + i,
        }))
        end = first + entries.length
        all.push(...entries)
        tail.commit(segmentsOf(entries), end)
        expect(tail.start()).toBeGreaterThanOrEqual(start)
        start = tail.start()
        const held = tail.read(start, Infinity, undefined, 0).entries
        expect(held).toEqual(all.filter((e) => e.sequence >= start))
        expect(held.length).toBeLessThanOrEqual(limits.entries)
        const heldBytes = held.reduce((n, e) => n + e.key.length + e.value.length, 0)
        expect(heldBytes <= limits.bytes || held.length === 0).toBe(true)
      }
      const at = Math.max(from, start)
      const upper = at + 7
      const read = tail.read(at, upper, key === undefined ? undefined : bytes(key), truncatedBefore)
      expect(read.entries).toEqual(
        all.filter(
          (e) =>
            e.sequence >= at &&
            e.sequence >= truncatedBefore &&
            e.sequence < upper &&
            (key === undefined || text.decode(e.key) === key),
        ),
      )
      expect(read.next).toBe(Math.max(at, Math.min(upper, end)))
    },
  )

  it('holds exactly as many entries and bytes as its limits, and lets go only past them', () => {
    // Three entries of two bytes: at both limits at once.
    const tail = makeHotTail(0, { entries: 3, bytes: 6 })
    const entry = (sequence: number): Entry => ({ key: bytes('a'), value: bytes('x'), sequence })
    tail.commit(segmentsOf([entry(0), entry(1), entry(2)]), 3)
    expect(tail.start()).toBe(0)
    expect(tail.read(0, Infinity, undefined, 0).entries).toHaveLength(3)
    tail.commit(segmentsOf([entry(3)]), 4)
    expect(tail.start()).toBe(1)
  })

  it('is dropped for good: readers go to storage', () => {
    const tail = makeHotTail(0)
    tail.drop()
    tail.commit([{ first: 0, keys: [bytes('a')], values: [bytes('x')] }], 1)
    expect(tail.start()).toBe(Infinity)
  })
})

/** A store that counts reads, so a test can tell memory from storage. */
const counting = (storage: Storage): Storage & { reads: () => number } => {
  let reads = 0
  return {
    ...storage,
    get: (key) => {
      reads++
      return storage.get(key)
    },
    getMany: (keys) => {
      reads++
      return storage.getMany(keys)
    },
    iterator: (options) => {
      reads++
      return storage.iterator(options)
    },
    reads: () => reads,
  }
}

describe('followers and the hot tail', () => {
  it('a caught-up follower gets new commits without reading storage', async () => {
    const storage = counting(await openMemoryStorage())
    const log = await openLog({ storage })
    const stop = new AbortController()
    const seen: string[] = []
    const follower = (async () => {
      for await (const entry of log.follow({ key: 'a', signal: stop.signal })) {
        seen.push(show(entry))
        if (seen.length === 3) stop.abort()
      }
    })()
    await new Promise((resolve) => setImmediate(resolve))
    const before = storage.reads()
    await log.append([
      { key: 'a', value: '1' },
      { key: 'b', value: '2' },
    ])
    await log.append([{ key: 'a', value: '3' }])
    await log.append([{ key: 'a', value: '4' }])
    await follower
    expect(seen).toEqual(['0:a=1', '2:a=3', '3:a=4'])
    expect(storage.reads()).toBe(before)
    await log.close()
  })

  it('a follower further behind than the tail holds reads storage, then memory, missing nothing', async () => {
    const storage = counting(await openMemoryStorage())
    const log = await openLog({ storage, durability: 'buffered' })
    // More than the tail holds (4096 entries), so the start is in storage only.
    const big = Array.from({ length: 5000 }, (_, i) => ({ key: `k${i % 7}`, value: `${i}` }))
    await log.append(big)
    const stop = new AbortController()
    const seen: number[] = []
    const follower = (async () => {
      for await (const entry of log.follow({ from: 0, signal: stop.signal })) {
        seen.push(entry.sequence)
        if (seen.length === 5003) stop.abort()
      }
    })()
    await log.append([{ key: 'x', value: 'a' }])
    await log.append([{ key: 'x', value: 'b' }])
    await log.append([{ key: 'x', value: 'c' }])
    await follower
    expect(seen).toEqual(Array.from({ length: 5003 }, (_, i) => i))
    await log.close()
  })

  it('a caught-up follower gets appendAt commits, gaps and all', async () => {
    const log = await openLog({ storage: await openMemoryStorage() })
    const stop = new AbortController()
    const seen: string[] = []
    const follower = (async () => {
      for await (const entry of log.follow({ from: 0, signal: stop.signal })) {
        seen.push(show(entry))
        if (seen.length === 3) stop.abort()
      }
    })()
    await new Promise((resolve) => setImmediate(resolve))
    await log.append([{ key: 'a', value: '0' }])
    await log.appendAt([
      { sequence: 5, key: 'b', value: '5' },
      { sequence: 9, key: 'a', value: '9' },
    ])
    await follower
    expect(seen).toEqual(['0:a=0', '5:b=5', '9:a=9'])
    await log.close()
  })

  it('after a write that failed but landed, a follower sees what scan() sees', async () => {
    const store = await openCrashStorage()
    const log = await openLog({ storage: store })
    await log.append([{ key: 'a', value: '0' }])
    store.failNext('ack') // applied and synced, but reported as failed: the writer stops
    await expect(log.append([{ key: 'a', value: '1' }])).rejects.toMatchObject({
      code: 'IO_ERROR',
    })
    const scanned: string[] = []
    for await (const entry of log.scan()) scanned.push(show(entry))
    expect(scanned).toEqual(['0:a=0', '1:a=1'])
    const stop = new AbortController()
    const timer = setTimeout(() => stop.abort(), 2000)
    const followed: string[] = []
    for await (const entry of log.follow({ from: 0, signal: stop.signal })) {
      followed.push(show(entry))
      if (followed.length === scanned.length) stop.abort()
    }
    clearTimeout(timer)
    expect(followed).toEqual(scanned)
    await log.close()
  })

  it('a follower whose storage read finds nothing is woken by a commit made during that read', async () => {
    const memory = reopenableMemory()
    const before = await openLog({ storage: memory.open() })
    await before.append([{ key: 'a', value: '0' }])
    await before.close()
    // Reopened, the log's tail starts at its new end: a follower from 0 reads storage.
    const storage = interrupting(memory.open())
    const log = await openLog({ storage })
    const stop = new AbortController()
    const follower = log.follow({ key: 'b', from: 0, signal: stop.signal })
    const at = log.nextSequence()
    storage.duringNextStep(() => log.append([{ key: 'b', value: '1' }]))
    const next = await follower.next()
    expect(storage.armed()).toBe(false)
    expect(next.done !== true && show(next.value)).toBe(`${at}:b=1`)
    stop.abort()
    await log.close()
  })

  it('hands each follower its own copies: changing one changes nothing for another', async () => {
    const log = await openLog({ storage: await openMemoryStorage() })
    const follow = (): Promise<LogEntry> =>
      (async () => {
        for await (const entry of log.follow()) return entry
        throw new Error('ended')
      })()
    const first = follow()
    const second = follow()
    await new Promise((resolve) => setImmediate(resolve))
    await log.append([{ key: 'k', value: 'v' }])
    const [a, b] = await Promise.all([first, second])
    a.value[0] = 0x21
    expect(text.decode(b.value)).toBe('v')
    expect(show(await first)).toBe('0:k=!')
    const stored: string[] = []
    for await (const entry of log.scan()) stored.push(show(entry))
    expect(stored).toEqual(['0:k=v'])
    await log.close()
  })
})
