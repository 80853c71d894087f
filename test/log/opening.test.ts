// Opening never damages a log: every spelling of an open directory is LOCKED, a directory that
// holds anything but a deltalog log is refused without one byte changed, a read-only place is
// READ_ONLY, and a new log's directory is private to its owner. All on the real binding.
import { spawnSync } from 'node:child_process'
import { cp, mkdir, readdir, rm, stat, symlink, writeFile } from 'node:fs/promises'
import { join, relative } from 'node:path'
import * as E from 'fp-ts/lib/Either.js'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { keyBytes } from '../../src/codec/keys.js'
import { formatKey } from '../../src/codec/records.js'
import { v1SeqBlockKey } from '../../src/format/v1/keys.js'
import { openEventStore } from '../../src/eventstore/store.js'
import { DeltalogError } from '../../src/errors.js'
import { openLog, type Log } from '../../src/openLog.js'
import { migrateLog } from '../../src/format/migrate.js'
import { storedFormat } from '../../src/format/detect.js'
import { encodeSeqBlock } from '../../src/sequence/seqBlock.js'
import { loadBinding } from '../../src/storage/binding.js'
import { MARKER_FILE } from '../../src/storage/directory.js'
import { verifyStorage } from '../../src/verify/verify.js'
import { openLogDirectory } from '../../src/storage/logDirectory.js'
import { openRocksStorage } from '../../src/storage/rocksdb.js'
import { sourceEntry, typeScriptArgs } from '../support/child.js'
import { fingerprint } from '../support/snapshot.js'
import { makeTempDir, removeDir } from '../support/tmpdir.js'

let dir = ''
beforeEach(async () => {
  dir = await makeTempDir('opening')
})
afterEach(() => removeDir(dir))

const codeOf = async (opening: Promise<unknown>): Promise<string> => {
  try {
    const opened = await opening
    if (opened !== null && typeof opened === 'object' && 'close' in opened) {
      await (opened as Log).close()
    }
    return 'opened'
  } catch (error) {
    return (error as { code?: string }).code ?? String(error)
  }
}

const writeLog = async (path: string, appends: number): Promise<void> => {
  const log = await openLog({ path, blockSize: 16 })
  for (let i = 0; i < appends; i++) await log.append([{ key: `k${i % 3}`, value: `v${i}` }])
  await log.close()
}

const valuesOf = async (log: Log): Promise<string[]> => {
  const out: string[] = []
  for await (const entry of log.scan()) out.push(new TextDecoder().decode(entry.value))
  return out
}

/** Writes a RocksDB database that deltalog did not write, through the binding itself. */
const writeForeignDatabase = async (
  path: string,
  pairs: ReadonlyArray<readonly [Uint8Array, Uint8Array]>,
): Promise<void> => {
  const binding = loadBinding()
  const db = binding.db_init()
  const done = (resolve: () => void, reject: (e: Error) => void) => (error?: Error | null) =>
    error ? reject(error) : resolve()
  await new Promise<void>((resolve, reject) =>
    binding.db_open(
      db,
      path,
      { createIfMissing: true, errorIfExists: false, readOnly: false },
      done(resolve, reject),
    ),
  )
  const ops = pairs.map(([key, value]) => ({ type: 'put' as const, key, value }))
  await new Promise<void>((resolve, reject) =>
    binding.batch_do(db, ops, { sync: true }, done(resolve, reject)),
  )
  await new Promise<void>((resolve, reject) => binding.db_close(db, done(resolve, reject)))
}

describe('one open per directory in a process', () => {
  it('refuses every other spelling of an open directory with LOCKED, and frees it on close', async () => {
    const path = join(dir, 'log')
    await mkdir(path)
    await symlink(path, join(dir, 'link'))
    const log = await openLog({ path })
    await log.append([{ key: 'a', value: 'only writer' }])
    const aliases = [
      path,
      `${path}/`,
      `${path}/.`,
      join(dir, 'link'),
      relative(process.cwd(), path),
      join(dir, 'x', '..', 'log'),
    ]
    for (const alias of aliases) {
      expect([alias, await codeOf(openLog({ path: alias }))]).toEqual([alias, 'LOCKED'])
    }
    expect(log.nextSequence()).toBe(1)
    await log.close()
    const again = await openLog({ path: join(dir, 'link') })
    expect(await valuesOf(again)).toEqual(['only writer'])
    await again.close()
  })

  it('releases the directory when an open fails, so a later open succeeds', async () => {
    const path = join(dir, 'log')
    await writeLog(path, 5)
    await cp(join(path, 'CURRENT'), join(dir, 'CURRENT.saved'))
    await rm(join(path, 'CURRENT'))
    expect(await codeOf(openLog({ path }))).toBe('CORRUPTION')
    await cp(join(dir, 'CURRENT.saved'), join(path, 'CURRENT'))
    const log = await openLog({ path })
    expect(await valuesOf(log)).toEqual(['v0', 'v1', 'v2', 'v3', 'v4'])
    await log.close()
    // Refused after the directory was claimed: the claim goes with the refusal.
    const foreign = join(dir, 'foreign')
    await writeForeignDatabase(foreign, [[keyBytes('user:1'), keyBytes('alice')]])
    expect(await codeOf(openLog({ path: foreign }))).toBe('NOT_A_LOG')
    await rm(foreign, { recursive: true })
    await (await openLog({ path: foreign })).close()
  })
})

