// The log's tracing channels on every storage: each operation is one span with the documented
// fields, a failed one carries its error code on every channel it crossed, and nothing is
// published once the subscriber left.
import { afterEach, describe, expect, it } from 'vitest'
import { DeltalogError } from '../../src/errors.js'
import { openLog, type Log } from '../../src/openLog.js'
import { openPostgresStorage } from '../../src/postgres/storage.js'
import { openCrashStorage } from '../../src/testing/crashStorage.js'
import { makeMemoryStorage } from '../../src/storage/memory.js'
import type { Batch, IterateOptions, Storage, WriteOptions } from '../../src/storage/port.js'
import { instrument } from '../log/storages.js'
import { connection, dropTables, freshTable, postgresRuns } from '../postgres/server.js'
import { makeTempDir, removeDir } from '../support/tmpdir.js'
import { LOG_CHANNELS, record, type Recorder } from './record.js'

const recorders: Recorder[] = []
const recording = (): Recorder => {
  const recorder = record(LOG_CHANNELS)
  recorders.push(recorder)
  return recorder
}
afterEach(() => {
  for (const recorder of recorders.splice(0)) recorder.stop()
})

/**
 * Two appends (the first synced, for it opens a block of numbers; the second buffered), a flush
 * and a truncation, with every channel recorded; then what each published.
 */
const runScenario = async (log: Log, name: string): Promise<void> => {
  const recorder = recording()
  const first = await log.append([
    { key: 'a', value: '1' },
    { key: 'b', value: '22' },
  ])
  const second = await log.append([{ key: 'a', value: '333' }])
  await log.flush()
  await log.truncateBefore(first.startSequence + 1)
  recorder.stop()

  const appends = recorder.spans('append')
  expect(appends).toHaveLength(2)
  expect(appends[0]).toMatchObject({ log: name, records: 2, durability: 'buffered' })
  expect(appends[0]?.['result']).toEqual(first)
  expect(appends[1]).toMatchObject({ log: name, records: 1, result: second })
  expect(appends[0]?.['bytes']).toBeGreaterThan(appends[1]?.['bytes'] as number)
  expect(appends.every((a) => a['error'] === undefined && a['code'] === undefined)).toBe(true)
  const order = recorder.events.filter((e) => e.channel === 'append').map((e) => e.event)
  const once = ['start', 'end', 'asyncStart', 'asyncEnd']
  expect(order).toEqual([...once, ...once])

  const commits = recorder.spans('commit')
  expect(commits).toEqual([
    {
      log: name,
      appends: 1,
      records: 2,
      bytes: appends[0]?.['bytes'],
      durability: 'buffered',
      sync: true,
      result: first,
    },
    {
      log: name,
      appends: 1,
      records: 1,
      bytes: appends[1]?.['bytes'],
      durability: 'buffered',
      sync: false,
      result: second,
    },
  ])

  const writes = recorder.spans('write')
  // Each commit's batch, then the truncation's mark (synced) and its deletions.
  expect(writes.length).toBeGreaterThanOrEqual(3)
  expect(writes.slice(0, 2).map((w) => w['sync'])).toEqual([true, false])
  for (const write of writes) {
    expect(write).toMatchObject({ log: name })
    expect(write['operations']).toBeGreaterThan(0)
    expect(write['bytes']).toBeGreaterThan(0)
  }
  expect(writes[2]?.['sync']).toBe(true)

  expect(recorder.spans('sync')).toEqual([{ log: name, operations: 0, bytes: 0, sync: true }])
  expect(recorder.spans('truncate')).toEqual([
    { log: name, before: first.startSequence + 1, result: first.startSequence + 1 },
  ])
}

describe('every log channel publishes with its fields', () => {
  it('on memory', async () => {
    const log = await openLog({ storage: makeMemoryStorage(), durability: 'buffered' })
    await runScenario(log, 'memory')
    await log.close()
  })

  it('on RocksDB, named by its directory', async () => {
    const dir = await makeTempDir('trace')
    try {
      const log = await openLog({ path: dir, durability: 'buffered' })
      await runScenario(log, dir)
      await log.close()
    } finally {
      await removeDir(dir)
    }
  })

  it.skipIf(!postgresRuns)('on PostgreSQL, named by its table', async () => {
    const table = freshTable()
    const storage = await openPostgresStorage({ connection: connection(), table })
    try {
      const log = await openLog({ storage, durability: 'buffered' })
      await runScenario(log, table)
      await log.close()
    } finally {
      await storage.close()()
      await dropTables(table)
    }
  })

  it('publishes the sync of a close that has something to make durable', async () => {
    const log = await openLog({ storage: makeMemoryStorage(), durability: 'buffered' })
    await log.append([{ key: 'a', value: '1' }])
    await log.append([{ key: 'a', value: '2' }])
    const recorder = recording()
    await log.close()
    expect(recorder.spans('sync')).toEqual([{ log: 'memory', operations: 0, bytes: 0, sync: true }])
  })
})

