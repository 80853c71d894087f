// The deltalog bin as a user runs it: built once with the project's build, then spawned as
// `node dist/cli/main.js …` with real directories, stdin and exit codes.
import { execFileSync, spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process'
import { cp, mkdir, readdir, readFile, symlink, writeFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import * as E from 'fp-ts/lib/Either.js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import * as O from 'fp-ts/lib/Option.js'
import { seqBlockKey } from '../../src/codec/records.js'
import { keyBytes } from '../../src/codec/keys.js'
import { toCommitBatch } from '../../src/delta/delta.js'
import { lastLink } from '../../src/log/read.js'
import { openLog } from '../../src/openLog.js'
import { openPostgresStorageTE as openPostgresStorage } from '../../src/postgres/storage.js'
import { openRocksStorage } from '../../src/storage/rocksdb.js'
import { dropTables, freshTable, postgresRuns, postgresUrl } from '../postgres/server.js'
import { fingerprint } from '../support/snapshot.js'
import { makeTempDir, removeDir } from '../support/tmpdir.js'

const root = fileURLToPath(new URL('../..', import.meta.url))
const bin = join(root, 'dist/cli/main.js')
let dir = ''

// The project's build without its type check (`npm run typecheck` does that): the same files, in
// about half the time.
beforeAll(() => {
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc')
  execFileSync(process.execPath, [tsc, '-p', 'tsconfig.build.json', '--noCheck'], { cwd: root })
}, 120_000)
beforeAll(async () => {
  dir = await makeTempDir('cli')
})
afterAll(() => removeDir(dir))

const run = (args: ReadonlyArray<string>, input?: string): SpawnSyncReturns<string> =>
  spawnSync(process.execPath, [bin, ...args], {
    cwd: dir,
    encoding: 'utf8',
    timeout: 60_000,
    ...(input === undefined ? {} : { input }),
  })

/** Stderr without the plain progress lines a slow run may print. */
const errors = (stderr: string): string => stderr.replace(/^(verify|import): \d+.*\n/gm, '')

/** Runs a command that must succeed and returns its stdout. */
const ok = (args: ReadonlyArray<string>, input?: string): string => {
  const child = run(args, input)
  expect(errors(child.stderr)).toBe('')
  expect(child.status).toBe(0)
  return child.stdout
}

/** Runs a command that must fail with a usage error: one line on stderr, exit code 2. */
const usageError = (args: ReadonlyArray<string>, input?: string): string => {
  const child = run(args, input)
  expect(child.status).toBe(2)
  expect(child.stdout).toBe('')
  const lines = child.stderr.trimEnd().split('\n')
  expect(lines).toHaveLength(1)
  expect(child.stderr).not.toMatch(/\n\s+at /)
  return lines[0] ?? ''
}

const jsonLines = (text: string): unknown[] =>
  text
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as unknown)

describe('append, scan, stats, verify', () => {
  it('appends from --value and from stdin and prints the ranges', () => {
    expect(ok(['append', '--db', 'a', '--key', 'orders', '--value', 'order-1'])).toBe(
      'appended 1 record: sequences 0..0\n',
    )
    const range: unknown = JSON.parse(
      ok(['append', '--db', 'a', '--key', 'users', '--json'], 'ann\nbob\n'),
    )
    expect(range).toMatchObject({ count: 2 })
    const ndjson = '{"key":"orders","value":"order-2"}\n{"key":"bin","valueBase64":"AP8="}\n'
    expect(ok(['append', '--db', 'a', '--ndjson'], ndjson)).toMatch(/^appended 2 records: /)
    expect(ok(['append', '--db', 'a', '--key', 'b64', '--base64'], 'aGk=\n')).toMatch(
      /^appended 1 record: /,
    )
  })

  it('appends every line of stdin, an empty one as an empty value', () => {
    const range: unknown = JSON.parse(
      ok(['append', '--db', 'lines', '--key', 'k', '--json'], 'a\n\n  \nb\n'),
    )
    expect(range).toEqual({ startSequence: 0, count: 4 })
    // A final newline ends the last line; it adds no empty record.
    expect(ok(['append', '--db', 'lines', '--key', 'k'], 'c\n')).toMatch(/^appended 1 record: /)
    expect(ok(['append', '--db', 'lines', '--key', 'k'], '\n')).toMatch(/^appended 1 record: /)
    const values = jsonLines(ok(['export', '--db', 'lines'])).map(
      (line) => (line as { value: string }).value,
    )
    expect(values).toEqual(['a', '', '  ', 'b', 'c', ''])
  })

  it('appends nothing from empty stdin, says so, and creates no directory', async () => {
    expect(ok(['append', '--db', 'nothing', '--key', 'k'], '')).toBe(
      'appended nothing: stdin held no record\n',
    )
    expect(ok(['append', '--db', 'nothing', '--ndjson', '--json'], '')).toBe('{"count":0}\n')
    expect(await readdir(dir)).not.toContain('nothing')
  })

  it('skips blank NDJSON lines and says which on stderr', () => {
    const child = run(
      ['append', '--db', 'blank-ndjson', '--ndjson'],
      '{"key":"k","value":"x"}\n\n{"key":"k","value":"y"}\n \n',
    )
    expect(child.status).toBe(0)
    expect(child.stdout).toMatch(/^appended 2 records: /)
    expect(child.stderr).toBe('deltalog: note: skipped 2 blank lines of stdin (lines 2, 4)\n')
  })

  it('scans one key or all, as text or NDJSON, with bounds, limit and reverse', () => {
    const text = ok(['scan', '--db', 'a']).trim().split('\n')
    expect(text.map((l) => l.split('\t').slice(1))).toEqual([
      ['orders', 'order-1'],
      ['users', 'ann'],
      ['users', 'bob'],
      ['orders', 'order-2'],
      ['bin', '\\x00\\xff'],
      ['b64', 'hi'],
    ])
    const orders = jsonLines(ok(['scan', '--db', 'a', '--key', 'orders', '--json']))
    expect(orders).toMatchObject([
      { key: 'orders', value: 'order-1', sequence: 0 },
      { key: 'orders', value: 'order-2' },
    ])
    const last = jsonLines(ok(['scan', '--db', 'a', '--json', '--reverse', '--limit', '1']))
    expect(last).toMatchObject([{ key: 'b64', value: 'hi' }])
    const bounded = jsonLines(ok(['scan', '--db', 'a', '--json', '--from', '1', '--to', '4097']))
    expect(bounded).toMatchObject([{ sequence: 4096, key: 'users', value: 'ann' }])
  })

  it('reports stats as text and JSON', () => {
    expect(ok(['stats', '--db', 'a'])).toMatch(/^entries +6\nkeys +4\nnext sequence +\d+\n/)
    const stats = JSON.parse(ok(['stats', '--db', 'a', '--json'])) as Record<string, unknown>
    expect(stats).toMatchObject({ entries: 6, keys: 4 })
    expect(stats['nextSequence']).toBe(stats['durableSequence'])
    // Read without the writer, the log ends one past its last entry, within the stored block.
    const last = jsonLines(ok(['scan', '--db', 'a', '--json'])).at(-1) as { sequence: number }
    expect(stats['nextSequence']).toBe(last.sequence + 1)
    const block = stats['seqBlock'] as { baseSequence: number; nextBase: number }
    expect(block.baseSequence).toBeLessThanOrEqual(last.sequence)
    expect(block.nextBase).toBeGreaterThan(last.sequence)
    expect(stats['sizeOnDisk']).toBeGreaterThan(0)
  })

  it('verifies a sound log', () => {
    expect(ok(['verify', '--db', 'a'])).toMatch(/ok: every check held\n$/)
    expect(JSON.parse(ok(['verify', '--db', 'a', '--json']))).toMatchObject({
      ok: true,
      entries: 6,
      violations: [],
    })
  })

  it('says that a head inside a commit is no head of the log, not that the log was rewritten', () => {
    // `users` got ann and bob in one commit: no commit ends between them.
    const entries = jsonLines(ok(['export', '--db', 'a'])) as Array<{
      sequence: number
      value: string
    }>
    const at = entries.findIndex((e) => e.value === 'bob')
    const bob = entries[at]?.sequence ?? -1
    // The commit before ends after the entry before ann.
    const before = (entries[at - 2]?.sequence ?? -1) + 1
    const head = `${bob}:${'0'.repeat(64)}`
    const refused = run(['verify', '--db', 'a', '--head', head])
    expect(refused.status).toBe(1)
    expect(refused.stdout).toContain(
      `violation: no commit of the log ends at ${bob} (one ends at ${before}, the next at ${bob + 1}), so the recorded head is no head of this log (a head ends a commit, as log.head() and verify print it): it was taken from another log or mistyped, or the log was rewritten since\n`,
    )
    expect(refused.stdout).not.toContain('the log was rewritten:')
  })

  it('catches a commit written past the SeqBlock through the storage adapter', async () => {
    ok(['append', '--db', 'corrupt', '--key', 'k', '--value', 'v'])
    const storage = await openRocksStorage(join(dir, 'corrupt'))
    // A commit that continues the chain, so that only the SeqBlock bound is broken.
    const rogue = toCommitBatch(
      {
        segments: [{ first: 1_000_000, keys: [keyBytes('k')], values: [keyBytes('x')] }],
        seqBlock: O.none,
      },
      await lastLink(storage),
    )
    expect(E.isRight(await storage.write(rogue.ops, { sync: true })())).toBe(true)
    await storage.close()()
    const child = run(['verify', '--db', 'corrupt'])
    expect(child.status).toBe(1)
    expect(child.stdout).toContain(
      `violation: the commit at 1000000 holds sequences up to 1000000, at or above the SeqBlock's nextBase`,
    )
    expect(child.stdout).toMatch(/FAILED: 1 violation\n$/)
    const json = run(['verify', '--db', 'corrupt', '--json'])
    expect(json.status).toBe(1)
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: false, violationCount: 1 })
  })

  it('converts a log written by deltalog 0.1, which the other commands refuse until then', async () => {
    await cp(fileURLToPath(new URL('../fixtures/log-0.1', import.meta.url)), join(dir, 'old'), {
      recursive: true,
    })
    expect(usageError(['scan', '--db', 'old'])).toMatch(
      /^deltalog: MIGRATION_NEEDED: .*deltalog migrate --db DIR/,
    )
    // A command that writes is refused before RocksDB opens the database to write.
    const before = await fingerprint(join(dir, 'old'))
    expect(usageError(['append', '--db', 'old', '--key', 'k', '--value', 'v'])).toMatch(
      /^deltalog: MIGRATION_NEEDED: /,
    )
    expect(await fingerprint(join(dir, 'old'))).toEqual(before)
    expect(ok(['migrate', '--db', 'old'])).toMatch(
      /^converted \d+ entries into \d+ format 2 commits and removed \d+ format 1 records\nhead: \d+ [0-9a-f]{64}\n$/,
    )
    expect(ok(['migrate', '--db', 'old'])).toBe('already format 2: nothing to do\n')
    expect(ok(['verify', '--db', 'old'])).toMatch(/ok: every check held\n$/)
    expect(jsonLines(ok(['export', '--db', 'old'])).length).toBeGreaterThan(0)
    // The head verify prints is what a later verify proves the log still passes through.
    const { head } = JSON.parse(ok(['verify', '--db', 'old', '--json'])) as {
      head: { sequence: number; checksum: string }
    }
    ok(['append', '--db', 'old', '--key', 'k', '--value', 'after'])
    const pinned = `${head.sequence}:${head.checksum}`
    expect(ok(['verify', '--db', 'old', '--head', pinned])).toMatch(/ok: every check held\n$/)
    const forged = `${head.sequence}:${'0'.repeat(64)}`
    const refused = run(['verify', '--db', 'old', '--head', forged])
    expect(refused.status).toBe(1)
    expect(refused.stdout).toContain(
      `violation: the log was rewritten: its chain at ${head.sequence}`,
    )
    expect(usageError(['verify', '--db', 'old', '--head', 'nonsense'])).toMatch(
      /^deltalog: INVALID_ARGUMENT: .*SEQUENCE:CHECKSUM/,
    )
  })
})

