import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fc, test } from '@fast-check/vitest'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { openLog, type Log, type LogEntry } from '../../src/openLog.js'
import { makeMemoryStorage, openMemoryStorage } from '../../src/storage/memory.js'
import { runTypeScript, sourceEntry } from '../support/child.js'
import { code } from '../support/codes.js'
import { makeTempDir, removeDir } from '../support/tmpdir.js'
import { instrument, reopenableMemory } from './storages.js'

const text = (s: string): Uint8Array => new TextEncoder().encode(s)
const str = (b: Uint8Array): string => new TextDecoder().decode(b)
const collect = async <A>(it: AsyncIterable<A>): Promise<A[]> => {
  const out: A[] = []
  for await (const x of it) out.push(x)
  return out
}
const show = (entries: ReadonlyArray<LogEntry>): string[] =>
  entries.map((e) => `${e.sequence}:${str(e.key)}=${str(e.value)}`)
const tick = (ms = 10): Promise<void> => new Promise((r) => setTimeout(r, ms))

const cleanup: Array<() => Promise<void>> = []
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f()
})

const memoryLog = async (options: Record<string, unknown> = {}): Promise<Log> => {
  const log = await openLog({ storage: await openMemoryStorage(), ...options })
  cleanup.push(() => log.close())
  return log
}

const tempDir = async (): Promise<string> => {
  const dir = await makeTempDir('log')
  cleanup.push(() => removeDir(dir))
  return dir
}