describe('a directory that is not a deltalog log is refused, untouched', () => {
  it('a log whose CURRENT file is missing is CORRUPTION, every time, and keeps every file', async () => {
    const path = join(dir, 'log')
    await writeLog(path, 300)
    await writeLog(path, 0) // a reopen moves the write-ahead log into a table file
    expect((await readdir(path)).some((name) => name.endsWith('.sst'))).toBe(true)
    await rm(join(path, 'CURRENT'))
    const before = await fingerprint(path)
    for (let attempt = 0; attempt < 2; attempt++) {
      const error = await openLog({ path }).catch((e: unknown) => e)
      expect(error).toMatchObject({ code: 'CORRUPTION' })
      expect((error as Error).message).toMatch(/CURRENT file is missing/)
    }
    expect(await fingerprint(path)).toEqual(before)
  })

  it('RocksDB files without CURRENT and without the mark are CORRUPTION too, untouched', async () => {
    const path = join(dir, 'db')
    await writeForeignDatabase(path, [[keyBytes('user:1'), keyBytes('x')]])
    await rm(join(path, 'CURRENT'))
    const before = await fingerprint(path)
    expect(await codeOf(openLog({ path }))).toBe('CORRUPTION')
    expect(await fingerprint(path)).toEqual(before)
  })

  it.each([
    ['foreign keys', [[keyBytes('user:1'), keyBytes('alice')]]],
    ['no keys at all', []],
    [
      'a deltalog-looking first key but a foreign last key',
      [
        [v1SeqBlockKey, encodeSeqBlock({ baseSequence: 0, blockSize: 16 })],
        [keyBytes('zzz'), keyBytes('x')],
      ],
    ],
    ['deltalog keys but no SeqBlock', [[Uint8Array.of(0x01, 0x04, 0x61), keyBytes('x')]]],
  ] as const)(
    'a RocksDB database with %s is NOT_A_LOG, to a writer and a reader',
    async (_, pairs) => {
      const path = join(dir, 'db')
      await writeForeignDatabase(path, pairs)
      const before = await fingerprint(path)
      for (const readOnly of [false, true]) {
        const error = await openLog({ path, readOnly }).catch((e: unknown) => e)
        expect(error).toMatchObject({ code: 'NOT_A_LOG' })
        expect((error as Error).message).toMatch(/not a deltalog log/)
        expect(await fingerprint(path)).toEqual(before)
      }
    },
  )

  it('a damaged log is CORRUPTION to a writer, which changes no file first', async () => {
    const path = join(dir, 'log')
    await writeLog(path, 3)
    {
      // A format record that says format 9.
      await using storage = await openRocksStorage(path)
      const written = await storage.write(
        [{ type: 'put', key: formatKey, value: Uint8Array.of(9) }],
        {
          sync: true,
        },
      )()
      expect(E.isRight(written)).toBe(true)
    }
    const before = await fingerprint(path)
    expect(await codeOf(openLog({ path }))).toBe('CORRUPTION')
    expect(await codeOf(openEventStore({ path }))).toBe('CORRUPTION')
    expect(await fingerprint(path)).toEqual(before)
  })

  it('a directory holding other files is NOT_A_LOG, and a file is too', async () => {
    const path = join(dir, 'photos')
    await mkdir(path)
    await writeFile(join(path, 'cat.jpg'), 'not a database')
    const before = await fingerprint(path)
    expect(await codeOf(openLog({ path }))).toBe('NOT_A_LOG')
    expect(await fingerprint(path)).toEqual(before)
    expect(await codeOf(openLog({ path: join(path, 'cat.jpg') }))).toBe('NOT_A_LOG')
    expect(await fingerprint(path)).toEqual(before)
  })

  it('a mark it cannot read is CORRUPTION, untouched', async () => {
    const path = join(dir, 'log')
    await writeLog(path, 3)
    await writeFile(join(path, MARKER_FILE), '{"deltalog":"rocksdb","format":99}\n')
    const before = await fingerprint(path)
    expect(await codeOf(openLog({ path }))).toBe('CORRUPTION')
    expect(await fingerprint(path)).toEqual(before)
  })

  it('readers that may not create refuse an empty directory and leave it empty', async () => {
    const path = join(dir, 'empty')
    await mkdir(path)
    const opened = await openLogDirectory(path, { create: false })()
    expect(E.isLeft(opened) && opened.left.code).toBe('NOT_A_LOG')
    expect(await readdir(path)).toEqual([])
  })

  it('finishes a creation that stopped after the mark, before the database held data', async () => {
    const path = join(dir, 'log')
    await mkdir(path)
    await writeFile(join(path, MARKER_FILE), '{"deltalog":"rocksdb","format":1}\n')
    const log = await openLog({ path })
    await log.append([{ key: 'a', value: 'first' }])
    await log.close()
    const again = await openLog({ path })
    expect(await valuesOf(again)).toEqual(['first'])
    await again.close()
  })
})

