// Which tables a PostgreSQL storage takes for a log's: only those whose `_meta` carries the mark
// deltalog writes when it creates them; names that PostgreSQL would truncate are refused before
// any SQL; and two first opens of a new table at the same moment both succeed.
import pg from 'pg'
import { afterEach, describe, expect, it } from 'vitest'
import { DeltalogError } from '../../src/errors.js'
import { openLog } from '../../src/index.js'
import { openPostgresStorage } from '../../src/postgres/storage.js'
import type { Storage } from '../../src/storage/port.js'
import { connection, dropTables, freshTable, postgresRuns } from './server.js'

const cleanups: Array<() => Promise<unknown>> = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

const newTable = (name = freshTable()): string => {
  cleanups.push(() => dropTables(name))
  return name
}

/** Runs statements as the test role, which owns the schema `deltalog`. */
const sql = async (
  text: string,
  values: unknown[] = [],
): Promise<pg.QueryResult<Record<string, unknown>>> => {
  const client = new pg.Client(connection())
  await client.connect()
  try {
    return await client.query(text, values)
  } finally {
    await client.end()
  }
}

const open = (table: string, readOnly = false): Promise<Storage> =>
  openPostgresStorage({ connection: connection(), table, readOnly })

/** What `opening` rejected with; a failure if it resolved. */
const rejection = async (opening: Promise<Storage>): Promise<DeltalogError> => {
  const outcome = await opening.catch((error: unknown) => error)
  if (outcome instanceof DeltalogError) return outcome
  if (typeof outcome === 'object' && outcome !== null && 'close' in outcome) {
    await (outcome as Storage).close()()
  }
  throw new Error(`the open did not reject with DeltalogError: ${String(outcome)}`)
}

/** The rows of each of `tables` and of its `_meta`, or `null` for one that does not exist. */
const contents = async (tables: ReadonlyArray<string>): Promise<Record<string, unknown>> => {
  const shown: Record<string, unknown> = {}
  for (const table of tables.flatMap((t) => [t, `${t}_meta`])) {
    const found = await sql('SELECT to_regclass($1) AS t', [`deltalog."${table}"`])
    shown[table] =
      found.rows[0]?.t === null ? null : (await sql(`SELECT * FROM deltalog."${table}"`)).rows
  }
  return shown
}

describe.runIf(postgresRuns)('a table deltalog did not create', () => {
  it('is NOT_A_LOG to writers and readers, and nothing is created, changed or deleted', async () => {
    const kv = newTable()
    const other = newTable()
    const unmarked = newTable()
    const half = newTable()
    await sql(`CREATE TABLE deltalog."${kv}" (key bytea PRIMARY KEY, value bytea NOT NULL)`)
    await sql(`INSERT INTO deltalog."${kv}" VALUES ('\\x01', '\\x02'), ('\\xff', '\\x00')`)
    await sql(`CREATE TABLE "${other}" (id int PRIMARY KEY, note text)`)
    await sql(`INSERT INTO "${other}" VALUES (1, 'theirs')`)
    // A `_meta` without the mark: a table of someone else's by that name.
    await sql(`CREATE TABLE "${unmarked}" (key bytea PRIMARY KEY, value bytea NOT NULL)`)
    await sql(`CREATE TABLE "${unmarked}_meta" (id int, note text)`)
    await sql(`INSERT INTO "${unmarked}_meta" VALUES (1, 'theirs')`)
    // Tables of deltalog's layout without the mark, as a creation of an earlier version that was
    // interrupted could leave them.
    await sql(`CREATE TABLE "${half}_meta" (name text PRIMARY KEY, value text NOT NULL)`)
    await sql(`CREATE TABLE "${half}" (key bytea PRIMARY KEY, value bytea NOT NULL)`)
    const before = await contents([kv, other, unmarked, half])
    for (const table of [`deltalog.${kv}`, other, unmarked, half]) {
      for (const readOnly of [false, true]) {
        const error = await rejection(open(table, readOnly))
        expect(error.code, `${table}, readOnly ${readOnly}: ${error.message}`).toBe('NOT_A_LOG')
        expect(error.message).toContain(table)
      }
    }
    expect(await contents([kv, other, unmarked, half])).toEqual(before)
  })

  it('opens a log whose _meta an earlier deltalog wrote, and refuses one whose table is gone', async () => {
    // The tables as deltalog has always made them, with the mark: the `schema` row.
    const table = newTable()
    await sql(`CREATE TABLE "${table}_meta" (name text PRIMARY KEY, value text NOT NULL)`)
    await sql(`CREATE TABLE "${table}" (key bytea PRIMARY KEY, value bytea NOT NULL)`)
    await sql(`INSERT INTO "${table}_meta" VALUES ('schema', '1'), ('epoch', '7')`)
    const storage = await open(table)
    const log = await openLog({ storage })
    await log.append([{ key: 'k', value: 'v' }])
    await log.close()
    await storage.close()()
    const epoch = await sql(`SELECT value FROM "${table}_meta" WHERE name = 'epoch'`)
    expect(epoch.rows).toEqual([{ value: '8' }])

    await sql(`DROP TABLE "${table}"`)
    const error = await rejection(open(table))
    expect(error.code).toBe('CORRUPTION')
    expect(await sql('SELECT to_regclass($1) AS t', [table])).toMatchObject({ rows: [{ t: null }] })
  })
})

