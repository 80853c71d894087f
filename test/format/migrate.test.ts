// Converting a format 1 log to format 2 in place: a crash at any moment of the conversion leaves
// the whole format 1 log or the whole format 2 log, and running it again finishes the job; the
// log written by deltalog 0.1 converts with every entry.
import { cp } from 'node:fs/promises'
import { join } from 'node:path'
import * as E from 'fp-ts/lib/Either.js'
import * as O from 'fp-ts/lib/Option.js'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { seqBlockKey } from '../../src/codec/records.js'
import { v1SeqBlockKey, v1TruncatedBeforeKey } from '../../src/format/v1/keys.js'
import { readU64 } from '../../src/codec/u64.js'
import { openLogDirectory } from '../../src/storage/logDirectory.js'
import {
  migrateLog,
  migrateLogTE,
  migrateStorage,
  type MigrationOptions,
} from '../../src/format/migrate.js'
import { storedFormat } from '../../src/format/detect.js'
import { scanAll, type LogEntry } from '../../src/log/read.js'
import { scanAll as scanAllV1 } from '../../src/format/v1/read.js'
import type { Batch, Storage, WriteOptions } from '../../src/storage/port.js'
import { openCrashStorage, type CrashStorage } from '../../src/testing/crashStorage.js'
import { verifyChain, describeProblem } from '../../src/verify/chain.js'
import { code } from '../support/codes.js'
import { makeTempDir, removeDir } from '../support/tmpdir.js'
import { writeV1Log } from '../support/v1.js'
import { decodeTruncation, truncationKey } from '../../src/codec/truncation.js'

const text = new TextDecoder()
const show = (e: LogEntry): string => `${text.decode(e.key)}@${e.sequence}=${text.decode(e.value)}`

const get = async (storage: Storage, key: Uint8Array): Promise<string | undefined> => {
  const value = await storage.get(key)()
  if (E.isLeft(value)) throw new Error(value.left.message)
  return O.isSome(value.right) ? Buffer.from(value.right.value).toString('hex') : undefined
}

const watermark = async (storage: Storage, v2: boolean): Promise<number> => {
  const value = await storage.get(v2 ? truncationKey : v1TruncatedBeforeKey)()
  if (E.isLeft(value) || O.isNone(value.right)) return 0
  if (!v2) return O.getOrElse(() => -1)(readU64(value.right.value, 0))
  const truncation = decodeTruncation(value.right.value)
  return E.isRight(truncation) ? truncation.right.before : -1
}

/** What reads of the store return, in the format it holds, with its SeqBlock. */
const readBack = async (
  storage: Storage,
): Promise<{ format: 1 | 2 | 'empty'; entries: string[]; block: string | undefined }> => {
  const format = await storedFormat(storage)
  if (E.isLeft(format)) throw new Error(format.left.message)
  const f = format.right.format
  const v2 = f === 2
  const truncatedBefore = await watermark(storage, v2)
  const ctx = { storage, truncatedBefore: () => truncatedBefore, isClosed: () => false }
  const range = { lower: 0, upper: undefined }
  const entries: string[] = []
  for await (const e of v2
    ? scanAll(ctx, range, false, undefined)
    : scanAllV1(ctx, range, false, undefined)) {
    entries.push(show(e))
  }
  if (v2) {
    const chain = await verifyChain(storage)
    expect(E.isRight(chain) ? chain.right.problems.map(describeProblem) : chain).toEqual([])
  }
  return { format: f, entries, block: await get(storage, v2 ? seqBlockKey : v1SeqBlockKey) }
}

/** A format 1 log with restarts (gaps), a truncation and keys interleaved, in a crash store. */
const writeV1 = async (): Promise<CrashStorage> => {
  const storage = await openCrashStorage()
  const rounds = [0, 1, 2].map((round) =>
    [0, 1, 2, 3, 4].map((i) => [
      { key: `k${i % 3}`, value: `r${round}-${i}` },
      { key: `k${i % 3}`, value: `r${round}-${i}b` },
      { key: 'other', value: `r${round}-${i}c` },
    ]),
  )
  await writeV1Log(storage, rounds, { blockSize: 8, truncateBefore: 6 })
  return storage
}

