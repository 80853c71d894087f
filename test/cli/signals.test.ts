// SIGINT and SIGTERM end every command within a second, whatever it waits for: `follow` stops
// cleanly (exit 0), and a command stuck on a server that does not answer exits with 130 or 143.
// Each case spawns the command line (from source), waits until it is where the signal should
// find it, sends the signal and measures the time to exit. The bound is 1 s (the command line
// allows half a second to stop cleanly); the test allows MARGIN_MS more for a loaded machine.
import { spawn } from 'node:child_process'
import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openLog } from '../../src/index.js'
import { dropTables, freshTable, postgresRuns, postgresUrl } from '../postgres/server.js'
import { typeScriptArgs } from '../support/child.js'
import { silentServer, type SilentServer } from '../support/silentServer.js'
import { makeTempDir, removeDir } from '../support/tmpdir.js'

const main = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url))
const BOUND_MS = 1000
const MARGIN_MS = 500

/**
 * Runs the command line with `args` (and `input` on stdin, left open without it, and `env` added
 * to its environment), sends `signal` once `ready()` holds, and resolves with its exit code, its
 * stderr and how long it took to exit after the signal.
 */
const interrupt = async (
  args: ReadonlyArray<string>,
  ready: (stdout: string) => boolean,
  signal: 'SIGINT' | 'SIGTERM' = 'SIGINT',
  input?: string,
  env: Readonly<Record<string, string>> = {},
): Promise<{ code: number | null; stderr: string; ms: number }> => {
  const child = spawn(process.execPath, typeScriptArgs(main, args), {
    stdio: 'pipe',
    env: { ...process.env, ...env },
  })
  if (input !== undefined) child.stdin.end(input)
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  for (let waited = 0; !ready(stdout); waited += 20) {
    if (child.exitCode !== null) throw new Error(`exited before the signal: ${stderr}`)
    if (waited > 20_000) throw new Error(`never ready: ${stdout}${stderr}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  const sent = Date.now()
  child.kill(signal)
  const code = await exited
  return { code, stderr, ms: Date.now() - sent }
}

let dir = ''
beforeAll(async () => {
  dir = await makeTempDir('signals')
  const log = await openLog({ path: dir })
  await log.append([{ key: 'k', value: 'v' }])
  await log.close()
})
afterAll(() => removeDir(dir))

/** A server of its own for one test, closed after it. */
const server = async (
  mode: 'mute' | 'stall',
  use: (server: SilentServer, ready: () => boolean) => Promise<void>,
): Promise<void> => {
  const silent = await silentServer(mode)
  try {
    await use(silent, () => silent.open() > 0)
  } finally {
    await silent.close()
  }
}

describe.concurrent('a signal ends a command within a second', () => {
  it('ends follow on a directory cleanly on SIGINT', async () => {
    const ended = await interrupt(['follow', '--db', dir, '--from', '0'], (out) => out !== '')
    expect(ended).toMatchObject({ code: 0, stderr: '' })
    expect(ended.ms).toBeLessThan(BOUND_MS + MARGIN_MS)
  })

  it('ends follow waiting for a server that never answers, on SIGTERM', () =>
    server('mute', async (mute, ready) => {
      const ended = await interrupt(
        ['follow', '--db', mute.url, '--table', 'log'],
        ready,
        'SIGTERM',
      )
      expect(ended).toMatchObject({ code: 143, stderr: 'deltalog: interrupted by SIGTERM\n' })
      expect(ended.ms).toBeLessThan(BOUND_MS + MARGIN_MS)
    }))

  it('ends scan waiting for a server that never answers, on SIGINT', () =>
    server('mute', async (mute, ready) => {
      const ended = await interrupt(['scan', '--db', mute.url, '--table', 'log'], ready)
      expect(ended).toMatchObject({ code: 130, stderr: 'deltalog: interrupted by SIGINT\n' })
      expect(ended.ms).toBeLessThan(BOUND_MS + MARGIN_MS)
    }))

  it('ends append waiting for the answer to a statement, on SIGINT', () =>
    server('stall', async (stall, ready) => {
      const args = ['append', '--db', stall.url, '--table', 'log', '--key', 'k']
      const ended = await interrupt(args, ready, 'SIGINT', 'v\n')
      expect(ended).toMatchObject({ code: 130, stderr: 'deltalog: interrupted by SIGINT\n' })
      expect(ended.ms).toBeLessThan(BOUND_MS + MARGIN_MS)
    }))

  it('ends import copying stdin on SIGINT, leaving neither the copy nor a log', async () => {
    const tmp = await makeTempDir('signals-import')
    try {
      const copies = (): string[] => readdirSync(tmp).filter((n) => n.startsWith('deltalog-stdin-'))
      const args = ['import', '--db', join(tmp, 'imported')]
      const ended = await interrupt(args, () => copies().length > 0, 'SIGINT', undefined, {
        TMPDIR: tmp,
      })
      expect(ended).toMatchObject({ code: 130, stderr: 'deltalog: interrupted by SIGINT\n' })
      expect(ended.ms).toBeLessThan(BOUND_MS + MARGIN_MS)
      // tsx, which runs the command line from source here, keeps its cache there too.
      expect(readdirSync(tmp).filter((n) => !n.startsWith('tsx-'))).toEqual([])
    } finally {
      await removeDir(tmp)
    }
  })

  it.runIf(postgresRuns)('ends follow on a PostgreSQL table cleanly on SIGINT', async () => {
    if (postgresUrl === undefined) throw new Error('no server')
    const table = freshTable()
    try {
      const { openPostgresStorage } = await import('../../src/postgres/storage.js')
      const log = await openLog({
        storage: await openPostgresStorage({
          connection: { connectionString: postgresUrl },
          table,
        }),
      })
      await log.append([{ key: 'k', value: 'v' }])
      await log.close()
      const args = ['follow', '--db', postgresUrl, '--table', table, '--from', '0']
      const ended = await interrupt(args, (out) => out !== '')
      expect(ended).toMatchObject({ code: 0, stderr: '' })
      expect(ended.ms).toBeLessThan(BOUND_MS + MARGIN_MS)
    } finally {
      await dropTables(table)
    }
  })
})

describe('a command on a server that never answers', () => {
  it('fails with IO_ERROR after libpq’s connect_timeout (seconds, in the URL)', () =>
    server('mute', async (mute) => {
      const started = Date.now()
      const child = spawn(
        process.execPath,
        typeScriptArgs(main, ['scan', '--db', `${mute.url}&connect_timeout=1`, '--table', 'log']),
        { stdio: 'pipe' },
      )
      let stderr = ''
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
      const code = await new Promise((resolve) => child.on('exit', resolve))
      expect(code).toBe(2)
      expect(stderr).toMatch(
        /^deltalog: IO_ERROR: postgres open log: no connection to the server within 1000 ms\n$/,
      )
      // Its start (a few seconds from source on a loaded machine) and the limit.
      expect(Date.now() - started).toBeLessThan(15_000)
    }))
})