describe.runIf(postgresRuns)('creating the tables', () => {
  it('leaves nothing behind when it fails halfway', async () => {
    // A type takes the log's name (a type is no table): its table cannot be made, after _meta.
    const table = newTable()
    await sql(`CREATE TYPE "${table}" AS ENUM ('theirs')`)
    cleanups.push(() => sql(`DROP TYPE "${table}"`))
    const error = await rejection(open(table))
    expect(error.message).toContain(`type "${table}" already exists`)
    const left = await sql('SELECT to_regclass($1) AS t', [`${table}_meta`])
    expect(left.rows).toEqual([{ t: null }])
  })
})

describe.runIf(postgresRuns)('two first opens of a new table at the same moment', () => {
  it('both succeed, the later taking the log over, never a raw error', async () => {
    for (let round = 0; round < 5; round++) {
      const table = newTable()
      const opens = await Promise.allSettled([open(table), open(table)])
      for (const outcome of opens) {
        if (outcome.status === 'fulfilled') await outcome.value.close()()
      }
      const refused = opens.flatMap((o) => (o.status === 'rejected' ? [o.reason as unknown] : []))
      expect(refused).toEqual([])
    }
  })
})

describe.runIf(postgresRuns)('the longest table name', () => {
  it('fits with its _meta in 63 bytes and works end to end, qualified or not', async () => {
    for (const qualified of [false, true]) {
      const name = newTable(`log_${qualified ? 'q' : 'u'}${'x'.repeat(53)}`)
      expect(Buffer.byteLength(`${name}_meta`)).toBe(63)
      const table = qualified ? `deltalog.${name}` : name
      const storage = await open(table)
      const log = await openLog({ storage })
      await log.append([{ key: 'k', value: 'v' }])
      await log.close()
      await storage.close()()
      const reading = await open(table, true)
      const reader = await openLog({ storage: reading, readOnly: true })
      expect(await reader.count()).toBe(1)
      await reader.close()
      await reading.close()()
    }
  })
})

describe('a table name that PostgreSQL would truncate', () => {
  it('is INVALID_ARGUMENT naming the limit in bytes, before any connection', async () => {
    const long = `log_${'x'.repeat(55)}` // 59 bytes: its _meta would be 64
    const schema = 's'.repeat(64)
    for (const table of [long, `deltalog.${long}`, `${schema}.log`]) {
      // A connection would fail with IO_ERROR: the name is refused before one is tried.
      const error = await rejection(
        openPostgresStorage({ connection: { host: '/nonexistent' }, table }),
      )
      expect(error, table).toMatchObject({ code: 'INVALID_ARGUMENT', error: { field: 'table' } })
      expect(error.message).toMatch(/\d+ bytes/)
    }
    // A name that is multi-byte in UTF-8 is counted in bytes (and refused: not a plain name).
    const wide = await rejection(
      openPostgresStorage({ connection: { host: '/nonexistent' }, table: `log_${'é'.repeat(30)}` }),
    )
    expect(wide).toMatchObject({ code: 'INVALID_ARGUMENT', error: { field: 'table' } })
    // The longest schema and name pass the check, and get as far as connecting.
    const longest = await rejection(
      openPostgresStorage({
        connection: { host: '/nonexistent' },
        table: `${'s'.repeat(63)}.${long.slice(1)}`,
      }),
    )
    expect(longest.code).toBe('IO_ERROR')
  })
})