/** Records what a crash would leave after every write the conversion makes. */
const recording = (storage: CrashStorage): { store: Storage; views: CrashStorage[] } => {
  const views: CrashStorage[] = []
  const take = (): void => {
    views.push(storage.crashView('process'), storage.crashView('power', views.length))
  }
  const store: Storage = {
    ...storage,
    write: (batch: Batch, options: WriteOptions) => async () => {
      take()
      const result = await storage.write(batch, options)()
      take()
      return result
    },
  }
  return { store, views }
}

describe('migrateStorage', () => {
  const options: MigrationOptions = { batchEntries: 7 }

  it('converts a format 1 log, and a crash at any moment leaves one whole log', async () => {
    const storage = await writeV1()
    const before = await readBack(storage)
    expect(before.format).toBe(1)
    expect(before.entries.length).toBeGreaterThan(30)
    const { store, views } = recording(storage)
    const report = await migrateStorage(store, options)
    expect(E.isRight(report) && report.right.entries).toBe(before.entries.length)
    const after = await readBack(storage)
    expect(after).toEqual({ ...before, format: 2 })
    expect(await storedFormat(storage)).toEqual(E.right({ format: 2, leftovers: false }))

    // Small batches make many moments to crash at; each leaves the old log or the new one.
    expect(views.length).toBeGreaterThan(20)
    const seen = new Set<number | string>()
    for (const [i, view] of views.entries()) {
      const found = await readBack(view)
      seen.add(found.format)
      expect(found).toEqual({ ...before, format: found.format })
      // The old log may be used again before the conversion is retried: what an interrupted
      // conversion left must not come back.
      let expected = before
      const target = view
      if (found.format === 1 && i % 3 === 0) {
        await writeV1Log(view, [[[{ key: 'k9', value: 'later' }]]], {
          blockSize: 8,
          truncateBefore: 20,
        })
        expected = await readBack(target)
      }
      // Running the conversion again after the crash finishes it.
      const again = await migrateStorage(target, options)
      expect(E.isRight(again)).toBe(true)
      expect(await readBack(target)).toEqual({ ...expected, format: 2 })
      expect(await storedFormat(target)).toEqual(E.right({ format: 2, leftovers: false }))
    }
    expect([...seen].sort()).toEqual([1, 2])
  })

  it('is durable when it resolves, its clean-up included', async () => {
    const storage = await writeV1()
    const before = await readBack(storage)
    await migrateStorage(storage, options)
    for (const seed of [0, 1, 2, 3]) {
      const view = storage.crashView('power', seed)
      expect(await readBack(view)).toEqual({ ...before, format: 2 })
      // The format 1 records are gone for good too.
      expect(await storedFormat(view)).toEqual(E.right({ format: 2, leftovers: false }))
    }
  })

  it('removes the format 1 records an interrupted conversion left, durably', async () => {
    const storage = await writeV1()
    const before = await readBack(storage)
    const { store, views } = recording(storage)
    await migrateStorage(store, options)
    // A crash after the switch, with format 1 records still beside the format 2 log.
    const interrupted: CrashStorage[] = []
    for (const view of views) {
      const format = await storedFormat(view)
      if (E.isRight(format) && format.right.format === 2 && format.right.leftovers) {
        interrupted.push(view)
      }
    }
    expect(interrupted.length).toBeGreaterThan(0)
    for (const view of interrupted.slice(0, 4)) {
      const again = await migrateStorage(view, options)
      expect(E.isRight(again) && again.right.deleted).toBeGreaterThan(0)
      // A power loss the moment it resolved: the format 1 records stay gone.
      for (const seed of [0, 1, 2, 3]) {
        const lost = view.crashView('power', seed)
        expect(await storedFormat(lost)).toEqual(E.right({ format: 2, leftovers: false }))
        expect(await readBack(lost)).toEqual({ ...before, format: 2 })
      }
    }
  })

  it('leaves an empty store empty and a converted one as it is', async () => {
    const empty = await openCrashStorage()
    expect(await migrateStorage(empty)).toEqual(
      E.right({ entries: 0, commits: 0, deleted: 0, head: expect.anything() as unknown }),
    )
    expect(await storedFormat(empty)).toEqual(E.right({ format: 'empty' }))
    const storage = await writeV1()
    await migrateStorage(storage)
    const once = storage.batches().length
    const again = await migrateStorage(storage)
    expect(E.isRight(again) && again.right.entries).toBe(0)
    // Nothing but an empty synced write.
    expect(
      storage
        .batches()
        .slice(once)
        .every((b) => b.batch.length === 0),
    ).toBe(true)
  })
})