describe('logs written by deltalog 0.1', () => {
  const fixtures = new URL('../fixtures/', import.meta.url).pathname

  it('are refused with MIGRATION_NEEDED, untouched, until converted; then read, verify and append', async () => {
    const expected = (await import('../fixtures/log-0.1.json', { with: { type: 'json' } }))
      .default as {
      nextSequence: number
      entries: ReadonlyArray<{ sequence: number; key: string; value: string }>
    }
    const path = join(dir, 'log-0.1')
    await cp(join(fixtures, 'log-0.1'), path, { recursive: true })
    // A reader is refused too, and adds not even the directory mark.
    const untouched = await fingerprint(path)
    const reader = await openLog({ path, readOnly: true }).catch((error: unknown) => error)
    expect(reader instanceof DeltalogError && reader.code).toBe('MIGRATION_NEEDED')
    expect(await fingerprint(path)).toEqual(untouched)
    // A writer is refused before RocksDB opens the database to write: no file changed, no mark.
    const refused = await openLog({ path }).catch((error: unknown) => error)
    expect(refused instanceof DeltalogError && refused.code).toBe('MIGRATION_NEEDED')
    expect(refused instanceof DeltalogError && refused.message).toMatch(/deltalog migrate --db DIR/)
    expect(await fingerprint(path)).toEqual(untouched)
    const still = await openLogDirectory(path, { create: false })()
    if (E.isLeft(still)) throw new Error(still.left.message)
    expect(await storedFormat(still.right)).toEqual(E.right({ format: 1 }))
    await still.right.close()()

    const report = await migrateLog({ path })
    expect(report.entries).toBe(expected.entries.length)
    const log = await openLog({ path })
    const entries: Array<{ sequence: number; key: string; value: string }> = []
    for await (const entry of log.scan()) {
      const text = new TextDecoder()
      entries.push({
        sequence: entry.sequence,
        key: text.decode(entry.key),
        value: text.decode(entry.value),
      })
    }
    expect(entries).toEqual(expected.entries)
    const { startSequence } = await log.append([{ key: 'orders', value: 'after upgrade' }])
    expect(startSequence).toBeGreaterThanOrEqual(expected.nextSequence)
    await log.close()
    expect(await readdir(path)).toContain(MARKER_FILE)
    await using storage = await openRocksStorage(path, { createIfMissing: false })
    const verified = await verifyStorage(storage)
    expect(verified.violations).toEqual([])
    expect(verified.entries).toBe(expected.entries.length + 1)
  })

  it('an event store from 0.1 reads its streams once converted', async () => {
    const path = join(dir, 'events-0.1')
    await cp(join(fixtures, 'events-0.1'), path, { recursive: true })
    expect(await codeOf(openEventStore({ path }))).toBe('MIGRATION_NEEDED')
    await migrateLog({ path })
    const store = await openEventStore({ path })
    const types: string[] = []
    for await (const event of store.readStream('order-1')) types.push(event.type)
    expect(types).toEqual(['OrderPlaced', 'OrderPaid'])
    await store.close()
  })
})