describe('an adapter of its own', () => {
  // A Storage whose methods live on its prototype, as a class gives them, and that names no
  // location: the writer's view of it must call through to them.
  class Delegating implements Storage {
    readonly #inner = makeMemoryStorage()
    get capabilities(): Storage['capabilities'] {
      return this.#inner.capabilities
    }
    get(key: Uint8Array): ReturnType<Storage['get']> {
      return this.#inner.get(key)
    }
    getMany(keys: ReadonlyArray<Uint8Array>): ReturnType<Storage['getMany']> {
      return this.#inner.getMany(keys)
    }
    write(batch: Batch, options: WriteOptions): ReturnType<Storage['write']> {
      return this.#inner.write(batch, options)
    }
    iterator(options: IterateOptions): ReturnType<Storage['iterator']> {
      return this.#inner.iterator(options)
    }
    close(): ReturnType<Storage['close']> {
      return this.#inner.close()
    }
  }

  it('is written through, and named `storage` when it gives no location', async () => {
    const log = await openLog({ storage: new Delegating() })
    const recorder = recording()
    await log.append([{ key: 'a', value: '1' }])
    await log.append([{ key: 'a', value: '2' }])
    await log.truncateBefore(1)
    expect(await log.count()).toBe(1)
    await log.close()
    expect(recorder.spans('commit').map((c) => c['log'])).toEqual(['storage', 'storage'])
    expect(recorder.spans('truncate')).toEqual([{ log: 'storage', before: 1, result: 1 }])
  })
})

describe('a commit of several appends', () => {
  it('spans them all: its range runs over every record of the batch', async () => {
    const log = await openLog({ storage: makeMemoryStorage() })
    const recorder = recording()
    const sizes = [1, 2, 1, 3]
    const ranges = await Promise.all(
      sizes.map((n, i) =>
        log.append(Array.from({ length: n }, (_, j) => ({ key: `k${i}`, value: `${j}` }))),
      ),
    )
    const commits = recorder.spans('commit')
    expect(commits.reduce((n, c) => n + (c['appends'] as number), 0)).toBe(sizes.length)
    expect(commits.some((c) => (c['appends'] as number) > 1)).toBe(true)
    // The commits' ranges tile the appends' ranges, each as long as its records.
    let next = ranges[0]?.startSequence ?? -1
    for (const commit of commits) {
      expect(commit['result']).toEqual({ startSequence: next, count: commit['records'] })
      next += commit['records'] as number
    }
    expect(next).toBe(log.nextSequence())
    await log.close()
  })
})

describe('a failed operation carries its error code', () => {
  it('a failed storage write fails the append, its commit and the write, each with the code', async () => {
    const storage = instrument(makeMemoryStorage())
    const log = await openLog({ storage })
    const recorder = recording()
    storage.failWrites = true
    await expect(log.append([{ key: 'a', value: '1' }])).rejects.toMatchObject({
      code: 'IO_ERROR',
    })
    for (const channel of ['append', 'commit', 'write'] as const) {
      const [span] = recorder.spans(channel)
      expect(span, channel).toMatchObject({ log: 'memory', code: 'IO_ERROR' })
      expect(span?.['error'], channel).toBeInstanceOf(DeltalogError)
      expect(span?.['result'], channel).toBeUndefined()
      const published = recorder.events.filter((e) => e.channel === channel).map((e) => e.event)
      expect(published, channel).toEqual(['start', 'end', 'error', 'asyncStart', 'asyncEnd'])
    }
    // The writer stopped: the next append fails before any commit.
    await expect(log.append([{ key: 'a', value: '2' }])).rejects.toMatchObject({
      code: 'WRITER_FAILED',
    })
    expect(recorder.spans('append')[1]).toMatchObject({ code: 'WRITER_FAILED' })
    expect(recorder.spans('commit')).toHaveLength(1)
    await log.close().catch(() => undefined)
  })

  it('a failed sync carries its code on deltalog:sync, and a lost acknowledgement on the commit', async () => {
    const storage = await openCrashStorage()
    const log = await openLog({ storage, durability: 'buffered' })
    await log.append([{ key: 'a', value: '1' }])
    await log.append([{ key: 'a', value: '2' }])
    const recorder = recording()
    storage.failNext('sync')
    await expect(log.flush()).rejects.toMatchObject({ code: 'IO_ERROR' })
    expect(recorder.spans('sync')).toEqual([
      expect.objectContaining({ log: 'memory', sync: true, code: 'IO_ERROR' }),
    ])
    await log.close().catch(() => undefined)

    // A write applied whose acknowledgement is lost fails its commit all the same.
    const lossy = await openCrashStorage()
    const other = await openLog({ storage: lossy })
    const acks = recording()
    lossy.failNext('ack')
    await expect(other.append([{ key: 'a', value: '1' }])).rejects.toMatchObject({
      code: 'IO_ERROR',
    })
    for (const channel of ['append', 'commit', 'write'] as const) {
      expect(acks.spans(channel), channel).toEqual([
        expect.objectContaining({ log: 'memory', code: 'IO_ERROR' }),
      ])
    }
    await other.close().catch(() => undefined)
  })

  it('a refused append and a refused truncation carry their code', async () => {
    const log = await openLog({ storage: makeMemoryStorage() })
    const recorder = recording()
    await expect(log.append([{ key: 'a', value: 7 } as never])).rejects.toThrow(DeltalogError)
    await expect(log.truncateBefore(-1)).rejects.toThrow(DeltalogError)
    expect(recorder.spans('append')).toEqual([
      expect.objectContaining({ records: 1, bytes: 0, code: 'INVALID_ARGUMENT' }),
    ])
    expect(recorder.spans('truncate')).toEqual([
      expect.objectContaining({ before: -1, code: 'INVALID_ARGUMENT' }),
    ])
    expect(recorder.spans('commit')).toEqual([])
    await log.close()
  })
})

describe('with no subscriber', () => {
  it('publishes nothing once its subscriber left', async () => {
    const log = await openLog({ storage: makeMemoryStorage(), durability: 'buffered' })
    const left = record(LOG_CHANNELS)
    left.stop()
    await log.append([{ key: 'a', value: '1' }])
    await log.append([{ key: 'a', value: '2' }])
    await log.flush()
    await log.truncateBefore(1)
    await log.close()
    expect(left.events).toEqual([])
  })
})