describe('migrateLog', () => {
  it('converts a store it is given, which stays open; the TaskEither form is right', async () => {
    const storage = await writeV1()
    const before = await readBack(storage)
    const report = await migrateLog({ storage }, { batchEntries: 7 })
    expect(report.entries).toBe(before.entries.length)
    expect(await readBack(storage)).toEqual({ ...before, format: 2 })
    const again = await migrateLogTE({ storage })()
    expect(E.isRight(again) && again.right.entries).toBe(0)
  })

  it.each<[string, unknown, unknown]>([
    ['no target', null, {}],
    ['a target with neither', {}, {}],
    ['a target with both', { path: '/x', storage: {} }, {}],
    ['an empty path', { path: '' }, {}],
    ['what is no storage', { storage: { get: 1 } }, {}],
    ['batchEntries 0', { storage: 'later' }, { batchEntries: 0 }],
    ['batchBytes 1.5', { storage: 'later' }, { batchBytes: 1.5 }],
    ['options that are no object', { storage: 'later' }, null],
  ])(
    'rejects %s with INVALID_ARGUMENT, a left in the TaskEither form',
    async (_, target, options) => {
      const given =
        typeof target === 'object' &&
        target !== null &&
        'storage' in target &&
        target.storage === 'later'
          ? { storage: await openCrashStorage() }
          : target
      expect(await code(migrateLog(given as never, options as never))).toBe('INVALID_ARGUMENT')
      const refused = await migrateLogTE(given as never, options as never)()
      expect(E.isLeft(refused) && refused.left.code).toBe('INVALID_ARGUMENT')
    },
  )

  it('rejects a directory that holds no log with NOT_A_LOG', async () => {
    const dir = await makeTempDir('migrate-none')
    try {
      expect(await code(migrateLog({ path: join(dir, 'absent') }))).toBe('NOT_A_LOG')
    } finally {
      await removeDir(dir)
    }
  })
})

describe('the log written by deltalog 0.1', () => {
  let dir = ''
  beforeEach(async () => {
    dir = await makeTempDir('migrate')
  })
  afterEach(async () => {
    await removeDir(dir)
  })

  it('converts on RocksDB with every entry it held', async () => {
    const expected = (await import('../fixtures/log-0.1.json', { with: { type: 'json' } }))
      .default as { entries: ReadonlyArray<{ sequence: number; key: string; value: string }> }
    const path = join(dir, 'log')
    await cp(new URL('../fixtures/log-0.1', import.meta.url).pathname, path, { recursive: true })
    const storage = await openLogDirectory(path, { create: false })()
    if (E.isLeft(storage)) throw new Error(storage.left.message)
    try {
      const report = await migrateStorage(storage.right)
      expect(E.isRight(report) && report.right.entries).toBe(expected.entries.length)
      const after = await readBack(storage.right)
      expect(after.format).toBe(2)
      expect(after.entries).toEqual(
        expected.entries.map((e) => `${e.key}@${e.sequence}=${e.value}`),
      )
    } finally {
      await storage.right.close()()
    }
  })
})