describe('the directory of a new log is private to its owner', () => {
  let umask = 0
  beforeEach(() => {
    umask = process.umask(0)
  })
  afterEach(() => {
    process.umask(umask)
  })

  const modeOf = async (path: string): Promise<number> => (await stat(path)).mode & 0o777

  it('is 0700 whatever the umask, for a missing directory and for an empty one', async () => {
    const missing = join(dir, 'new', 'log')
    await (await openLog({ path: missing })).close()
    expect(await modeOf(missing)).toBe(0o700)
    const empty = join(dir, 'empty')
    await mkdir(empty, { mode: 0o755 })
    await (await openEventStore({ path: empty })).close()
    expect(await modeOf(empty)).toBe(0o700)
  })

  it("makes missing parents with the log directory's mode, less the umask", async () => {
    const path = join(dir, 'a', 'b', 'log')
    await (await openLog({ path })).close()
    expect(await modeOf(join(dir, 'a'))).toBe(0o700)
    expect(await modeOf(join(dir, 'a', 'b'))).toBe(0o700)
    const shared = join(dir, 'group', 'log')
    await (await openLog({ path: shared, directoryMode: 0o750 })).close()
    expect(await modeOf(join(dir, 'group'))).toBe(0o750)
    process.umask(0o027)
    const masked = join(dir, 'masked', 'log')
    await (await openLog({ path: masked, directoryMode: 0o777 })).close()
    expect(await modeOf(join(dir, 'masked'))).toBe(0o750)
    expect(await modeOf(masked)).toBe(0o777)
  })

  it('takes directoryMode for the shared case, and leaves an existing log as it is', async () => {
    const path = join(dir, 'shared')
    await (await openLog({ path, directoryMode: 0o750 })).close()
    expect(await modeOf(path)).toBe(0o750)
    await (await openLog({ path })).close()
    expect(await modeOf(path)).toBe(0o750)
  })

  it('refuses a directoryMode that is no mode, or one without a path', async () => {
    expect(await codeOf(openLog({ path: join(dir, 'x'), directoryMode: 0o1777 }))).toBe(
      'INVALID_ARGUMENT',
    )
    expect(await codeOf(openLog({ path: join(dir, 'x'), directoryMode: -1 }))).toBe(
      'INVALID_ARGUMENT',
    )
    expect(await codeOf(openEventStore({ log: {} as Log, directoryMode: 0o700 }))).toBe(
      'INVALID_ARGUMENT',
    )
    expect(await readdir(dir)).toEqual([])
  })
})

// A read-only file system, made without privileges: a child process in its own user and mount
// namespace bind-mounts the directory read-only over itself.
const unshareWorks = spawnSync('unshare', ['-rm', 'true']).status === 0

describe.runIf(unshareWorks)('a read-only file system', () => {
  it('is READ_ONLY for openLog, never LOCKED; a CLI reader reads the log', async () => {
    const path = join(dir, 'log')
    await writeLog(path, 3)
    const script = join(dir, 'open.mts')
    await writeFile(
      script,
      `import { openLog } from ${JSON.stringify(sourceEntry)}\n` +
        `const codes = []\n` +
        `for (const p of [${JSON.stringify(path)}, ${JSON.stringify(join(dir, 'new', 'deeper'))}]) {\n` +
        `  try { await (await openLog({ path: p })).close(); codes.push('opened') }\n` +
        `  catch (e) { codes.push(e.code + ': ' + e.message) }\n` +
        `}\n` +
        `console.log(JSON.stringify(codes))\n`,
    )
    const cli = new URL('../../src/cli/main.ts', import.meta.url).pathname
    const before = await fingerprint(path)
    const child = spawnSync(
      'unshare',
      [
        '-rm',
        'sh',
        '-c',
        'mount --bind "$1" "$1" && mount -o remount,bind,ro "$1" && "$2" $3 && "$2" $4 stats --db "$1/log"',
        'sh',
        dir,
        process.execPath,
        typeScriptArgs(script).join(' '),
        typeScriptArgs(cli).join(' '),
      ],
      { encoding: 'utf8', timeout: 60_000 },
    )
    const codes = JSON.parse(child.stdout.split('\n')[0] ?? '') as string[]
    expect(codes).toHaveLength(2)
    for (const code of codes) expect(code).toMatch(/^READ_ONLY: .*read-only/i)
    // The reader opens the log read-only, which needs no write.
    expect(child.stderr).toBe('')
    expect(child.stdout).toMatch(/^entries +3$/m)
    expect(child.status).toBe(0)
    expect(await fingerprint(path)).toEqual(before)
  })
})
