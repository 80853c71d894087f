// Proof that `sync` reaches the disk. A recording stand-in sits between the RocksDB adapter and
// the real addon and notes every batch's sync flag; RocksDB's own statistics then count the
// fsyncs of its write-ahead log (`rocksdb.dbstats`, "Cumulative WAL: N writes, M syncs"), which
// is the fsync or fdatasync the kernel saw — no root tools needed.
import { join } from 'node:path'
import * as E from 'fp-ts/lib/Either.js'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { openLog, type Log } from '../../src/openLog.js'
import { loadBinding, type NativeHandle, type RocksBinding } from '../../src/storage/binding.js'
import type { Storage } from '../../src/storage/port.js'
import { openRocksStorageWith } from '../../src/storage/rocksdb.js'
import { makeTempDir, removeDir } from '../support/tmpdir.js'

interface Recorded {
  readonly ops: number
  readonly sync: boolean
}

interface Recording {
  readonly batches: Recorded[]
  /** WAL syncs RocksDB has counted for the open database. */
  readonly walSyncs: () => number
  /** WAL syncs counted when the database was closed (the addon must not be asked after). */
  readonly walSyncsAtClose: () => number | undefined
}

/** The real addon, with every `batch_do` noted and the database handle kept for statistics. */
const recording = (): { binding: RocksBinding; record: Recording } => {
  const real = loadBinding()
  const batches: Recorded[] = []
  let db: NativeHandle | undefined
  let atClose: number | undefined
  const binding: RocksBinding = {
    ...real,
    db_init: () => {
      const handle = real.db_init()
      db = handle
      return handle
    },
    batch_do: (handle, ops, options, callback) => {
      batches.push({ ops: ops.length, sync: options.sync })
      real.batch_do(handle, ops, options, callback)
    },
    db_close: (handle, callback) => {
      atClose = walSyncs()
      db = undefined
      real.db_close(handle, callback)
    },
  }
  function walSyncs(): number {
    if (db === undefined) throw new Error('no database open')
    const stats = real.db_get_property(db, 'rocksdb.dbstats')
    const match = /Cumulative WAL: (\d+) writes, (\d+) syncs/.exec(stats)
    if (match === null) throw new Error(`no WAL line in rocksdb.dbstats:\n${stats}`)
    return Number(match[2])
  }
  return { binding, record: { batches, walSyncs, walSyncsAtClose: () => atClose } }
}

let dir = ''
beforeEach(async () => {
  dir = await makeTempDir('sync')
})
afterEach(() => removeDir(dir))

const open = async (): Promise<{ storage: Storage; record: Recording }> => {
  const { binding, record } = recording()
  const opened = await openRocksStorageWith(() => binding, join(dir, 'db'))()
  if (E.isLeft(opened)) throw new Error(opened.left.message)
  return { storage: opened.right, record }
}

const appendMany = async (log: Log, n: number): Promise<void> => {
  for (let i = 0; i < n; i++) await log.append([{ key: `k${i % 4}`, value: `v${i}` }])
}

describe('sync reaches the disk', () => {
  it('an empty synced write reaches the addon and fsyncs the WAL; an unsynced one does neither', async () => {
    const { storage, record } = await open()
    try {
      const before = record.walSyncs()
      expect(E.isRight(await storage.write([], { sync: false })())).toBe(true)
      expect(record.batches).toEqual([])
      expect(E.isRight(await storage.write([], { sync: true })())).toBe(true)
      expect(record.batches).toEqual([{ ops: 1, sync: true }])
      expect(record.walSyncs()).toBe(before + 1)
    } finally {
      await storage.close()()
    }
  })

  it('N sync appends one at a time: N synced batches and N WAL fsyncs', async () => {
    const { storage, record } = await open()
    const log = await openLog({ storage, durability: 'sync' })
    try {
      const before = record.walSyncs()
      const batchesBefore = record.batches.length
      await appendMany(log, 50)
      const appended = record.batches.slice(batchesBefore)
      expect(appended).toHaveLength(50)
      expect(appended.every((b) => b.sync)).toBe(true)
      expect(record.walSyncs() - before).toBe(50)
    } finally {
      await log.close()
      await storage.close()()
    }
  })

  it('buffered appends fsync only for a new block; flush and close each fsync once', async () => {
    const { storage, record } = await open()
    const log = await openLog({ storage, durability: 'buffered', blockSize: 1000 })
    try {
      await appendMany(log, 1) // takes a block: synced
      const before = record.walSyncs()
      await appendMany(log, 20)
      expect(record.walSyncs()).toBe(before)
      expect(record.batches.slice(-20).every((b) => !b.sync)).toBe(true)
      await log.flush()
      expect(record.batches.at(-1)).toEqual({ ops: 1, sync: true })
      expect(record.walSyncs()).toBe(before + 1)
      expect(log.durableSequence()).toBe(log.nextSequence())
      await log.flush() // nothing new: no fsync
      expect(record.walSyncs()).toBe(before + 1)
      await appendMany(log, 3)
      await log.close() // closes the store it was given too
      expect(record.batches.at(-1)).toEqual({ ops: 1, sync: true })
      expect(record.walSyncsAtClose()).toBe(before + 2)
    } finally {
      await log.close()
      await storage.close()()
    }
  })

  it('the truncation watermark is synced in buffered mode', async () => {
    const { storage, record } = await open()
    const log = await openLog({ storage, durability: 'buffered' })
    try {
      await appendMany(log, 5)
      const before = record.walSyncs()
      const count = record.batches.length
      await log.truncateBefore(2)
      // The watermark's own batch is the first after the call, and it is synced.
      expect(record.batches[count]).toEqual({ ops: 1, sync: true })
      expect(record.walSyncs()).toBeGreaterThan(before)
    } finally {
      await log.close()
      await storage.close()()
    }
  })
})