describe('export and import', () => {
  it('reproduces the input: import into an empty directory, then export', () => {
    const exported = ok(['export', '--db', 'a'])
    expect(jsonLines(exported)).toHaveLength(6)
    expect(ok(['import', '--db', 'copy'], exported)).toBe('imported 6 entries\n')
    expect(ok(['export', '--db', 'copy'])).toBe(exported)
    expect(ok(['verify', '--db', 'copy'])).toMatch(/ok: every check held/)
    // The allocator resumes above every imported sequence.
    const next = JSON.parse(
      ok(['append', '--db', 'copy', '--key', 'k', '--value', 'v', '--json']),
    ) as { startSequence: number }
    const last = jsonLines(exported).at(-1) as { sequence: number }
    expect(next.startSequence).toBeGreaterThan(last.sequence)
  })

  it('refuses to import into a log that is not empty', () => {
    expect(usageError(['import', '--db', 'a'], '{"sequence":0,"key":"k","value":"v"}\n')).toMatch(
      /^deltalog: NOT_EMPTY: a already holds a log/,
    )
  })

  it('resumes with --resume only a log that holds the start of the input', () => {
    const exported = ok(['export', '--db', 'a'])
    expect(ok(['import', '--db', 'a', '--resume'], exported)).toBe(
      'nothing to import: the log already holds all 6 entries of the input\n',
    )
    expect(
      usageError(['import', '--db', 'a', '--resume'], exported.replace('"value":"', '"value":"w')),
    ).toMatch(
      /^deltalog: NOT_EMPTY: cannot resume: a does not hold the start of the input: its entry at sequence \d+ differs from stdin line 1 in its value$/,
    )
  })

  it('imports all or nothing: a bad line late in the input writes nothing', async () => {
    // Past the importer's commits of 1000 entries: before, the first two commits stayed.
    const lines = Array.from({ length: 2500 }, (_, i) =>
      JSON.stringify({ sequence: i, key: 'k', value: `v${i}` }),
    )
    const bad = [...lines.slice(0, 2100), '{"sequence":2100,"key":', ...lines.slice(2100)]
    expect(usageError(['import', '--db', 'late'], `${bad.join('\n')}\n`)).toBe(
      'deltalog: INVALID_ARGUMENT: stdin line 2101: is not valid JSON',
    )
    expect(await readdir(dir)).not.toContain('late')
    // So is a key the log would refuse (longer than maxKeyBytes), and a directory that was
    // empty stays so.
    await mkdir(join(dir, 'late-empty'))
    const long = [...lines, JSON.stringify({ sequence: 2500, key: 'k'.repeat(4097), value: '' })]
    expect(usageError(['import', '--db', 'late-empty'], `${long.join('\n')}\n`)).toBe(
      'deltalog: INVALID_ARGUMENT: stdin line 2501.key: is 4097 bytes; maxKeyBytes is 4096',
    )
    expect(await readdir(join(dir, 'late-empty'))).toEqual([])
    // Nothing to undo: the input, fixed, imports at once.
    expect(ok(['import', '--db', 'late'], `${lines.join('\n')}\n`)).toBe('imported 2500 entries\n')
    // A regular file as stdin is read twice where it is, not copied.
    await writeFile(join(dir, 'input.ndjson'), `${bad.join('\n')}\n`)
    const fromFile = spawnSync(
      'sh',
      ['-c', `"${process.execPath}" "${bin}" import --db late-file < input.ndjson`],
      { cwd: dir, encoding: 'utf8' },
    )
    expect(fromFile.stderr).toBe('deltalog: INVALID_ARGUMENT: stdin line 2101: is not valid JSON\n')
    expect(await readdir(dir)).not.toContain('late-file')
  })

  it('names the bad line of an import', () => {
    const input = '{"sequence":5,"key":"k","value":"v"}\n{"sequence":3,"key":"k","value":"v"}\n'
    expect(usageError(['import', '--db', 'bad-import'], input)).toBe(
      'deltalog: INVALID_ARGUMENT: stdin line 2.sequence: must be above the one before (5), got 3',
    )
    expect(usageError(['import', '--db', 'bad-import-2'], 'nope\n')).toBe(
      'deltalog: INVALID_ARGUMENT: stdin line 1: is not valid JSON',
    )
  })
})

