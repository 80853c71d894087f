// Writers and readers of one log on PostgreSQL in several processes: a takeover fences the old
// writer, and followers elsewhere are woken by NOTIFY and get every entry once, in order.
import { afterEach, describe, expect, it } from 'vitest'
import { openLog, verifyStorage } from '../../src/index.js'
import { openPostgresStorage } from '../../src/postgres/storage.js'
import type { Storage } from '../../src/storage/port.js'
import { spawnTypeScript, type RunningChild } from '../support/child.js'
import { connection, dropTables, freshTable, postgresRuns, postgresUrl } from './server.js'

const writerScript = new URL('./children/writer.ts', import.meta.url).pathname
const followerScript = new URL('./children/follower.ts', import.meta.url).pathname

const children: RunningChild[] = []
const tables: string[] = []
afterEach(async () => {
  for (const c of children.splice(0)) c.child.kill('SIGKILL')
  for (const t of tables.splice(0)) await dropTables(t)
})

const newTable = (): string => {
  const table = freshTable()
  tables.push(table)
  return table
}

const start = (
  script: string,
  table: string,
  args: ReadonlyArray<string>,
  env: Readonly<Record<string, string>> = {},
): RunningChild => {
  const child = spawnTypeScript(script, {
    args,
    env: { DELTALOG_TEST_POSTGRES_URL: postgresUrl ?? '', DELTALOG_TABLE: table, ...env },
  })
  children.push(child)
  return child
}

const open = (table: string, readOnly = false): Promise<Storage> =>
  openPostgresStorage({ connection: connection(), table, readOnly })

const parse = (line: string): Record<string, unknown> => JSON.parse(line) as Record<string, unknown>

const text = (bytes: Uint8Array): string => new TextDecoder().decode(bytes)

/** Every entry of the log, as `sequence key value`, and what verify says of it. */
const readBack = async (table: string): Promise<{ lines: string[]; violations: number }> => {
  const storage = await open(table, true)
  try {
    const log = await openLog({ storage, readOnly: true })
    const lines: string[] = []
    for await (const e of log.scan()) lines.push(`${e.sequence} ${text(e.key)} ${text(e.value)}`)
    await log.close()
    const report = await verifyStorage(storage)
    expect(report.violations).toEqual([])
    return { lines, violations: report.violationCount }
  } finally {
    await storage.close()()
  }
}

describe.runIf(postgresRuns)('several processes on one PostgreSQL log', () => {
  it('fences a writer that another takes over: FENCED, then above every number it acknowledged', async () => {
    const table = newTable()
    const a = start(writerScript, table, ['driven'])
    expect(parse(await a.line())).toEqual({ opened: 0 })
    let acknowledged = -1
    // Blocks hold 16 numbers: these commits take several, so A's SeqBlock moves on.
    for (const n of [3, 1, 20, 2]) {
      a.send(`append ${n}`)
      const range = parse(await a.line())
      expect(range).toEqual({ startSequence: acknowledged + 1, count: n })
      acknowledged += n
    }

    // B, this process, takes the log over.
    const storage = await open(table)
    const b = await openLog({ storage, blockSize: 16 })
    a.send('append 1')
    expect(parse(await a.line())).toEqual({ code: 'FENCED' })
    a.send('append 1')
    expect(parse(await a.line())).toEqual({ code: 'WRITER_FAILED', cause: 'FENCED' })
    const first = await b.append([{ key: 'b', value: 'b0' }])
    expect(first.startSequence).toBeGreaterThan(acknowledged)
    a.send('close')
    await a.rest()
    await b.close()

    const { lines, violations } = await readBack(table)
    expect(violations).toBe(0)
    // A's 26 acknowledged records and B's one; nothing of A's refused appends.
    expect(lines.filter((l) => l.includes(' a ')).length).toBe(26)
    expect(lines.at(-1)).toBe(`${first.startSequence} b b0`)
    expect(lines.length).toBe(27)
  })

  it('keeps every append the old writer acknowledged when a takeover races its appends, and nothing after its fence', async () => {
    const table = newTable()
    const a = start(writerScript, table, ['race'], { PRODUCERS: '8' })
    expect(parse(await a.line())).toMatchObject({ opened: 0 })
    const early: string[] = []
    while (early.length < 60) early.push(await a.line())

    const storage = await open(table)
    const b = await openLog({ storage, blockSize: 16 })
    const firstB = await b.append(
      Array.from({ length: 10 }, (_, i) => ({ key: 'b', value: `b${i}` })),
    )
    const outcomes = [...early, ...(await a.rest())].map(parse)
    await b.close()

    const acked = outcomes.filter((o) => o['start'] !== undefined)
    const refused = outcomes.filter((o) => o['code'] !== undefined)
    expect(refused.length).toBe(8)
    expect(refused.map((o) => o['code'])).toContain('FENCED')
    for (const o of refused) expect(['FENCED', 'WRITER_FAILED']).toContain(o['code'])
    const lastA = Math.max(...acked.map((o) => o['start'] as number))
    expect(firstB.startSequence).toBeGreaterThan(lastA)

    const { lines, violations } = await readBack(table)
    expect(violations).toBe(0)
    const fromA = lines
      .filter((l) => !l.includes(' b '))
      .map((l) => `${l.split(' ')[0]} ${l.split(' ')[2]}`)
    expect(fromA.sort()).toEqual(
      acked.map((o) => `${String(o['start'])} ${String(o['value'])}`).sort(),
    )
    expect(lines.filter((l) => l.includes(' b ')).length).toBe(10)
    const sequences = lines.map((l) => Number(l.split(' ')[0]))
    for (let i = 1; i < sequences.length; i++)
      expect(sequences[i]).toBeGreaterThan(sequences[i - 1] ?? -1)
  })

  it('delivers every entry once, in order, to two followers in other processes', async () => {
    const table = newTable()
    // The table exists before the followers open it read-only.
    await (await open(table)).close()()
    const count = 300
    const followers = [0, 1].map(() => start(followerScript, table, [], { EXPECT: String(count) }))
    for (const f of followers) expect(await f.line()).toBe('ready')
    const writer = start(writerScript, table, ['steady'], { COUNT: String(count) })
    const outputs = await Promise.all(followers.map((f) => f.rest()))
    expect((await writer.rest()).at(-1)).toBe(JSON.stringify({ done: count }))

    const { lines } = await readBack(table)
    expect(lines.length).toBe(count)
    for (const output of outputs) expect(output).toEqual(lines)
  })
})