describe('append', () => {
  it('assigns contiguous sequences in input order and reads them back', async () => {
    const log = await memoryLog()
    expect(
      await log.append([
        { key: 'orders', value: 'order-1' },
        { key: 'users', value: text('alice') },
      ]),
    ).toEqual({ startSequence: 0, count: 2 })
    expect(await log.append([{ key: 'orders', value: 'order-2' }])).toEqual({
      startSequence: 2,
      count: 1,
    })
    expect(show(await collect(log.scan()))).toEqual([
      '0:orders=order-1',
      '1:users=alice',
      '2:orders=order-2',
    ])
    expect(log.nextSequence()).toBe(3)
  })

  it('resolves an empty append at the next sequence and writes nothing', async () => {
    const storage = instrument(await openMemoryStorage())
    const log = await openLog({ storage })
    cleanup.push(() => log.close())
    const before = storage.writes.length
    expect(await log.append([])).toEqual({ startSequence: 0, count: 0 })
    expect(storage.writes.length).toBe(before)
  })

  it('rejects bad records with INVALID_ARGUMENT before anything is allocated', async () => {
    const log = await memoryLog({ maxKeyBytes: 8, maxValueBytes: 16 })
    const bad: unknown[] = [
      'not an array',
      [{ key: 1, value: 'v' }],
      [{ key: 'k', value: null }],
      [{ key: 'k' }],
      [{ key: '', value: 'v' }],
      [{ key: 'k', value: 'v', extra: 1 }],
      [{ key: '123456789', value: 'v' }],
      [{ key: 'k', value: 'x'.repeat(17) }],
      [{ key: 'k', value: 'fine' }, null],
    ]
    for (const records of bad) {
      expect(await code(log.append(records as never))).toBe('INVALID_ARGUMENT')
    }
    expect(log.nextSequence()).toBe(0)
    expect(await log.append([{ key: '12345678', value: 'x'.repeat(16) }])).toEqual({
      startSequence: 0,
      count: 1,
    })
  })

  it('names the offending field in the message', async () => {
    const log = await memoryLog({ maxKeyBytes: 4 })
    await expect(
      log.append([
        { key: 'k', value: 'v' },
        { key: 'toolong', value: 'v' },
      ]),
    ).rejects.toThrow(/records\[1\]\.key/)
  })

  it('refuses string keys and values that are not well-formed UTF-16, which would name another key or value', async () => {
    const log = await memoryLog()
    // Each encodes to the same bytes as 'x\uFFFD' would: three strings, one key.
    for (const [records, field] of [
      [[{ key: 'x\uD800', value: 'v' }], 'records[0].key'],
      [[{ key: '\uDC00y', value: 'v' }], 'records[0].key'],
      [
        [
          { key: 'k', value: 'v' },
          { key: 'k', value: 'v' },
          { key: 'x\uDBFF', value: 'v' },
        ],
        'records[2].key',
      ],
    ] as const) {
      await expect(log.append(records)).rejects.toMatchObject({
        code: 'INVALID_ARGUMENT',
        error: { field },
        message: expect.stringContaining('lone surrogate') as unknown,
      })
    }
    await expect(log.appendAt([{ sequence: 5, key: 'x\uD800', value: 'v' }])).rejects.toThrow(
      /^entries\[0\]\.key: is not well-formed UTF-16/,
    )
    expect(log.nextSequence()).toBe(0)
    // Reads refuse them too, rather than reading the key they would stand for.
    expect(await code(collect(log.scan({ key: 'x\uD800' })))).toBe('INVALID_ARGUMENT')
    expect(await code(log.count({ key: '\uDC00' }))).toBe('INVALID_ARGUMENT')
    expect(await code(collect(log.follow({ key: 'x\uD800' })))).toBe('INVALID_ARGUMENT')
    await expect(collect(log.keys({ prefix: 'x\uD800' }))).rejects.toThrow(
      'options.prefix: must be a Uint8Array or a well-formed string (no lone surrogate)',
    )
    // A value is refused the same way, rather than stored as U+FFFD.
    await expect(log.append([{ key: 'k', value: 'v\uD800' }])).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      error: { field: 'records[0].value' },
      message: expect.stringContaining('lone surrogate') as unknown,
    })
    await expect(log.appendAt([{ sequence: 5, key: 'k', value: '\uDC00' }])).rejects.toThrow(
      /^entries\[0\]\.value: is not well-formed UTF-16/,
    )
    expect(log.nextSequence()).toBe(0)
    // A surrogate pair is one code point; bytes are taken as they are.
    await log.append([
      { key: 'x\uD83D\uDE00', value: 'v\uD83D\uDE00' },
      { key: Uint8Array.of(0xed, 0xa0, 0x80), value: 'v' },
    ])
    expect(await log.count({ key: 'x\u{1F600}' })).toBe(1)
  })

  it('copies caller bytes: mutating them after append changes nothing stored', async () => {
    const log = await memoryLog()
    const value = text('before')
    const pending = log.append([{ key: 'k', value }])
    value[0] = 0x58
    await pending
    expect(show(await collect(log.scan({ key: 'k' })))).toEqual(['0:k=before'])
    // A Buffer's slice() would be a view: the copy must not share its memory.
    const buffer = Buffer.from('buffered')
    const writing = log.append([{ key: 'b', value: buffer }])
    buffer[0] = 0x58
    await writing
    expect(show(await collect(log.scan({ key: 'b' })))).toEqual(['1:b=buffered'])
  })
  // Records drawn from a few caller arrays and strings, arrays repeated in and out of a row:
  // each array is copied once per row of records that give it, all into one buffer per append.
  const arbBytes = fc.uint8Array({ minLength: 1, maxLength: 6 })
  const arbRecords = fc
    .record({
      keys: fc.array(arbBytes, { minLength: 1, maxLength: 3 }),
      values: fc.array(fc.uint8Array({ maxLength: 6 }), { minLength: 1, maxLength: 3 }),
    })
    .chain(({ keys, values }) =>
      fc.array(
        fc.record({
          key: fc.oneof(fc.constantFrom(...keys), fc.constantFrom('s', 't')),
          value: fc.oneof(fc.constantFrom(...values), fc.constant('v')),
        }),
        { minLength: 1, maxLength: 12 },
      ),
    )

  test.prop([arbRecords])(
    'stores and tails each record as given, whatever the caller does to its arrays after append',
    async (records) => {
      const log = await openLog({ storage: await openMemoryStorage() })
      try {
        const bytes = (b: string | Uint8Array): string =>
          typeof b === 'string' ? b : Buffer.from(b).toString('hex')
        const expected = records.map((r, i) => `${i + 1}:${bytes(r.key)}=${bytes(r.value)}`)
        const follower = log.follow({ from: 1 })[Symbol.asyncIterator]()
        // The first append is in flight while the second waits in the queue with the arrays.
        const first = log.append([{ key: 'first', value: 'x' }])
        const second = log.append(records)
        for (const r of records) {
          if (typeof r.key !== 'string') r.key.fill(0x58)
          if (typeof r.value !== 'string') r.value.fill(0x58)
        }
        await Promise.all([first, second])
        const asGiven = (e: LogEntry, i: number): string => {
          const r = records[i]
          const key = typeof r?.key === 'string' ? str(e.key) : Buffer.from(e.key).toString('hex')
          const value =
            typeof r?.value === 'string' ? str(e.value) : Buffer.from(e.value).toString('hex')
          return `${e.sequence}:${key}=${value}`
        }
        const stored = await collect(log.scan({ from: 1 }))
        expect(stored.map(asGiven)).toEqual(expected)
        const tailed: LogEntry[] = []
        for (let i = 0; i < records.length; i++) {
          const next = await follower.next()
          if (next.done === true) break
          tailed.push(next.value)
        }
        await follower.return?.()
        expect(tailed.map(asGiven)).toEqual(expected)
      } finally {
        await log.close()
      }
    },
  )
})

describe('group commit', () => {
  it('commits many concurrent sync appends in far fewer batches, each range contiguous', async () => {
    const storage = instrument(await openMemoryStorage())
    storage.writeDelayMs = 5
    const log = await openLog({ storage, durability: 'sync' })
    cleanup.push(() => log.close())
    const before = storage.writes.length
    const n = 200
    const results = await Promise.all(
      Array.from({ length: n }, (_, i) =>
        log.append([
          { key: `k${i % 7}`, value: `a${i}` },
          { key: `k${i % 7}`, value: `b${i}` },
        ]),
      ),
    )
    const batches = storage.writes.slice(before)
    expect(batches.length).toBeLessThan(n / 10)
    expect(batches.every((w) => w.options.sync)).toBe(true)
    // Ranges are disjoint, each contiguous, and together cover [0, 2n).
    const starts = results.map((r) => r.startSequence).sort((a, b) => a - b)
    expect(starts).toEqual(Array.from({ length: n }, (_, i) => i * 2))
    for (const [i, r] of results.entries()) {
      expect(r.count).toBe(2)
      const pair = await collect(log.scan({ from: r.startSequence, to: r.startSequence + 2 }))
      expect(pair.map((e) => str(e.value))).toEqual([`a${i}`, `b${i}`])
    }
  })
})