describe('follow', () => {
  it('prints existing entries, then those other processes append, and exits 0 on SIGINT', async () => {
    const child = spawn(
      process.execPath,
      [bin, 'follow', '--db', 'a', '--key', 'orders', '--json', '--from', '0'],
      { cwd: dir },
    )
    let out = ''
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk))
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (out += `stderr: ${chunk}`))
    const until = async (predicate: () => boolean): Promise<void> => {
      while (!predicate()) await new Promise((r) => setTimeout(r, 20))
    }
    await until(() => out.split('\n').length > 2)
    ok(['append', '--db', 'a', '--key', 'orders', '--value', 'live'])
    await until(() => out.includes('live'))
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve))
    child.kill('SIGINT')
    expect(await exited).toBe(0)
    expect(jsonLines(out).map((e) => (e as { value: string }).value)).toEqual([
      'order-1',
      'order-2',
      'live',
    ])
  })
})

describe('readers beside a process that holds the log', () => {
  it('follow prints what the holder appends while it closes and reopens its log, which never fails', async () => {
    // The holder is a service in this process: it keeps the log open, and restarts now and then.
    let service = await openLog({ path: join(dir, 'service') })
    await service.append([{ key: 'k', value: 'v0' }])
    const child = spawn(
      process.execPath,
      [bin, 'follow', '--db', 'service', '--from', '0', '--json'],
      {
        cwd: dir,
      },
    )
    let out = ''
    let err = ''
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk))
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (err += chunk))
    const lines = (): number => out.split('\n').length - 1
    const until = async (predicate: () => boolean): Promise<void> => {
      for (let waited = 0; !predicate(); waited += 20) {
        if (waited > 20_000 || child.exitCode !== null) throw new Error(`follow: ${out}${err}`)
        await new Promise((r) => setTimeout(r, 20))
      }
    }
    try {
      await until(() => lines() === 1)
      for (let restart = 1; restart <= 10; restart++) {
        await service.close()
        service = await openLog({ path: join(dir, 'service') })
        await service.append([{ key: 'k', value: `v${restart}` }])
        await new Promise((r) => setTimeout(r, 40))
      }
      await until(() => lines() === 11)
    } finally {
      await service.close()
    }
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve))
    child.kill('SIGTERM')
    expect(await exited).toBe(0)
    expect(err).toBe('')
    expect(jsonLines(out).map((e) => (e as { value: string }).value)).toEqual(
      Array.from({ length: 11 }, (_, i) => `v${i}`),
    )
  })

  it('stats and scan read a log another process holds; append still waits for it, then LOCKED', async () => {
    const log = await openLog({ path: join(dir, 'held') })
    try {
      await log.append([{ key: 'k', value: 'held-1' }])
      expect(ok(['scan', '--db', 'held'])).toBe('0\tk\theld-1\n')
      expect(ok(['stats', '--db', 'held'])).toMatch(/^entries +1$/m)
      expect(usageError(['append', '--db', 'held', '--key', 'k', '--value', 'v'])).toMatch(
        /^deltalog: LOCKED: /,
      )
    } finally {
      await log.close()
    }
  })
})

