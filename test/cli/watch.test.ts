// `deltalog stats --watch`: the report refreshed while another writer appends, run in this
// process (stdout captured) with --count; one child process shows that SIGINT ends it with
// exit code 0. The rates' counts are checked against the appends themselves: whatever the
// timing, the commits and entries the refreshes count are exactly those whose first sequence
// lies between the first refresh's head and the last one's.
import { spawn } from 'node:child_process'
import { rmSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import * as E from 'fp-ts/lib/Either.js'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { decodeArgs, StatsArgs } from '../../src/cli/args.js'
import { stats } from '../../src/cli/commands/stats.js'
import type { WatchReport } from '../../src/cli/commands/watch.js'
import { openLog, type Log } from '../../src/openLog.js'
import { openPostgresStorage } from '../../src/postgres/storage.js'
import { dropTables, freshTable, postgresRuns, postgresUrl } from '../postgres/server.js'
import { typeScriptArgs } from '../support/child.js'
import { makeTempDir, removeDir } from '../support/tmpdir.js'

const cleanup: Array<() => Promise<void>> = []
afterEach(async () => {
  vi.restoreAllMocks()
  for (const f of cleanup.splice(0).reverse()) await f()
})

const tempDir = async (): Promise<string> => {
  const dir = await makeTempDir('watch')
  cleanup.push(() => removeDir(dir))
  return dir
}

/** Runs `stats` with `args` in this process; resolves with its outcome and what it printed. */
const run = async (
  args: Record<string, string | boolean>,
): Promise<{ readonly code: number | string; readonly out: string }> => {
  let out = ''
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out += String(chunk)
    return true
  })
  const decoded = decodeArgs(StatsArgs, args)
  if (E.isLeft(decoded)) return { code: decoded.left.code, out }
  const outcome = await stats(decoded.right)
  vi.restoreAllMocks()
  return { code: E.isLeft(outcome) ? outcome.left.code : outcome.right, out }
}

/**
 * Appends commits of 1 to 3 records to `log` until `stop()`: resolves with each commit's first
 * sequence and size.
 */
const appending = (
  log: Log,
): { readonly stop: () => Promise<ReadonlyArray<readonly [number, number]>> } => {
  const commits: Array<readonly [number, number]> = []
  let going = true
  const done = (async () => {
    for (let i = 0; going; i++) {
      const size = (i % 3) + 1
      const range = await log.append(
        Array.from({ length: size }, (_, j) => ({ key: `k${j}`, value: `v${i}` })),
      )
      commits.push([range.startSequence, size])
      await new Promise((resolve) => setTimeout(resolve, 5))
    }
  })()
  return {
    stop: async () => {
      going = false
      await done
      return commits
    },
  }
}

/** The refreshes' counts agree with the commits made: those that began between first and last. */
const checkCounts = (
  reports: ReadonlyArray<WatchReport>,
  commits: ReadonlyArray<readonly [number, number]>,
): void => {
  const [first, ...rest] = reports
  const last = reports.at(-1)
  expect(first).toMatchObject({ intervalMs: null, commits: null, entriesPerSecond: null })
  const between = commits.filter(
    ([start]) => start >= (first?.nextSequence ?? 0) && start < (last?.nextSequence ?? 0),
  )
  expect(rest.reduce((n, r) => n + (r.commits ?? 0), 0)).toBe(between.length)
  expect(rest.reduce((n, r) => n + (r.entries ?? 0), 0)).toBe(
    between.reduce((n, [, size]) => n + size, 0),
  )
  for (const r of rest) {
    expect(r.intervalMs).toBeGreaterThan(0)
    const ms = r.intervalMs ?? 1
    expect(r.entriesPerSecond).toBe(Math.round(((r.entries ?? 0) * 10_000) / ms) / 10)
    expect(r.commitsPerSecond).toBe(Math.round(((r.commits ?? 0) * 10_000) / ms) / 10)
  }
  const heads = reports.map((r) => r.nextSequence)
  expect(heads).toEqual([...heads].sort((a, b) => a - b))
}

const jsonLines = (out: string): WatchReport[] =>
  out
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as WatchReport)