describe('durability', () => {
  it('sync mode acknowledges only after a synced write; durableSequence follows', async () => {
    const storage = instrument(await openMemoryStorage())
    const log = await openLog({ storage })
    cleanup.push(() => log.close())
    await log.append([{ key: 'k', value: 'v' }])
    expect(storage.writes.at(-1)?.options.sync).toBe(true)
    expect(log.durableSequence()).toBe(log.nextSequence())
  })

  it('buffered mode writes without sync; flush syncs and advances the watermark', async () => {
    const storage = instrument(await openMemoryStorage())
    const log = await openLog({ storage, durability: 'buffered' })
    cleanup.push(() => log.close())
    // The first commit carries the first SeqBlock, and a batch with a block is always synced.
    await log.append([{ key: 'k', value: 'first' }])
    expect(storage.writes.at(-1)?.options.sync).toBe(true)
    const start = log.durableSequence()
    expect(start).toBe(1)
    await log.append([{ key: 'k', value: 'v' }])
    expect(storage.writes.at(-1)?.options.sync).toBe(false)
    expect(log.durableSequence()).toBe(start)
    expect(show(await collect(log.scan({ key: 'k' })))).toEqual(['0:k=first', '1:k=v'])
    expect(show(await collect(log.scan({ key: 'k', visibility: 'durable' })))).toEqual([
      '0:k=first',
    ])
    await log.flush()
    expect(storage.writes.at(-1)?.options.sync).toBe(true)
    expect(log.durableSequence()).toBe(log.nextSequence())
    expect(show(await collect(log.scan({ key: 'k', visibility: 'durable' })))).toEqual([
      '0:k=first',
      '1:k=v',
    ])
    // A flush with nothing new to sync writes nothing.
    const writes = storage.writes.length
    await log.flush()
    expect(storage.writes.length).toBe(writes)
  })

  it('syncs every batch that carries a new SeqBlock, in buffered mode too', async () => {
    const storage = instrument(await openMemoryStorage())
    const log = await openLog({ storage, durability: 'buffered', blockSize: 3 })
    cleanup.push(() => log.close())
    const opened = storage.writes.length
    for (let i = 0; i < 7; i++) await log.append([{ key: 'k', value: `${i}` }])
    // Blocks start at 0, 3 and 6: those three commits synced, the other four did not.
    expect(storage.writes.slice(opened).map((w) => w.options.sync)).toEqual([
      true,
      false,
      false,
      true,
      false,
      false,
      true,
    ])
  })

  it('buffered mode with syncIntervalMs syncs in the background', async () => {
    const log = await memoryLog({ durability: 'buffered', syncIntervalMs: 5 })
    await log.append([{ key: 'k', value: 'v' }])
    for (let i = 0; i < 100 && log.durableSequence() < log.nextSequence(); i++) await tick(5)
    expect(log.durableSequence()).toBe(log.nextSequence())
  })
})

describe('failed writes', () => {
  it('rejects the batch with the cause, then refuses appends with WRITER_FAILED; reads work', async () => {
    const storage = instrument(await openMemoryStorage())
    const log = await openLog({ storage, blockSize: 4 })
    cleanup.push(() => log.close())
    await log.append([{ key: 'k', value: 'a' }])
    storage.failWrites = true
    expect(await code(log.append([{ key: 'k', value: 'b' }]))).toBe('IO_ERROR')
    expect(await code(log.append([{ key: 'k', value: 'c' }]))).toBe('WRITER_FAILED')
    expect(await code(log.flush())).toBe('WRITER_FAILED')
    expect(show(await collect(log.scan({ key: 'k' })))).toEqual(['0:k=a'])
    expect(await log.count()).toBe(1)
  })

  it('never lets a number from an unpersisted block escape, even after reopen', async () => {
    const memory = reopenableMemory()
    const storage = instrument(memory.open())
    const log = await openLog({ storage, blockSize: 2 })
    await log.append([
      { key: 'k', value: 'a' },
      { key: 'k', value: 'b' },
    ]) // block [0, 2)
    storage.failWrites = true
    // This commit needs block [2, 4): its write fails, so neither it nor its numbers persist.
    expect(await code(log.append([{ key: 'k', value: 'c' }]))).toBe('IO_ERROR')
    expect(log.nextSequence()).toBe(2)
    expect(await code(log.append([{ key: 'k', value: 'd' }]))).toBe('WRITER_FAILED')
    await log.close()
    const again = await openLog({ storage: memory.open(), blockSize: 2 })
    cleanup.push(() => again.close())
    expect(again.nextSequence()).toBe(2)
    expect(await again.append([{ key: 'k', value: 'e' }])).toEqual({ startSequence: 2, count: 1 })
    expect(show(await collect(again.scan()))).toEqual(['0:k=a', '1:k=b', '2:k=e'])
  })

  it('rejects every queued append with WRITER_FAILED when the write before them fails', async () => {
    const storage = instrument(await openMemoryStorage())
    const log = await openLog({ storage })
    cleanup.push(() => log.close())
    storage.failWrites = true
    storage.writeDelayMs = 10
    const first = log.append([{ key: 'k', value: '1' }])
    const queued = [log.append([{ key: 'k', value: '2' }]), log.append([{ key: 'k', value: '3' }])]
    expect(await code(first)).toBe('IO_ERROR')
    const codes = await Promise.all(queued.map(code))
    // The queued ones were either in the failing group (the cause) or refused afterwards.
    for (const c of codes) expect(['IO_ERROR', 'WRITER_FAILED']).toContain(c)
    expect(await log.count()).toBe(0)
  })
})