describe('errors', () => {
  it('reports bad flags and values in one line with exit code 2', () => {
    expect(usageError(['scan', '--db', 'a', '--from', 'ten'])).toBe(
      'deltalog: INVALID_ARGUMENT: --from: must be a non-negative integer, got "ten"',
    )
    expect(usageError(['scan', '--db', 'a', '--bogus'])).toBe("deltalog: unknown option '--bogus'")
    expect(usageError(['scan'])).toBe("deltalog: required option '--db <dir|url>' not specified")
    expect(usageError(['frobnicate'])).toBe("deltalog: unknown command 'frobnicate'")
    expect(usageError(['append', '--db', 'a', '--value', 'v'])).toBe(
      'deltalog: INVALID_ARGUMENT: --key: is required',
    )
    expect(usageError(['append', '--db', 'a', '--key', 'k', '--value', '!', '--base64'])).toBe(
      'deltalog: INVALID_ARGUMENT: --value: is not valid base64',
    )
    expect(usageError(['demo', '--db', 'd', '--kills', '0'])).toBe(
      'deltalog: INVALID_ARGUMENT: --kills: must be a positive integer, got "0"',
    )
  })

  it('reports a missing directory for every command that reads', () => {
    for (const command of ['scan', 'follow', 'stats', 'verify', 'export']) {
      expect(usageError([command, '--db', 'missing'])).toBe(
        'deltalog: INVALID_ARGUMENT: --db: missing does not exist',
      )
    }
  })

  it('creates no file in a directory that holds no log, for every command that reads', async () => {
    await mkdir(join(dir, 'plain'))
    await mkdir(join(dir, 'notes'))
    await writeFile(join(dir, 'notes', 'todo.txt'), 'buy milk')
    const before = await fingerprint(join(dir, 'notes'))
    for (const command of ['scan', 'follow', 'stats', 'verify', 'export']) {
      expect(usageError([command, '--db', 'plain'])).toBe(
        'deltalog: NOT_A_LOG: plain holds no deltalog log',
      )
      expect(usageError([command, '--db', 'notes'])).toMatch(
        /^deltalog: NOT_A_LOG: notes is not empty and holds no deltalog log \(todo\.txt\); nothing was changed/,
      )
    }
    expect(await readdir(join(dir, 'plain'))).toEqual([])
    expect(await fingerprint(join(dir, 'notes'))).toEqual(before)
    // A writer refuses the directory with files too.
    expect(usageError(['append', '--db', 'notes', '--key', 'k', '--value', 'v'])).toMatch(
      /^deltalog: NOT_A_LOG: /,
    )
    expect(await fingerprint(join(dir, 'notes'))).toEqual(before)
  })

  it('reports a corrupt log in one line, and verify names the problem', async () => {
    ok(['append', '--db', 'bad-block', '--key', 'k', '--value', 'v'])
    const storage = await openRocksStorage(join(dir, 'bad-block'))
    const put = await storage.write([{ type: 'put', key: seqBlockKey, value: Uint8Array.of(1) }], {
      sync: true,
    })()
    expect(E.isRight(put)).toBe(true)
    await storage.close()()
    for (const command of ['stats', 'scan', 'export']) {
      expect(usageError([command, '--db', 'bad-block'])).toBe(
        'deltalog: CORRUPTION: SeqBlock must be 16 bytes, got 1',
      )
    }
    const verified = run(['verify', '--db', 'bad-block'])
    expect(verified.status).toBe(1)
    expect(verified.stdout).toContain(
      'violation: the SeqBlock does not decode: SeqBlock must be 16 bytes, got 1',
    )
  })

  // Every command, in the order `deltalog --help` lists them.
  const commands = [
    'append',
    'scan',
    'follow',
    'stats',
    'verify',
    'migrate',
    'export',
    'import',
    'demo',
  ]

  it('lists every command in its help, in order', () => {
    for (const args of [['--help'], ['help'], []]) {
      const child = run(args)
      // Without a command, the help goes to stderr: a usage error, exit code 2.
      const help = args.length === 0 ? child.stderr : child.stdout
      expect(child.status).toBe(args.length === 0 ? 2 : 0)
      expect(help).toMatch(/^Usage: deltalog \[options\] \[command\]\n/)
      const listed = [...help.matchAll(/^ {2}([a-z]+) \[(?:options|command)\]/gm)].map((m) => m[1])
      expect(listed).toEqual([...commands, 'help'])
    }
  })

  it('prints help for every command with exit code 0', () => {
    for (const command of commands) {
      const child = run([command, '--help'])
      expect(child.status).toBe(0)
      expect(child.stdout).toContain(`Usage: deltalog ${command}`)
      // The demo and migrate are for directories; every other command takes a URL and a table.
      const directoryOnly = command === 'demo' || command === 'migrate'
      expect(child.stdout).toContain(directoryOnly ? '--db <dir>' : '--db <dir|url>')
      expect(child.stdout.includes('--table <name>')).toBe(!directoryOnly)
    }
  })
})

