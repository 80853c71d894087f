// The bound on a commit's size: which queued requests the writer takes together (group.ts), and
// that a log under a fast producer writes no batch past it.
import { fc, test } from '@fast-check/vitest'
import { afterEach, describe, expect, it } from 'vitest'
import type { Request } from '../../src/log/commit.js'
import { groupLength, MAX_COMMIT_BYTES } from '../../src/log/group.js'
import { openLog } from '../../src/openLog.js'
import { openMemoryStorage } from '../../src/storage/memory.js'
import { instrument } from './storages.js'

const settle = (): void => undefined
const append = (bytes: number): Request => ({
  kind: 'append',
  records: { keys: [], values: [] },
  bytes,
  settle,
})
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

  it('takes everything queued when it fits (the default bound is 1 MiB)', () => {
    expect(MAX_COMMIT_BYTES).toBe(1 << 20)
    expect(groupLength([append(1 << 19), flush, append(1 << 19)])).toBe(3)
    expect(groupLength([append(1 << 19), append(1 << 19), append(1)])).toBe(2)
  })

  test.prop([fc.array(fc.oneof(fc.nat(300), fc.constant(-1)), { maxLength: 30 })])(
    "a group's appends stay within the bound unless one alone passes it, and no more fit",
    (sizes) => {
      const queue = sizes.map((s) => (s < 0 ? flush : append(s)))
      const length = groupLength(queue, 100)
      const taken = queue.slice(0, length).flatMap((r) => (r.kind === 'append' ? [r.bytes] : []))
      const total = taken.reduce((a, b) => a + b, 0)
      expect(total <= 100 || taken.length === 1).toBe(true)
      if (queue.length > 0) expect(length).toBeGreaterThan(0)
      const next = queue[length]
      if (next?.kind === 'append') expect(total + next.bytes).toBeGreaterThan(100)
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
})