describe('backpressure', () => {
  it('makes append wait for room, and rejects with BACKPRESSURE after appendTimeoutMs', async () => {
    const storage = instrument(await openMemoryStorage())
    storage.writeDelayMs = 60
    const log = await openLog({
      storage,
      maxPendingBytes: 200,
      appendTimeoutMs: 20,
      durability: 'buffered',
    })
    cleanup.push(() => log.close())
    const big = 'x'.repeat(150)
    const first = log.append([{ key: 'k', value: big }])
    const second = log.append([{ key: 'k', value: big }])
    expect(await code(second)).toBe('BACKPRESSURE')
    expect(await first).toEqual({ startSequence: 0, count: 1 })
    // The refused records were never written.
    expect(await log.count()).toBe(1)
  })

  it('admits an append that fills maxPendingBytes exactly, and refuses one byte more', async () => {
    // Each record counts key + value + 32 bytes: 1 + 100 + 32 = 133.
    const storage = instrument(await openMemoryStorage())
    storage.writeDelayMs = 60
    const log = await openLog({
      storage,
      maxPendingBytes: 266,
      appendTimeoutMs: 20,
      durability: 'buffered',
    })
    cleanup.push(() => log.close())
    const value = 'x'.repeat(100)
    const first = log.append([{ key: 'k', value }])
    const exact = log.append([{ key: 'k', value }])
    const over = log.append([{ key: 'k', value: 'x' }])
    expect(await code(over)).toBe('BACKPRESSURE')
    expect(await first).toEqual({ startSequence: 0, count: 1 })
    expect(await exact).toEqual({ startSequence: 1, count: 1 })
  })

  it('admits every waiting append that fits when room frees up, one filling it exactly', async () => {
    // Each record counts key + value + 32 bytes: 1 + 100 + 32 = 133.
    const storage = instrument(await openMemoryStorage())
    const log = await openLog({ storage, maxPendingBytes: 266 })
    cleanup.push(() => log.close())
    const value = 'x'.repeat(100)
    const writes = storage.writes.length
    // The write is held back a little, so that the next two wait for room while it is in flight.
    storage.writeDelayMs = 5
    const full = log.append([
      { key: 'k', value },
      { key: 'k', value },
    ])
    const second = log.append([{ key: 'k', value }])
    // Beside the second, this one fills maxPendingBytes exactly.
    const third = log.append([{ key: 'k', value }])
    expect(await Promise.all([full, second, third])).toEqual([
      { startSequence: 0, count: 2 },
      { startSequence: 2, count: 1 },
      { startSequence: 3, count: 1 },
    ])
    // Both were admitted when the first write released its bytes: one commit took them.
    expect(storage.writes.length - writes).toBe(2)
  })

  it('admits the append behind one that gave up waiting, if it fits beside what is pending', async () => {
    // Each record counts key + value + 32 bytes: 1 + 100 + 32 = 133.
    const storage = instrument(await openMemoryStorage())
    storage.writeDelayMs = 60
    const log = await openLog({ storage, maxPendingBytes: 266, appendTimeoutMs: 20 })
    cleanup.push(() => log.close())
    const value = 'x'.repeat(100)
    const first = log.append([{ key: 'k', value }])
    const big = log.append([
      { key: 'k', value },
      { key: 'k', value },
    ])
    // It waits behind the big one; once that one gives up, it fills maxPendingBytes exactly
    // beside the first, which is still being written.
    const behind = log.append([{ key: 'k', value }])
    expect(await code(big)).toBe('BACKPRESSURE')
    expect(await first).toEqual({ startSequence: 0, count: 1 })
    expect(await behind).toEqual({ startSequence: 1, count: 1 })
  })

  it('admits waiting appends in order as room frees up', async () => {
    const storage = instrument(await openMemoryStorage())
    storage.writeDelayMs = 5
    const log = await openLog({ storage, maxPendingBytes: 300 })
    cleanup.push(() => log.close())
    const value = 'y'.repeat(100)
    const results = await Promise.all(
      Array.from({ length: 20 }, () => log.append([{ key: 'k', value }])),
    )
    expect(results.map((r) => r.startSequence)).toEqual(Array.from({ length: 20 }, (_, i) => i))
  })
})