describe('version', () => {
  it('prints the version in package.json and exits 0', async () => {
    const { version } = JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as {
      version: string
    }
    for (const flag of ['--version', '-v']) {
      const child = run([flag])
      expect(child.status).toBe(0)
      expect(child.stderr).toBe('')
      expect(child.stdout).toBe(`${version}\n`)
    }
  })

  it('reads package.json when it runs, not when it was built', async () => {
    const copy = join(dir, 'package-copy')
    await cp(join(root, 'dist'), join(copy, 'dist'), { recursive: true })
    await symlink(join(root, 'node_modules'), join(copy, 'node_modules'), 'dir')
    await writeFile(
      join(copy, 'package.json'),
      JSON.stringify({ name: 'deltalog', version: '9.8.7-test', type: 'module' }),
    )
    const child = spawnSync(process.execPath, [join(copy, 'dist/cli/main.js'), '--version'], {
      encoding: 'utf8',
      timeout: 60_000,
    })
    expect(child.status).toBe(0)
    expect(child.stdout).toBe('9.8.7-test\n')
  })
})

describe('demo', () => {
  it('survives a few SIGKILLs, prints its summary and exits 0', async () => {
    const child = run(['demo', '--db', 'demo', '--kills', '2', '--seed', '7'])
    expect(child.stderr).toBe('')
    expect(child.status).toBe(0)
    expect(child.stdout).toMatch(/crashes survived +2\n/)
    expect(child.stdout).toMatch(/violations +0\n/)
    expect(child.stdout).toContain('every check held')
    // The directory it leaves is a log the other commands read.
    expect(JSON.parse(ok(['verify', '--db', 'demo', '--json']))).toMatchObject({ ok: true })
    // A second run recreates its own directory, but never one it did not make.
    expect(run(['demo', '--db', 'demo', '--kills', '1']).status).toBe(0)
    expect(usageError(['demo', '--db', 'a', '--kills', '1'])).toMatch(
      /^deltalog: INVALID_ARGUMENT: --db: a is not empty and is no demo directory/,
    )
    expect(await readFile(join(dir, 'a', 'CURRENT'), 'utf8')).toMatch(/^MANIFEST/)
  }, 60_000)
})