describe('stats --watch on a directory', () => {
  it('prints a JSON line per refresh, --count times, with what was written between', async () => {
    const dir = await tempDir()
    const log = await openLog({ path: dir })
    cleanup.push(() => log.close())
    await log.append([{ key: 'k', value: 'v' }])
    await log.truncateBefore(1)
    const writer = appending(log)
    const { code, out } = await run({
      db: dir,
      watch: true,
      interval: '40',
      count: '4',
      json: true,
    })
    const commits = await writer.stop()
    expect(code).toBe(0)
    const reports = jsonLines(out)
    expect(reports).toHaveLength(4)
    checkCounts(reports, commits)
    expect(reports.at(-1)?.entries).toBeGreaterThanOrEqual(0)
    for (const r of reports) {
      expect(r).toMatchObject({
        storage: 'rocksdb',
        truncatedBefore: 1,
        writer: null,
        listeners: null,
        hiddenSessions: null,
      })
      expect(r.sizeOnDisk).toBeGreaterThan(0)
      expect(r.durableSequence).toBeLessThanOrEqual(r.nextSequence)
      expect(r.notSeen).toMatch(/^pending appends, .*log\.metrics\(\) in the writer's process$/)
    }
  })

  it('prints text blocks, a blank line between, with the line of what it cannot see', async () => {
    const dir = await tempDir()
    const log = await openLog({ path: dir })
    await log.append([{ key: 'k', value: 'v' }])
    await log.close()
    const { code, out } = await run({ db: dir, watch: true, interval: '1', count: '2' })
    expect(code).toBe(0)
    const blocks = out.trimEnd().split('\n\n')
    expect(blocks).toHaveLength(2)
    expect(blocks[0]).toMatch(/^.* at \d{4}-.*\nnext sequence +1 \(rates from the next refresh\)\n/)
    expect(blocks[1]).toMatch(/\nnext sequence +1 \(0 entries\/s, 0 commits\/s over \d+ ms\)\n/)
    expect(blocks[1]).toMatch(/\nnot seen here +pending appends, commit and sync latencies/)
    expect(blocks[1]).not.toMatch(/\nwriter /)
  })

  it('ends with the error of a refresh that fails: a log gone between two refreshes', async () => {
    const dir = await tempDir()
    const log = await openLog({ path: `${dir}/log` })
    await log.append([{ key: 'k', value: 'v' }])
    await log.close()
    expect(await run({ db: `${dir}/none`, watch: true, count: '2' })).toEqual({
      code: 'INVALID_ARGUMENT',
      out: '',
    })
    let out = ''
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      out += String(chunk)
      // The first report is out: the log goes before the next refresh.
      rmSync(`${dir}/log`, { recursive: true, force: true })
      return true
    })
    const args = decodeArgs(StatsArgs, { db: `${dir}/log`, watch: true, interval: '1', count: '3' })
    const outcome = E.isRight(args) ? await stats(args.right) : args
    expect(E.isLeft(outcome) && outcome.left.code).toBe('INVALID_ARGUMENT')
    expect(out.trim().split('\n')).toHaveLength(6)
  })

  it('refuses --interval and --count without --watch, and an interval of 0', async () => {
    const dir = await tempDir()
    expect(await run({ db: dir, count: '2' })).toEqual({ code: 'INVALID_ARGUMENT', out: '' })
    expect(await run({ db: dir, interval: '10' })).toEqual({ code: 'INVALID_ARGUMENT', out: '' })
    const zero = decodeArgs(StatsArgs, { db: dir, watch: true, interval: '0' })
    expect(E.isLeft(zero) && zero.left.field).toBe('--interval')
  })

  it('ends with exit code 0 on SIGINT', async () => {
    const dir = await tempDir()
    const log = await openLog({ path: dir })
    await log.append([{ key: 'k', value: 'v' }])
    await log.close()
    const main = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url))
    const child = spawn(
      process.execPath,
      typeScriptArgs(main, ['stats', '--db', dir, '--watch', '--interval', '20', '--json']),
      { stdio: 'pipe' },
    )
    let out = ''
    let err = ''
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()))
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()))
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve))
    while (out.split('\n').length < 3) {
      if (child.exitCode !== null) throw new Error(`exited early: ${err}`)
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
    child.kill('SIGINT')
    expect(await exited).toBe(0)
    expect(err).toBe('')
    const reports = jsonLines(out)
    expect(reports.length).toBeGreaterThanOrEqual(2)
    expect(reports[1]).toMatchObject({ nextSequence: 1, commits: 0, entries: 0 })
  }, 30_000)
})

describe.runIf(postgresRuns)('stats --watch on PostgreSQL', () => {
  it('shows the writer epoch, its session alive, the followers listening, and the rates', async () => {
    const table = freshTable()
    cleanup.push(() => dropTables(table))
    const connection = { connectionString: postgresUrl ?? '' }
    // Two opens: the second writer's epoch is 2, and the first is fenced.
    await (await openPostgresStorage({ connection, table })).close()()
    const log = await openLog({ storage: await openPostgresStorage({ connection, table }) })
    cleanup.push(() => log.close())
    const readerStorage = await openPostgresStorage({ connection, table, readOnly: true })
    cleanup.push(async () => void (await readerStorage.close()()))
    const reader = await openLog({ storage: readerStorage, readOnly: true })
    cleanup.push(() => reader.close())
    const stop = new AbortController()
    const following = reader.follow({ signal: stop.signal })
    const first = following.next()
    cleanup.push(async () => {
      stop.abort()
      await following.return?.()
    })
    await log.append([{ key: 'k', value: 'v' }])
    await first
    const writer = appending(log)
    const { code, out } = await run({
      db: postgresUrl ?? '',
      table,
      watch: true,
      interval: '40',
      count: '3',
      json: true,
    })
    const commits = await writer.stop()
    expect(code).toBe(0)
    const reports = jsonLines(out)
    expect(reports).toHaveLength(3)
    checkCounts(reports, commits)
    for (const r of reports) {
      expect(r).toMatchObject({ storage: 'postgresql', sizeOnDisk: null, truncatedBefore: 0 })
      expect(r.writer?.epoch).toBe('2')
      expect(r.notSeen).toMatch(/^pending appends, commit and sync latencies, backpressure: /)
      expect(r.hiddenSessions).toBe(0)
    }
    const last = reports.at(-1)
    expect(last?.writer?.alive).toBe(true)
    expect(last?.writer?.sessions.length).toBeGreaterThan(0)
    expect(last?.listeners).toHaveLength(1)
    expect(last?.listeners?.[0]?.pid).toBeGreaterThan(0)
  })
})
