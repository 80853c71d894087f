// The bound on a commit's size: which queued requests the writer takes together (group.ts), and
// that a log under a fast producer writes no batch past it.
import { fc, test } from '@fast-check/vitest'
import { afterEach, describe, expect, it } from 'vitest'
import type { Request } from '../../src/log/commit.js'
import { groupLength, MAX_COMMIT_BYTES, MAX_COMMIT_RECORDS } from '../../src/log/group.js'
import { openLog } from '../../src/openLog.js'
import { openMemoryStorage } from '../../src/storage/memory.js'
import { instrument } from './storages.js'

const settle = (): void => undefined
const append = (bytes: number, records = 0): Request => {
  const none = Array.from({ length: records }, () => new Uint8Array(0))
  return { kind: 'append', records: { keys: none, values: none }, bytes, settle }
}
const flush: Request = { kind: 'flush', settle }
const truncate: Request = { kind: 'truncate', before: 1, settle }
const place: Request = { kind: 'place', entries: [], settle }

const cleanup: Array<() => Promise<unknown>> = []
afterEach(async () => {
  for (const f of cleanup.splice(0)) await f()
})

describe('groupLength', () => {
  it('takes appends while their bytes stay within the bound', () => {
    expect(groupLength([append(40), append(60), append(1)], 100)).toBe(2)
    expect(groupLength([append(40), append(60)], 100)).toBe(2)
    expect(groupLength([append(100), flush, append(1), flush], 100)).toBe(2)
  })

  it('takes appends while their records stay within the bound', () => {
    expect(groupLength([append(1, 3), append(1, 2), append(1, 1)], 100, 5)).toBe(2)
    expect(groupLength([append(1, 3), flush, append(1, 3)], 100, 5)).toBe(2)
    expect(groupLength([append(1, 9), append(1, 1)], 100, 5)).toBe(1)
    expect(groupLength([append(1, 1), append(1, 9)], 100, 5)).toBe(1)
  })

  it('takes an append larger than the bound alone, never none', () => {
    expect(groupLength([append(500), append(1)], 100)).toBe(1)
    expect(groupLength([flush, append(500), append(1)], 100)).toBe(2)
    expect(groupLength([append(1), append(500)], 100)).toBe(1)
  })

  it('stops at a truncation or placement, which goes alone', () => {
    expect(groupLength([append(1), flush, truncate, append(1)], 100)).toBe(2)
    expect(groupLength([append(1), place], 100)).toBe(1)
    expect(groupLength([truncate, append(1)], 100)).toBe(0)
    expect(groupLength([place], 100)).toBe(0)
  })

  it('takes everything queued when it fits (the default bounds are 4096 records and 1 MiB)', () => {
    expect(MAX_COMMIT_BYTES).toBe(1 << 20)
    expect(MAX_COMMIT_RECORDS).toBe(4096)
    expect(groupLength([append(1, 2048), append(1, 2048), append(1, 1)])).toBe(2)
    expect(groupLength([append(1 << 19), flush, append(1 << 19)])).toBe(3)
    expect(groupLength([append(1 << 19), append(1 << 19), append(1)])).toBe(2)
  })

  test.prop([
    fc.array(fc.oneof(fc.tuple(fc.nat(300), fc.nat(30)), fc.constant(undefined)), {
      maxLength: 30,
    }),
  ])(
    "a group's appends stay within both bounds unless one alone passes them, and no more fit",
    (items) => {
      const queue = items.map((i) => (i === undefined ? flush : append(...i)))
      const length = groupLength(queue, 100, 10)
      const taken = queue.slice(0, length).flatMap((r) => (r.kind === 'append' ? [r] : []))
      const bytes = taken.reduce((n, r) => n + r.bytes, 0)
      const records = taken.reduce((n, r) => n + r.records.keys.length, 0)
      expect((bytes <= 100 && records <= 10) || taken.length === 1).toBe(true)
      if (queue.length > 0) expect(length).toBeGreaterThan(0)
      const next = queue[length]
      if (next?.kind === 'append') {
        const over = bytes + next.bytes > 100 || records + next.records.keys.length > 10
        expect(over).toBe(true)
      }
      if (next?.kind === 'flush') expect(length).toBe(queue.length)
    },
  )
})

describe('a commit under a fast producer', () => {
  it('writes no batch much past the bound, in order, every append whole', async () => {
    const storage = instrument(await openMemoryStorage())
    storage.writeDelayMs = 5
    const log = await openLog({ storage, durability: 'buffered' })
    cleanup.push(() => log.close())
    const value = new Uint8Array(100 * 1024)
    const appends = Array.from({ length: 24 }, (_, i) =>
      log.append([{ key: `k${i}`, value: value.map(() => i) }]),
    )
    const ranges = await Promise.all(appends)
    expect(ranges.map((r) => r.startSequence)).toEqual(ranges.map((_, i) => i))
    const sizes = storage.writes.map((w) =>
      w.batch.reduce((n, op) => n + op.key.length + (op.type === 'put' ? op.value.length : 0), 0),
    )
    // Each record is written twice (commit record and run record) with a little framing.
    expect(Math.max(...sizes)).toBeLessThan(2.2 * MAX_COMMIT_BYTES)
    expect(storage.writes.length).toBeGreaterThan(2)
    const read = []
    for await (const e of log.scan()) read.push(e.value[0])
    expect(read).toEqual(ranges.map((_, i) => i))
  })

  it('writes no batch with many more records than the bound', async () => {
    const storage = instrument(await openMemoryStorage())
    storage.writeDelayMs = 5
    const log = await openLog({ storage, durability: 'buffered' })
    cleanup.push(() => log.close())
    // Keys alternate, so that each record is a run record of its own in the batch.
    const appends = Array.from({ length: 16 }, (_, i) =>
      log.append(Array.from({ length: 1000 }, (_, j) => ({ key: `k${j % 2}`, value: `${i}` }))),
    )
    const ranges = await Promise.all(appends)
    expect(ranges.map((r) => r.startSequence)).toEqual(ranges.map((_, i) => i * 1000))
    const counts = storage.writes.map((w) => w.batch.length)
    // A commit record, a SeqBlock now and then, and one run record per record.
    expect(Math.max(...counts)).toBeLessThanOrEqual(MAX_COMMIT_RECORDS + 2)
    expect(await log.count()).toBe(16_000)
  })
})