describe.runIf(postgresRuns)('a log on PostgreSQL', () => {
  it('imports into a new table, and refuses a table that holds a log with NOT_EMPTY', async () => {
    const table = freshTable()
    const at = ['--db', postgresUrl ?? '', '--table', table]
    const input = '{"sequence":3,"key":"k","value":"v3"}\n{"sequence":9,"key":"k","value":"v9"}\n'
    try {
      expect(ok(['import', ...at], input)).toBe('imported 2 entries\n')
      expect(ok(['export', ...at])).toBe(input)
      expect(usageError(['import', ...at], input)).toMatch(/^deltalog: NOT_EMPTY: table log_\w+ /)
    } finally {
      await dropTables(table)
    }
  })

  it('is read and written with --db URL --table; follow is woken by commits; no password shows', async () => {
    const table = freshTable()
    // The test server trusts the role, so a password in the URL is given and never needed.
    const url = (postgresUrl ?? '').replace('//deltalog@', '//deltalog:s3cr3t@')
    expect(url).toContain('s3cr3t')
    const at = ['--db', url, '--table', table]
    try {
      ok(['append', ...at, '--key', 'k', '--value', 'v0'])
      ok(['append', ...at, '--key', 'k'], 'v1\nv2\n')
      // Each append opens the log anew, and a new writer starts a new block of numbers.
      expect(ok(['scan', ...at])).toBe('0\tk\tv0\n4096\tk\tv1\n4097\tk\tv2\n')
      expect(JSON.parse(ok(['stats', ...at, '--json']))).toMatchObject({
        entries: 3,
        nextSequence: 4098,
        sizeOnDisk: null,
      })
      expect(ok(['verify', ...at])).toContain('ok: every check held')

      const child = spawn(process.execPath, [bin, 'follow', ...at, '--from', '1', '--json'], {
        cwd: dir,
      })
      let out = ''
      let err = ''
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk))
      child.stderr.setEncoding('utf8').on('data', (chunk: string) => (err += chunk))
      const until = async (lines: number): Promise<void> => {
        for (let waited = 0; out.split('\n').length - 1 < lines; waited += 20) {
          if (waited > 20_000 || child.exitCode !== null) throw new Error(`follow: ${out}${err}`)
          await new Promise((r) => setTimeout(r, 20))
        }
      }
      await until(2)
      ok(['append', ...at, '--key', 'k', '--value', 'v3'])
      await until(3)
      const exited = new Promise<number | null>((resolve) => child.on('exit', resolve))
      child.kill('SIGTERM')
      expect(await exited).toBe(0)
      expect(err).toBe('')
      expect(jsonLines(out).map((e) => (e as { value: string }).value)).toEqual(['v1', 'v2', 'v3'])

      // A failure names what failed, never the password.
      const failed = usageError([
        'scan',
        '--db',
        url.replace('deltalog_test', 'no_such_db'),
        '--table',
        table,
      ])
      expect(failed).toMatch(/^deltalog: IO_ERROR: postgres open .*no_such_db/)
      expect(failed).not.toContain('s3cr3t')
      // A service writing to the log is not fenced by an import that is refused.
      const opened = await openPostgresStorage({ connection: { connectionString: url }, table })()
      if (E.isLeft(opened)) throw new Error(opened.left.message)
      const service = await openLog({ storage: opened.right })
      const notEmpty = usageError(['import', ...at], '{"sequence":0,"key":"k","value":"v"}\n')
      await service.append([{ key: 'k', value: 'still the writer' }])
      await service.close()
      expect(notEmpty).toMatch(
        /^deltalog: NOT_EMPTY: table log_\w+ at postgresql:\/\/deltalog:\*\*\*@/,
      )
      expect(notEmpty).not.toContain('s3cr3t')
      expect(usageError(['scan', '--db', url])).toMatch(/^deltalog: INVALID_ARGUMENT: --table: /)
      for (const command of [['demo', '--kills', '1'], ['migrate']]) {
        const refused = usageError([...command, '--db', url])
        expect(refused).toMatch(/^deltalog: INVALID_ARGUMENT: --db: /)
        expect(refused).not.toContain('s3cr3t')
      }
      expect(await readdir(dir)).not.toContain('postgresql:')
      expect(usageError(['scan', '--db', 'some-dir', '--table', table])).toMatch(
        /^deltalog: INVALID_ARGUMENT: --table: /,
      )
    } finally {
      await dropTables(table)
    }
  })
})