describe('reopen', () => {
  it('resumes above every persisted sequence after close (RocksDB)', async () => {
    const dir = await tempDir()
    const path = join(dir, 'db')
    const log = await openLog({ path, blockSize: 16 })
    await log.append([
      { key: 'a', value: '1' },
      { key: 'b', value: '2' },
    ])
    await log.close()
    const again = await openLog({ path, blockSize: 16 })
    cleanup.push(() => again.close())
    expect(again.nextSequence()).toBe(16)
    expect(await again.append([{ key: 'a', value: '3' }])).toEqual({ startSequence: 16, count: 1 })
    expect(show(await collect(again.scan()))).toEqual(['0:a=1', '1:b=2', '16:a=3'])
  })

  it('resumes above every persisted sequence after a process exits without closing', async () => {
    const dir = await tempDir()
    const path = join(dir, 'db')
    const script = join(dir, 'writer.mts')
    await writeFile(
      script,
      `import { openLog } from ${JSON.stringify(sourceEntry)}\n` +
        `const log = await openLog({ path: ${JSON.stringify(path)}, blockSize: 8 })\n` +
        `const r = await log.append(Array.from({ length: 11 }, (_, i) => ({ key: 'k', value: 'v' + i })))\n` +
        `console.log(JSON.stringify(r))\n` +
        `process.exit(0)\n`,
    )
    const child = runTypeScript(script)
    expect(child.stderr).toBe('')
    expect(JSON.parse(child.stdout)).toEqual({ startSequence: 0, count: 11 })
    const log = await openLog({ path, blockSize: 8 })
    cleanup.push(() => log.close())
    expect(await log.count()).toBe(11)
    expect(log.nextSequence()).toBe(11)
    const next = await log.append([{ key: 'k', value: 'after' }])
    expect(next.startSequence).toBeGreaterThanOrEqual(11)
  })

  it('refuses a second open of the same directory with LOCKED', async () => {
    const dir = await tempDir()
    const log = await openLog({ path: join(dir, 'db') })
    cleanup.push(() => log.close())
    expect(await code(openLog({ path: join(dir, 'db') }))).toBe('LOCKED')
  })

  it('refuses a second log on the same storage object with LOCKED', async () => {
    const storage = await openMemoryStorage()
    const log = await openLog({ storage })
    cleanup.push(() => log.close())
    expect(await code(openLog({ storage }))).toBe('LOCKED')
  })
})

describe('options', () => {
  it.each([
    [{}, 'options.path'],
    [{ path: '/tmp/x', storage: makeMemoryStorage() }, 'options.path'],
    [{ storage: makeMemoryStorage(), durability: 'eventually' }, 'options.durability'],
    [{ storage: makeMemoryStorage(), blockSize: 0 }, 'options.blockSize'],
    [{ storage: makeMemoryStorage(), maxPendingBytes: 1.5 }, 'options.maxPendingBytes'],
    [{ storage: makeMemoryStorage(), colour: 'blue' }, 'options.colour'],
    [{ storage: {} }, 'options.storage'],
  ])('rejects %j naming %s', async (options, field) => {
    await expect(openLog(options as never)).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: expect.stringContaining(field) as unknown,
    })
  })

  it('rejects bad scan, count, follow and keys options', async () => {
    const log = await memoryLog()
    expect(await code(collect(log.scan({ from: -1 })))).toBe('INVALID_ARGUMENT')
    expect(await code(collect(log.scan({ limit: 1.5 })))).toBe('INVALID_ARGUMENT')
    expect(await code(collect(log.scan({ sideways: true } as never)))).toBe('INVALID_ARGUMENT')
    expect(await code(log.count({ key: 5 } as never))).toBe('INVALID_ARGUMENT')
    expect(await code(collect(log.follow({ signal: 'stop' } as never)))).toBe('INVALID_ARGUMENT')
    expect(await code(collect(log.keys({ prefix: 1 } as never)))).toBe('INVALID_ARGUMENT')
    expect(await code(log.truncateBefore(-1))).toBe('INVALID_ARGUMENT')
  })
})

