// Case 3, durable group commit: 256 concurrent producers, each awaiting appends of one 100-byte
// record in sync mode, against stores that make each record durable on its own: the raw binding
// with `sync: true` one put at a time, better-sqlite3 in WAL mode with `synchronous = FULL` and
// one transaction per record, and lmdb with its default settings and as many producers, each put
// awaited until flushed.
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { openLog } from '../../src/index.js'
import { figure, inDir, paired, producers, target, valueOf, type CaseResult } from '../measure.js'
import { openRaw } from '../raw.js'

export interface GroupCommitSizes {
  /** How long each side appends per round. */
  readonly ms: number
  readonly rounds: number
}

const PRODUCERS = 256
const VALUE_BYTES = 100

interface Sqlite {
  pragma(source: string): unknown
  exec(source: string): void
  prepare(source: string): { run(...params: unknown[]): unknown }
  close(): void
}
interface Lmdb {
  put(key: string, value: Buffer): Promise<boolean>
  readonly flushed: Promise<void>
  close(): Promise<void>
}
const require = createRequire(import.meta.url)
const Database = require('better-sqlite3') as new (path: string) => Sqlite
const lmdb = require('lmdb') as {
  open(options: { path: string; encoding: 'binary' }): Lmdb
}

export const groupCommit = async (sizes: GroupCommitSizes): Promise<CaseResult> => {
  const value = valueOf(VALUE_BYTES)
  const deltalog = (): Promise<number> =>
    inDir('group-deltalog', async (dir) => {
      const log = await openLog({ path: join(dir, 'log'), durability: 'sync' })
      const rate = await producers(PRODUCERS, sizes.ms, (p) =>
        log.append([{ key: `producer-${p}`, value }]),
      )
      await log.close()
      return rate
    })
  const raw = (): Promise<number> =>
    inDir('group-raw', async (dir) => {
      const db = await openRaw(join(dir, 'raw'))
      const rate = await producers(1, sizes.ms, (_, i) =>
        db.put(`producer-0/${String(i).padStart(12, '0')}`, value, true),
      )
      await db.close()
      return rate
    })
  const sqlite = (): Promise<number> =>
    inDir('group-sqlite', async (dir) => {
      const db = new Database(join(dir, 'log.sqlite'))
      db.pragma('journal_mode = WAL')
      db.pragma('synchronous = FULL')
      db.exec('CREATE TABLE entries (seq INTEGER PRIMARY KEY, key TEXT NOT NULL, value BLOB)')
      const insert = db.prepare('INSERT INTO entries (key, value) VALUES (?, ?)')
      // The binding is synchronous: each insert is one transaction, committed and synced alone.
      const rate = await producers(1, sizes.ms, () => {
        insert.run('producer-0', value)
        return Promise.resolve()
      })
      db.close()
      return rate
    })
  const lmdbRun = (): Promise<number> =>
    inDir('group-lmdb', async (dir) => {
      const db = lmdb.open({ path: join(dir, 'lmdb'), encoding: 'binary' })
      const rate = await producers(PRODUCERS, sizes.ms, async (p, i) => {
        await db.put(`producer-${p}/${String(i).padStart(12, '0')}`, value)
        await db.flushed
      })
      await db.close()
      return rate
    })

  const vsRaw = figure(
    'deltalog, 256 producers, sync',
    'appends/s',
    'rocksdb binding, one put at a time, sync: true',
    await paired(sizes.rounds, deltalog, raw),
  )
  const vsSqlite = figure(
    'deltalog, 256 producers, sync',
    'appends/s',
    'better-sqlite3, WAL, synchronous = FULL, one transaction per record',
    await paired(sizes.rounds, deltalog, sqlite),
  )
  const vsLmdb = figure(
    'deltalog, 256 producers, sync',
    'appends/s',
    'lmdb, 256 producers, default commits, each put awaited until flushed',
    await paired(sizes.rounds, deltalog, lmdbRun),
  )
  return {
    id: 'durable-group-commit',
    title: 'Durable group commit',
    setup:
      `${PRODUCERS} concurrent producers, each awaiting appends of one ${VALUE_BYTES}-byte ` +
      `record, ${sizes.ms} ms per side per round; every acknowledged record is durable`,
    rounds: sizes.rounds,
    figures: [vsRaw, vsSqlite, vsLmdb],
    // The ratio to one synced put at a time has no target of its own: what the disk and RocksDB
    // allow the same commits is the ceiling case's, and its target (≥ 90% of it) stands for it.
    targets: [target(vsSqlite, 'ratio', '>=', 20), target(vsLmdb, 'ratio', '>=', 2)],
    notes: [
      'The ratio to the rocksdb binding, one put at a time, has no target: the ceiling section ' +
        'holds the same figure against what the disk and RocksDB allow the batches it writes ' +
        '(target ≥ 90%). The earlier target, ≥ 40×, asked for more than that ceiling: about 37× ' +
        'one synced put at a time in the profile of this case on this machine.',
      'Each baseline is paired with its own deltalog run in the same round, so deltalog has ' +
        'three rows of figures.',
      'lmdb runs with its defaults (on Linux: `overlappingSync` on, `noSync` and ' +
        '`noMetaSync` off, `commitDelay` 0, puts of one event turn batched into one ' +
        'transaction). With overlapping sync, a put resolves when its transaction commits and ' +
        'the sync follows, so each producer also awaits `flushed` before its next put: every ' +
        'acknowledged put is durable, as in the other rows.',
    ],
  }
}
