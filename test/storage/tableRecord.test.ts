// The record of checked tables: an open in a new process reads only the tables that are new or
// changed since they passed, a writer's open that succeeded records them, and `verify` trusts no
// record. A new process is stood in for by a fresh copy of the modules (the tables that passed
// in this process are kept by a module); which tables an open reads is seen in the files it
// opens.
import { readdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises'
import type * as FileSystem from 'node:fs/promises'
import { basename, join } from 'node:path'
import { fc, test } from '@fast-check/vitest'
import * as E from 'fp-ts/lib/Either.js'
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest'
import {
  blockContents,
  blockHandles,
  decodeFooter,
  FOOTER_SIZE,
  TRAILER_SIZE,
  type BlockHandle,
} from '../../src/storage/rocksdbTableCodec.js'
import {
  decodeTableRecord,
  encodeTableRecord,
  TABLE_RECORD_FILE,
  type TableRecord,
} from '../../src/storage/rocksdbTableRecord.js'
import { makeTempDir, removeDir } from '../support/tmpdir.js'

// The table files opened since the count was last cleared; and the files whose `stat` is held
// at what it was, as bytes that rot on the disk leave it.
const opened = vi.hoisted(() => ({
  tables: [] as string[],
  held: new Map<string, unknown>(),
  // Called as each table is opened.
  onTable: (): void => undefined,
}))
vi.mock('node:fs/promises', async (importOriginal) => {
  const fs = await importOriginal<typeof FileSystem>()
  return {
    ...fs,
    stat: (
      file: string,
      ...rest: Parameters<typeof fs.stat> extends [unknown, ...infer R] ? R : never
    ) => (opened.held.has(file) ? Promise.resolve(opened.held.get(file)) : fs.stat(file, ...rest)),
    open: (
      file: string,
      ...rest: Parameters<typeof fs.open> extends [unknown, ...infer R] ? R : never
    ) => {
      if (file.endsWith('.sst')) {
        opened.tables.push(file)
        opened.onTable()
      }
      return fs.open(file, ...rest)
    },
  }
})

// The code a promise rejects with: its DeltalogError is a fresh module's, another class.
const code = async (promise: Promise<unknown>): Promise<unknown> =>
  promise.then(
    () => 'resolved',
    (error: unknown) => (error as { code?: unknown }).code,
  )

// The modules as a new process loads them: no table has passed in it yet.
const freshModules = async () => {
  vi.resetModules()
  opened.tables.length = 0
  return {
    ...(await import('../../src/storage/rocksdb.js')),
    ...(await import('../../src/verify/verify.js')),
    ...(await import('../../src/cli/commands/verify.js')),
  }
}

const arbName = fc.nat({ max: 9_999_999 }).map((n) => `${String(n).padStart(6, '0')}.sst`)
const arbIdentity = fc
  .tuple(
    fc.bigInt({ min: 0n, max: 2n ** 40n }),
    fc.bigInt({ min: 0n, max: 2n ** 64n }),
    fc.bigInt({ min: 0n, max: 2n ** 64n }),
    fc.bigInt({ min: 0n, max: 2n ** 64n }),
  )
  .map((parts) => parts.join(':'))
const arbRecord: fc.Arbitrary<TableRecord> = fc
  .uniqueArray(fc.tuple(arbName, arbIdentity), { selector: ([name]) => name, maxLength: 20 })
  .map((entries) => new Map(entries))

describe('the record codec', () => {
  test.prop([arbRecord])('round trip', (record) => {
    expect(decodeTableRecord(encodeTableRecord(record))).toEqual(record)
  })

  test.prop([arbRecord, fc.nat(), fc.integer({ min: 1, max: 127 })])(
    'any one changed byte, or a cut, makes it no record',
    (record, at, mask) => {
      const text = encodeTableRecord(record)
      const i = at % text.length
      const changed =
        text.slice(0, i) + String.fromCharCode(text.charCodeAt(i) ^ mask) + text.slice(i + 1)
      expect(decodeTableRecord(changed)).toBeUndefined()
      expect(decodeTableRecord(text.slice(0, i))).toBeUndefined()
    },
  )
})

describe('the record of checked tables', () => {
  let dir: string
  let store: string
  let table: string
  let original: Buffer
  let times: { atime: Date; mtime: Date }
  beforeAll(async () => {
    dir = await makeTempDir('table-record')
    store = join(dir, 'store')
    const { openRocksStorage } = await freshModules()
    // Written, closed and opened again, which flushes the records into a table.
    for (let round = 0; round < 2; round++) {
      await using storage = await openRocksStorage(store)
      if (round > 0) continue
      const batch = Array.from({ length: 2000 }, (_, i) => ({
        type: 'put' as const,
        key: Buffer.from(`k${String(i).padStart(6, '0')}`),
        value: Buffer.from(`value ${i} ${'xy'.repeat(i % 50)}`),
      }))
      expect(E.isRight(await storage.write(batch, { sync: true })())).toBe(true)
    }
    table = join(store, (await readdir(store)).find((n) => n.endsWith('.sst')) as string)
    original = await readFile(table)
    // A modification time in whole seconds, which `utimes` can set back exactly.
    times = { atime: new Date(1_700_000_000_000), mtime: new Date(1_700_000_000_000) }
    await utimes(table, times.atime, times.mtime)
  })
  afterAll(() => removeDir(dir))
  // Each test starts from the table as written, and a record a writer's open wrote for it.
  beforeEach(async () => {
    if (!(await readFile(table)).equals(original)) {
      await writeFile(table, original)
      await utimes(table, times.atime, times.mtime)
    }
    const { openRocksStorage } = await freshModules()
    await (await openRocksStorage(store)).close()()
    expect(decodeTableRecord(await readFile(join(store, TABLE_RECORD_FILE), 'utf8'))?.size).toBe(1)
  })

  // The table with one byte of the checksum of its last data block changed, its size and
  // modification time kept: only a check of that block's checksum can tell, since no open reads
  // the block and the addon reads blocks without checking them.
  const rot = async (): Promise<void> => {
    const damaged = Buffer.from(original)
    const footer = decodeFooter(damaged.subarray(damaged.length - FOOTER_SIZE))
    const { offset, size } = footer.index
    const index = blockContents(damaged.subarray(offset, offset + size + TRAILER_SIZE), 1)
    const last = blockHandles(index, footer.formatVersion >= 4).at(-1) as BlockHandle
    const i = last.offset + last.size + 2
    damaged[i] = (damaged[i] as number) ^ 0x5a
    await writeFile(table, damaged)
    await utimes(table, times.atime, times.mtime)
  }

  it('a reopen in a new process reads no table that passed; without the record it reads them', async () => {
    expect((await readdir(store)).filter((n) => n.endsWith('.sst'))).toEqual([basename(table)])
    let fresh = await freshModules()
    await (await fresh.openRocksStorage(store, { readOnly: true })).close()()
    expect(opened.tables).toEqual([])
    await rm(join(store, TABLE_RECORD_FILE))
    fresh = await freshModules()
    await (await fresh.openRocksStorage(store, { readOnly: true })).close()()
    expect(opened.tables).toEqual([table])
  })

  it('a table rewritten with another byte, its size and modification time kept, is read again: CORRUPTION', async () => {
    await rot()
    expect((await stat(table, { bigint: true })).mtimeNs).toBe(1_700_000_000_000_000_000n)
    const { openRocksStorage } = await freshModules()
    expect(await code(openRocksStorage(store, { readOnly: true }))).toBe('CORRUPTION')
    expect(await code(openRocksStorage(store))).toBe('CORRUPTION')
  })

  it('verify reads every table, one the record vouches for included, and finds bit rot', async () => {
    await rot()
    // Bytes that rot on the disk change no identity: the record is made to vouch for these.
    const { ino, size, mtimeNs, ctimeNs } = await stat(table, { bigint: true })
    const vouched = new Map([
      [table.slice(store.length + 1), `${size}:${ino}:${mtimeNs}:${ctimeNs}`],
    ])
    await writeFile(join(store, TABLE_RECORD_FILE), encodeTableRecord(vouched))
    const fresh = await freshModules()
    const storage = await fresh.openRocksStorage(store, { readOnly: true })
    try {
      expect(opened.tables).toEqual([])
      expect(await code(fresh.verifyStorage(storage))).toBe('CORRUPTION')
    } finally {
      await storage.close()()
    }
    expect(
      await code(fresh.openRocksStorage(store, { readOnly: true, checkEveryTable: true })),
    ).toBe('CORRUPTION')
    const outcome = await fresh.verify({ db: store })
    expect(E.isLeft(outcome) && outcome.left.code).toBe('CORRUPTION')
  })

  it('verify in the process where a table passed reads it again, and finds bit rot', async () => {
    await rm(join(store, TABLE_RECORD_FILE))
    const fresh = await freshModules()
    const storage = await fresh.openRocksStorage(store, { readOnly: true })
    try {
      expect(opened.tables).toEqual([table])
      // The table passed in this process; its bytes rot, and its identity stays what it was.
      opened.held.set(table, await stat(table, { bigint: true }))
      await rot()
      expect(await code(fresh.verifyStorage(storage))).toBe('CORRUPTION')
    } finally {
      opened.held.clear()
      await storage.close()()
    }
  })

  it('a record that does not decode is ignored: every table is read', async () => {
    const path = join(store, TABLE_RECORD_FILE)
    const text = await readFile(path, 'utf8')
    // Its checksum line changed: every entry still names the table as it is.
    await writeFile(path, `${text.slice(0, -2)}${text.at(-2) === '0' ? '1' : '0'}\n`)
    const fresh = await freshModules()
    await (await fresh.openRocksStorage(store, { readOnly: true })).close()()
    expect(opened.tables).toEqual([table])
    await writeFile(path, 'not a record')
    await (await (await freshModules()).openRocksStorage(store, { readOnly: true })).close()()
    expect(opened.tables).toEqual([table])
  })

  it('a read-only open writes no record; a writer drops the tables that are gone', async () => {
    await rm(join(store, TABLE_RECORD_FILE))
    await (await (await freshModules()).openRocksStorage(store, { readOnly: true })).close()()
    expect(await readdir(store)).not.toContain(TABLE_RECORD_FILE)
    await (await (await freshModules()).openRocksStorage(store)).close()()
    const path = join(store, TABLE_RECORD_FILE)
    const written = decodeTableRecord(await readFile(path, 'utf8')) ?? new Map<string, string>()
    await writeFile(path, encodeTableRecord(new Map([...written, ['999999.sst', '1:2:3:4']])))
    await (await (await freshModules()).openRocksStorage(store)).close()()
    const record = decodeTableRecord(await readFile(join(store, TABLE_RECORD_FILE), 'utf8'))
    expect([...(record ?? new Map()).keys()]).toEqual([table.slice(store.length + 1)])
  })
})

describe("a writer's close", () => {
  it('records the tables RocksDB wrote while it was open: a reopen in a new process reads none', async () => {
    const dir = await makeTempDir('table-record-close')
    try {
      const path = join(dir, 'store')
      // Written and closed: the records stay in the write-ahead log until the next open.
      const writer = await (await freshModules()).openRocksStorage(path)
      const batch = Array.from({ length: 500 }, (_, i) => ({
        type: 'put' as const,
        key: Buffer.from(`k${i}`),
        value: Buffer.from(`value ${i}`),
      }))
      expect(E.isRight(await writer.write(batch, { sync: true })())).toBe(true)
      await writer.close()()
      // This open flushes them into a table, which no open has read; its close records it.
      await (await (await freshModules()).openRocksStorage(path)).close()()
      const tables = (await readdir(path)).filter((n) => n.endsWith('.sst'))
      expect(tables).toHaveLength(1)
      const record = decodeTableRecord(await readFile(join(path, TABLE_RECORD_FILE), 'utf8'))
      expect([...(record ?? new Map()).keys()]).toEqual(tables)
      const fresh = await freshModules()
      await (await fresh.openRocksStorage(path, { readOnly: true })).close()()
      expect(opened.tables).toEqual([])
    } finally {
      await removeDir(dir)
    }
  })

  it('keeps the identity a table passed with, if it changed while the writer was open', async () => {
    const dir = await makeTempDir('table-record-changed')
    try {
      const path = join(dir, 'store')
      const batch = Array.from({ length: 500 }, (_, i) => ({
        type: 'put' as const,
        key: Buffer.from(`k${i}`),
        value: Buffer.from(`value ${i}`),
      }))
      const first = await (await freshModules()).openRocksStorage(path)
      expect(E.isRight(await first.write(batch, { sync: true })())).toBe(true)
      await first.close()()
      await (await (await freshModules()).openRocksStorage(path)).close()()
      const [name = ''] = (await readdir(path)).filter((n) => n.endsWith('.sst'))
      // Rewritten under an open writer: no longer what passed, nor what RocksDB wrote.
      const writer = await (await freshModules()).openRocksStorage(path)
      await writeFile(join(path, name), await readFile(join(path, name)))
      await writer.close()()
      await (await (await freshModules()).openRocksStorage(path, { readOnly: true })).close()()
      expect(opened.tables).toEqual([join(path, name)])
    } finally {
      await removeDir(dir)
    }
  })
})

describe('verify with a signal', () => {
  it('stops reading tables once the signal aborts, and rejects with ABORTED', async () => {
    const dir = await makeTempDir('table-record-abort')
    try {
      const path = join(dir, 'store')
      // Each writer's open flushes what the one before wrote into a table of its own.
      for (let round = 0; round < 3; round++) {
        const storage = await (await freshModules()).openRocksStorage(path)
        const batch = Array.from({ length: 200 }, (_, i) => ({
          type: 'put' as const,
          key: Buffer.from(`r${round}-${i}`),
          value: Buffer.from(`value ${i}`),
        }))
        if (round < 2) expect(E.isRight(await storage.write(batch, { sync: true })())).toBe(true)
        await storage.close()()
      }
      expect((await readdir(path)).filter((n) => n.endsWith('.sst')).length).toBeGreaterThan(1)
      const fresh = await freshModules()
      const storage = await fresh.openRocksStorage(path, { readOnly: true })
      const signal = new AbortController()
      opened.onTable = () => signal.abort()
      try {
        expect(await code(fresh.verifyStorage(storage, { signal: signal.signal }))).toBe('ABORTED')
        expect(opened.tables).toHaveLength(1)
      } finally {
        opened.onTable = () => undefined
        await storage.close()()
      }
    } finally {
      await removeDir(dir)
    }
  })
})
