// Logs opened to read only: every read works, every write is READ_ONLY with nothing written, a
// directory is read without the writer's lock, and a reader never gets in its writer's way.
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { openLog, type Log } from '../../src/openLog.js'
import * as E from 'fp-ts/lib/Either.js'
import { openMemoryStorage } from '../../src/storage/memory.js'
import { openRocksStorage } from '../../src/storage/rocksdb.js'
import { fingerprint } from '../support/snapshot.js'
import { code } from '../support/codes.js'
import { makeTempDir, removeDir } from '../support/tmpdir.js'
import { instrument, interrupting, reopenableMemory, watchable } from './storages.js'

let dir = ''
beforeEach(async () => {
  dir = await makeTempDir('read-only')
})
afterEach(() => removeDir(dir))

const shown = async (log: Log, options = {}): Promise<string[]> => {
  const out: string[] = []
  for await (const e of log.scan(options)) {
    out.push(
      `${e.sequence}:${new TextDecoder().decode(e.key)}=${new TextDecoder().decode(e.value)}`,
    )
  }
  return out
}

describe('openLog({ readOnly: true })', () => {
  it('reads the log and refuses every write with READ_ONLY, writing nothing', async () => {
    const storage = instrument(await openMemoryStorage())
    const writer = await openLog({ storage })
    await writer.append([
      { key: 'a', value: '1' },
      { key: 'b', value: '2' },
    ])
    await writer.truncateBefore(1)
    const writes = storage.writes.length
    const reader = await openLog({ storage, readOnly: true })
    expect(await shown(reader)).toEqual(['1:b=2'])
    expect(await reader.count({ key: 'b' })).toBe(1)
    const keys: string[] = []
    for await (const k of reader.keys()) keys.push(new TextDecoder().decode(k))
    expect(keys).toEqual(['b'])
    expect(reader.head()).toEqual(writer.head())
    expect(reader.nextSequence()).toBe(writer.nextSequence())
    expect(reader.durableSequence()).toBe(writer.nextSequence())
    expect(await code(reader.append([{ key: 'a', value: 'x' }]))).toBe('READ_ONLY')
    expect(await code(reader.append([]))).toBe('READ_ONLY')
    expect(await code(reader.appendAt([{ sequence: 100, key: 'a', value: 'x' }]))).toBe('READ_ONLY')
    expect(await code(reader.flush())).toBe('READ_ONLY')
    expect(await code(reader.truncateBefore(2))).toBe('READ_ONLY')
    // Bad input is still named as such.
    expect(await code(reader.append('nope' as never))).toBe('INVALID_ARGUMENT')
    expect(storage.writes.length).toBe(writes)
    // Closing the reader leaves the writer's store open.
    await reader.close()
    await writer.append([{ key: 'c', value: '3' }])
    expect(await shown(writer)).toEqual(['1:b=2', '2:c=3'])
    await writer.close()
  })

  it('stands where its writer does after the writer cut the log at its own nextSequence', async () => {
    const memory = reopenableMemory()
    const before = await openLog({ storage: memory.open() })
    await before.append([
      { key: 'a', value: '1' },
      { key: 'b', value: '2' },
    ])
    await before.close()
    // Reopened, the writer hands out numbers from a new block: its next sequence is past the
    // last commit's end, and a cut there leaves no entry and no commit.
    const writer = await openLog({ storage: memory.open() })
    expect(writer.nextSequence()).toBeGreaterThan(2)
    await writer.truncateBefore(writer.nextSequence())
    const reader = await openLog({ storage: memory.open(), readOnly: true })
    expect(await shown(reader)).toEqual([])
    expect(reader.nextSequence()).toBe(writer.nextSequence())
    expect(reader.durableSequence()).toBe(writer.nextSequence())
    expect(reader.head()).toEqual(writer.head())
    await reader.close()
    await writer.close()
  })

  it('follows what is there, then ends when the reader closes', async () => {
    const storage = await openMemoryStorage()
    const writer = await openLog({ storage })
    await writer.append([{ key: 'a', value: '1' }])
    const reader = await openLog({ storage, readOnly: true })
    const seen: number[] = []
    const following = (async () => {
      for await (const e of reader.follow({ from: 0 })) seen.push(e.sequence)
    })()
    while (seen.length === 0) await new Promise((r) => setTimeout(r, 5))
    await reader.close()
    await following
    expect(seen).toEqual([0])
    await writer.close()
  })

  it('reads its store again when told of a change while it reads it: no commit is missed', async () => {
    const inner = await openMemoryStorage()
    const writer = await openLog({ storage: inner })
    await writer.append([{ key: 'a', value: '0' }])
    const storage = interrupting(watchable(inner))
    const reader = await openLog({ storage, readOnly: true })
    // Told of a change, the reader reads its store; a commit lands, and is told of, meanwhile.
    const landed = new Promise<void>((resolve) =>
      storage.duringNextStep(async () => {
        await writer.append([{ key: 'a', value: '1' }])
        storage.notify()
        resolve()
      }),
    )
    storage.notify()
    await landed
    // Durable reads of a reader stop at the end it last read.
    const stop = new AbortController()
    const seen: number[] = []
    for await (const e of reader.follow({ from: 0, visibility: 'durable', signal: stop.signal })) {
      seen.push(e.sequence)
      if (seen.length === 2) stop.abort()
    }
    expect(storage.armed()).toBe(false)
    expect(seen).toEqual([0, 1])
    expect(reader.nextSequence()).toBe(2)
    await reader.close()
    await writer.close()
  })

  it('writes nothing to an empty store, not even the format record', async () => {
    const storage = instrument(await openMemoryStorage())
    const reader = await openLog({ storage, readOnly: true })
    expect(await shown(reader)).toEqual([])
    expect(reader.nextSequence()).toBe(0)
    await reader.close()
    expect(storage.writes).toEqual([])
  })

  it('reads a directory that a writer in this process holds, and lets writers come and go', async () => {
    const path = join(dir, 'log')
    const writer = await openLog({ path })
    await writer.append([{ key: 'a', value: '1' }])
    const reader = await openLog({ path, readOnly: true })
    expect(await shown(reader)).toEqual(['0:a=1'])
    // The writer closes and opens again while the reader stays open.
    await writer.close()
    const again = await openLog({ path })
    await again.append([{ key: 'a', value: '2' }])
    // A read-only open sees the log as it was when it opened.
    expect(await shown(reader)).toEqual(['0:a=1'])
    await reader.close()
    const later = await openLog({ path, readOnly: true })
    expect(await shown(later, { key: 'a' })).toEqual(['0:a=1', `${4096}:a=2`])
    await later.close()
    await again.close()
  })

  it('creates nothing: a missing or empty directory is NOT_A_LOG and stays as it was', async () => {
    const before = await fingerprint(dir)
    expect(await code(openLog({ path: join(dir, 'missing'), readOnly: true }))).toBe('NOT_A_LOG')
    expect(await code(openLog({ path: dir, readOnly: true }))).toBe('NOT_A_LOG')
    expect(await fingerprint(dir)).toEqual(before)
    expect(
      await code(openLog({ path: join(dir, 'log'), readOnly: true, directoryMode: 0o750 })),
    ).toBe('INVALID_ARGUMENT')
  })

  it('changes no file of the log it reads', async () => {
    const path = join(dir, 'log')
    const writer = await openLog({ path })
    await writer.append([{ key: 'a', value: '1' }])
    await writer.close()
    const before = await fingerprint(path)
    const reader = await openLog({ path, readOnly: true })
    expect(await shown(reader)).toEqual(['0:a=1'])
    expect(await code(reader.append([{ key: 'a', value: '2' }]))).toBe('READ_ONLY')
    await reader.close()
    expect(await fingerprint(path)).toEqual(before)
  })

  it('is a RocksDB store that refuses writes with READ_ONLY', async () => {
    const path = join(dir, 'log')
    await (await openLog({ path })).close()
    await using opened = await openRocksStorage(path, { readOnly: true })
    const written = await opened.write(
      [{ type: 'put', key: Uint8Array.of(1), value: Uint8Array.of(2) }],
      { sync: true },
    )()
    expect(E.isLeft(written) && written.left.code).toBe('READ_ONLY')
    expect(E.isLeft(await opened.write([], { sync: true })())).toBe(true)
  })
})

describe('a reader that has not seen a truncation', () => {
  it('skips a run whose commit a truncation removed while it read, instead of calling it corrupt', async () => {
    const inner = await openMemoryStorage()
    const writer = await openLog({ storage: inner })
    // Runs over 1 KiB live in their commit record; their run records point to it.
    await writer.append([{ key: 'k', value: 'x'.repeat(2000) }])
    await writer.append([{ key: 'k', value: 'y'.repeat(2000) }])
    // The truncation lands between the reader's read of the run records and of their commits.
    const storage = interrupting(inner)
    const reader = await openLog({ storage, readOnly: true })
    storage.duringNextStep(() => writer.truncateBefore(1))
    const sequences: number[] = []
    for await (const e of reader.scan({ key: 'k' })) sequences.push(e.sequence)
    expect(storage.armed()).toBe(false)
    expect(sequences).toEqual([1])
    await reader.close()
    await writer.close()
  })
})