describe('reads', () => {
  const seed = async (log: Log): Promise<void> => {
    await log.append([
      { key: 'a', value: '0' },
      { key: 'b', value: '1' },
      { key: 'a', value: '2' },
    ])
    await log.append([
      { key: 'ab', value: '3' },
      { key: 'a', value: '4' },
    ])
    await log.append(Array.from({ length: 20 }, (_, i) => ({ key: 'a', value: String(5 + i) })))
  }

  it('scans one key by sequence with from, to, limit and reverse', async () => {
    const log = await memoryLog()
    await seed(log)
    const seqs = async (o: Parameters<Log['scan']>[0]) =>
      (await collect(log.scan(o))).map((e) => e.sequence)
    expect(await seqs({ key: 'a', to: 6 })).toEqual([0, 2, 4, 5])
    expect(await seqs({ key: 'a', from: 4, limit: 3 })).toEqual([4, 5, 6])
    expect(await seqs({ key: 'a', from: 3, to: 8, reverse: true })).toEqual([7, 6, 5, 4])
    expect(await seqs({ key: 'b' })).toEqual([1])
    expect(await seqs({ key: text('ab') })).toEqual([3])
    expect(await seqs({ key: 'missing' })).toEqual([])
    expect(await seqs({ key: 'a', from: 10, to: 10 })).toEqual([])
  })

  it('takes after (exclusive) in place of from (inclusive) in scan, count and follow', async () => {
    const log = await memoryLog()
    await log.append([
      { key: 'a', value: '0' },
      { key: 'b', value: '1' },
      { key: 'a', value: '2' },
    ])
    expect(show(await collect(log.scan({ after: 0 })))).toEqual(['1:b=1', '2:a=2'])
    expect(show(await collect(log.scan({ key: 'a', after: 0, reverse: true })))).toEqual(['2:a=2'])
    expect(await log.count({ after: 1 })).toBe(1)
    const stop = new AbortController()
    const tail: LogEntry[] = []
    for await (const entry of log.follow({ after: 1, signal: stop.signal })) {
      tail.push(entry)
      stop.abort()
    }
    expect(show(tail)).toEqual(['2:a=2'])
    await expect(collect(log.scan({ from: 1, after: 0 }))).rejects.toThrow(
      'options.after: give from (inclusive) or after (exclusive), not both',
    )
  })

  it('scans all keys in global order with from, to, limit and reverse', async () => {
    const log = await memoryLog()
    await seed(log)
    const seqs = async (o: Parameters<Log['scan']>[0]) =>
      (await collect(log.scan(o))).map((e) => e.sequence)
    expect(await seqs({})).toEqual(Array.from({ length: 25 }, (_, i) => i))
    expect(await seqs({ from: 1, to: 4 })).toEqual([1, 2, 3])
    expect(await seqs({ from: 4, limit: 2 })).toEqual([4, 5])
    expect(await seqs({ from: 2, to: 7, reverse: true })).toEqual([6, 5, 4, 3, 2])
    expect(await seqs({ reverse: true, limit: 3 })).toEqual([24, 23, 22])
    expect(await seqs({ from: 100 })).toEqual([])
    expect(show(await collect(log.scan({ from: 2, to: 4 })))).toEqual(['2:a=2', '3:ab=3'])
  })

  it('counts exactly and lists distinct keys, with a prefix', async () => {
    const log = await memoryLog()
    await seed(log)
    expect(await log.count()).toBe(25)
    expect(await log.count({ key: 'a' })).toBe(23)
    expect(await log.count({ key: 'a', from: 5, to: 10 })).toBe(5)
    expect(await log.count({ from: 3, to: 6 })).toBe(3)
    expect(await log.count({ key: 'zzz' })).toBe(0)
    expect((await collect(log.keys())).map(str)).toEqual(['a', 'ab', 'b'])
    expect((await collect(log.keys({ prefix: 'a' }))).map(str)).toEqual(['a', 'ab'])
    expect((await collect(log.keys({ prefix: 'c' }))).map(str)).toEqual([])
  })

  it('lets go of every storage iterator when a caller stops listing keys early', async () => {
    const storage = await openMemoryStorage()
    const log = await openLog({ storage })
    cleanup.push(() => log.close())
    await seed(log)
    for await (const key of log.keys()) {
      expect(str(key)).toBe('a')
      break
    }
    expect(storage.openIterators?.()).toBe(0)
  })

  it('handles binary keys with 0x00 and 0xFF bytes', async () => {
    const log = await memoryLog()
    const keys = [Uint8Array.of(0), Uint8Array.of(0, 0), Uint8Array.of(1), Uint8Array.of(0xff)]
    for (const key of keys) await log.append([{ key, value: 'v' }])
    expect((await collect(log.keys())).map((k) => Buffer.from(k).toString('hex'))).toEqual([
      '00',
      '0000',
      '01',
      'ff',
    ])
    expect((await collect(log.scan({ key: Uint8Array.of(0) }))).map((e) => e.sequence)).toEqual([0])
  })

  it('streams a large key scan without reading it all first', async () => {
    const log = await memoryLog()
    await log.append(Array.from({ length: 5000 }, (_, i) => ({ key: 'big', value: String(i) })))
    let seen = 0
    for await (const entry of log.scan({ key: 'big' })) {
      expect(entry.sequence).toBe(seen++)
      if (seen === 10) break
    }
    expect(seen).toBe(10)
  })
})

describe('follow', () => {
  it('yields existing entries, then new ones as they commit, until aborted', async () => {
    const log = await memoryLog()
    await log.append([
      { key: 'k', value: 'old' },
      { key: 'other', value: 'x' },
    ])
    const controller = new AbortController()
    const seen: string[] = []
    const done = (async () => {
      for await (const e of log.follow({ key: 'k', from: 0, signal: controller.signal })) {
        seen.push(str(e.value))
        if (seen.length === 3) controller.abort()
      }
    })()
    await tick()
    await log.append([
      { key: 'other', value: 'y' },
      { key: 'k', value: 'new-1' },
    ])
    await log.append([{ key: 'k', value: 'new-2' }])
    await done
    expect(seen).toEqual(['old', 'new-1', 'new-2'])
  })

  it('starts at the current end when no from is given, across all keys', async () => {
    const log = await memoryLog()
    await log.append([{ key: 'a', value: 'before' }])
    const controller = new AbortController()
    const iterator = log.follow({ signal: controller.signal })
    const next = iterator.next()
    await log.append([{ key: 'b', value: 'after' }])
    const first = await next
    expect(first.done).toBe(false)
    expect(show([first.value as LogEntry])).toEqual(['1:b=after'])
    controller.abort()
    expect((await iterator.next()).done).toBe(true)
  })

  it('is woken by commits, not by a timer', async () => {
    const log = await memoryLog()
    const controller = new AbortController()
    const iterator = log.follow({ key: 'k', signal: controller.signal })
    const next = iterator.next()
    await tick()
    // With timers frozen, a polling follower could not notice the commit; this one is woken.
    vi.useFakeTimers({ toFake: ['setTimeout', 'setInterval', 'setImmediate'] })
    try {
      await log.append([{ key: 'k', value: 'v' }])
      const result = await next
      expect(result.done).toBe(false)
    } finally {
      vi.useRealTimers()
      controller.abort()
    }
  })

  it('with durable visibility yields only entries below the durable watermark', async () => {
    const log = await memoryLog({ durability: 'buffered' })
    await log.append([{ key: 'first', value: 'synced with the first block' }])
    const controller = new AbortController()
    const seen: number[] = []
    const done = (async () => {
      for await (const e of log.follow({
        from: 1,
        visibility: 'durable',
        signal: controller.signal,
      })) {
        expect(e.sequence).toBeLessThan(log.durableSequence())
        seen.push(e.sequence)
        if (seen.length === 2) controller.abort()
      }
    })()
    await log.append([
      { key: 'k', value: '1' },
      { key: 'k', value: '2' },
    ])
    await tick()
    expect(seen).toEqual([])
    await log.flush()
    await done
    expect(seen).toEqual([1, 2])
  })

  it('lets a slow follower catch up from storage with nothing lost', async () => {
    const log = await memoryLog()
    const controller = new AbortController()
    const iterator = log.follow({ from: 0, signal: controller.signal })
    for (let i = 0; i < 50; i++) {
      await log.append(Array.from({ length: 100 }, (_, j) => ({ key: `k${j % 3}`, value: `${i}` })))
    }
    let expected = 0
    for await (const e of { [Symbol.asyncIterator]: () => iterator }) {
      expect(e.sequence).toBe(expected++)
      if (expected === 5000) break
    }
    expect(expected).toBe(5000)
    controller.abort()
  })

  it('ends cleanly when the log closes', async () => {
    const log = await openLog({ storage: await openMemoryStorage() })
    const iterator = log.follow({ key: 'k' })
    const next = iterator.next()
    await tick()
    await log.close()
    expect((await next).done).toBe(true)
  })
})

describe('truncateBefore', () => {
  it('removes entries below a sequence atomically; sequences never go back', async () => {
    const dir = await tempDir()
    const path = join(dir, 'db')
    const log = await openLog({ path, blockSize: 4 })
    await log.append([
      { key: 'a', value: '0' },
      { key: 'b', value: '1' },
      { key: 'a', value: '2' },
    ])
    await log.append([
      { key: 'b', value: '3' },
      { key: 'a', value: '4' },
    ])
    await log.truncateBefore(2)
    expect(show(await collect(log.scan()))).toEqual(['2:a=2', '3:b=3', '4:a=4'])
    expect((await collect(log.scan({ key: 'a' }))).map((e) => e.sequence)).toEqual([2, 4])
    expect(await log.count()).toBe(3)
    expect(await log.count({ key: 'b' })).toBe(1)
    await log.truncateBefore(4)
    expect((await collect(log.keys())).map(str)).toEqual(['a'])
    // Truncating below the current point changes nothing.
    await log.truncateBefore(1)
    expect(await log.count()).toBe(1)
    const next = log.nextSequence()
    await log.close()
    const again = await openLog({ path, blockSize: 4 })
    cleanup.push(() => again.close())
    expect(show(await collect(again.scan()))).toEqual(['4:a=4'])
    expect(again.nextSequence()).toBeGreaterThanOrEqual(next)
  })

  it('never hides appends that come after it, even when asked to truncate past the end', async () => {
    const log = await memoryLog()
    await log.append([{ key: 'a', value: '0' }])
    await log.truncateBefore(1000)
    expect(await log.count()).toBe(0)
    const r = await log.append([{ key: 'a', value: 'new' }])
    expect(show(await collect(log.scan()))).toEqual([`${r.startSequence}:a=new`])
  })
})

describe('close', () => {
  it('waits for queued appends, syncs, and is idempotent; then every call is CLOSED', async () => {
    const storage = instrument(await openMemoryStorage())
    storage.writeDelayMs = 5
    const log = await openLog({ storage, durability: 'buffered' })
    const appends = Array.from({ length: 10 }, (_, i) => log.append([{ key: 'k', value: `${i}` }]))
    await Promise.all([log.close(), log.close()])
    expect((await Promise.all(appends)).length).toBe(10)
    expect(storage.writes.at(-1)?.options.sync).toBe(true)
    await log.close()
    expect(await code(log.append([{ key: 'k', value: 'late' }]))).toBe('CLOSED')
    expect(await code(log.flush())).toBe('CLOSED')
    expect(await code(log.count())).toBe('CLOSED')
    expect(await code(collect(log.scan()))).toBe('CLOSED')
    expect(await code(collect(log.follow()))).toBe('CLOSED')
    expect(await code(log.truncateBefore(1))).toBe('CLOSED')
  })

  it('ends open scans cleanly (RocksDB) and releases the directory', async () => {
    const dir = await tempDir()
    const path = join(dir, 'db')
    const log = await openLog({ path })
    await log.append(Array.from({ length: 3000 }, (_, i) => ({ key: 'k', value: `${i}` })))
    const scan = log.scan({ key: 'k' })
    expect((await scan.next()).done).toBe(false)
    await log.close()
    let rest = 0
    for await (const _ of { [Symbol.asyncIterator]: () => scan }) rest++
    expect(rest).toBeLessThan(3000)
    const again = await openLog({ path })
    cleanup.push(() => again.close())
    expect(await again.count({ key: 'k' })).toBe(3000)
  })
})

describe('appendAt', () => {
  it('writes records at the given sequences, gaps included, and the allocator goes on after', async () => {
    const memory = reopenableMemory()
    const log = await openLog({ storage: memory.open(), blockSize: 4 })
    await log.appendAt([
      { sequence: 2, key: 'a', value: 'x' },
      { sequence: 3, key: 'b', value: 'y' },
      { sequence: 9, key: 'a', value: 'z' },
    ])
    expect(log.nextSequence()).toBe(10)
    expect(show(await collect(log.scan()))).toEqual(['2:a=x', '3:b=y', '9:a=z'])
    expect(show(await collect(log.scan({ key: 'a' })))).toEqual(['2:a=x', '9:a=z'])
    expect(await log.count()).toBe(3)
    expect((await log.append([{ key: 'c', value: 'w' }])).startSequence).toBe(10)
    await log.close()
    // The stored block covers every placed sequence: a reopened log resumes above them.
    const reopened = await openLog({ storage: memory.open(), blockSize: 4 })
    cleanup.push(() => reopened.close())
    expect(reopened.nextSequence()).toBeGreaterThan(10)
    expect(show(await collect(reopened.scan()))).toEqual(['2:a=x', '3:b=y', '9:a=z', '10:c=w'])
  })

  it('refuses sequences below the next one or out of order, and writes nothing', async () => {
    const log = await memoryLog()
    await log.append([{ key: 'a', value: '0' }])
    expect(await code(log.appendAt([{ sequence: 0, key: 'a', value: 'x' }]))).toBe(
      'INVALID_ARGUMENT',
    )
    expect(
      await code(
        log.appendAt([
          { sequence: 5, key: 'a', value: 'x' },
          { sequence: 4, key: 'a', value: 'y' },
        ]),
      ),
    ).toBe('INVALID_ARGUMENT')
    expect(await code(log.appendAt([{ sequence: -1, key: 'a', value: 'x' }]))).toBe(
      'INVALID_ARGUMENT',
    )
    await expect(log.appendAt([{ sequence: 9, key: '', value: 'x' }])).rejects.toThrow(
      'entries[0].key: must not be empty',
    )
    expect(await log.count()).toBe(1)
    expect(log.nextSequence()).toBe(1)
  })

  it('refuses a sequence that would leave the log unable to append, and appends after the highest it takes', async () => {
    const max = Number.MAX_SAFE_INTEGER
    const memory = reopenableMemory()
    const log = await openLog({ storage: memory.open() })
    for (const sequence of [max, max - 1]) {
      await expect(log.appendAt([{ sequence, key: 'a', value: 'x' }])).rejects.toMatchObject({
        code: 'INVALID_ARGUMENT',
        message: `entries[0].sequence: is ${sequence}; at most ${max - 2} (Number.MAX_SAFE_INTEGER − 2), so that the log can still append after it`,
      })
    }
    expect(log.nextSequence()).toBe(0)
    await log.appendAt([{ sequence: max - 2, key: 'a', value: 'x' }])
    await log.close()
    // After a restart the log resumes at the end of its stored block: still a number it can use.
    const reopened = await openLog({ storage: memory.open() })
    cleanup.push(() => reopened.close())
    expect(await reopened.append([{ key: 'a', value: 'y' }])).toEqual({
      startSequence: max - 1,
      count: 1,
    })
    expect(await code(reopened.append([{ key: 'a', value: 'z' }]))).toBe('SEQUENCE_OVERFLOW')
  })
})
