// A `sync` write and a takeover's epoch raise are flushed to the server's write-ahead log when
// they resolve, even for a role whose sessions say `synchronous_commit = off`. As superuser (the
// test server's `postgres`, trusted on the same socket), the WAL writer is held back
// (`wal_writer_delay` at its 10 s maximum, restored after), so that nothing but the commit itself
// flushes soon; right after the call resolves the flushed LSN is read, and compared with the end
// of the call's own commit record, found in the WAL by its transaction id (pg_walinspect).
import { randomBytes } from 'node:crypto'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openPostgresStorage } from '../../src/postgres/storage.js'
import { postgresRuns, postgresUrl } from './server.js'

/** `url` as another role of the same server. */
const as = (url: string, role: string): string =>
  url.replace(/^(postgres(?:ql)?:\/\/)[^@/]*@/, `$1${role}@`)

const role = `deltalog_async_${randomBytes(4).toString('hex')}`
let admin: pg.Client

beforeAll(async () => {
  if (!postgresRuns) return
  if (postgresUrl === undefined) throw new Error('no server')
  admin = new pg.Client({ connectionString: as(postgresUrl, 'postgres') })
  await admin.connect()
  await admin.query('CREATE EXTENSION IF NOT EXISTS pg_walinspect SCHEMA public')
  await admin.query("ALTER SYSTEM SET wal_writer_delay = '10s'")
  await admin.query('SELECT pg_reload_conf()')
  await admin.query(`CREATE ROLE ${role} LOGIN`)
  await admin.query(`ALTER ROLE ${role} SET synchronous_commit = off`)
  await admin.query(`CREATE SCHEMA ${role} AUTHORIZATION ${role}`)
  // The WAL writer takes the new delay after its current sleep (200 ms by default).
  await new Promise((resolve) => setTimeout(resolve, 400))
})

afterAll(async () => {
  if (!postgresRuns) return
  await admin.query('ALTER SYSTEM RESET wal_writer_delay')
  await admin.query('SELECT pg_reload_conf()')
  await admin.query(`DROP SCHEMA IF EXISTS ${role} CASCADE`)
  await admin.query(`DROP ROLE IF EXISTS ${role}`)
  await admin.end()
})

const lsn = async (sql: string): Promise<string> =>
  (await admin.query<{ lsn: string }>(`SELECT ${sql} AS lsn`)).rows[0]?.lsn ?? ''

/**
 * Whether the commit record of transaction `xid`, written after `since`, ends at or before
 * `flushed`. The WAL is flushed first (a commit of the superuser's own), so that it can be read.
 */
const flushedBy = async (xid: string, since: string, flushed: string): Promise<boolean> => {
  await admin.query('SELECT txid_current()')
  const found = await admin.query<{ end: string; flushed: boolean }>(
    `SELECT end_lsn AS end, end_lsn <= $3::pg_lsn AS flushed
       FROM public.pg_get_wal_records_info($1::pg_lsn, pg_current_wal_flush_lsn())
      WHERE resource_manager = 'Transaction' AND record_type LIKE 'COMMIT%' AND xid::text = $2`,
    [since, xid, flushed],
  )
  expect(found.rows).toHaveLength(1)
  return found.rows[0]?.flushed === true
}

describe.runIf(postgresRuns)('durability with synchronous_commit = off for the role', () => {
  it('flushes a sync write and a takeover when they resolve', async () => {
    if (postgresUrl === undefined) throw new Error('no server')
    const table = `${role}.log`
    const connection = { connectionString: as(postgresUrl, role) }
    const shown = await admin.query<{ setting: string }>(
      `SELECT unnest(setconfig) AS setting FROM pg_db_role_setting WHERE setrole = $1::regrole`,
      [role],
    )
    expect(shown.rows).toEqual([{ setting: 'synchronous_commit=off' }])
    const writer = await openPostgresStorage({ connection, table })
    try {
      const key = Uint8Array.of(7)
      const since = await lsn('pg_current_wal_insert_lsn()')
      const written = await writer.write([{ type: 'put', key, value: key }], { sync: true })()
      const flushed = await lsn('pg_current_wal_flush_lsn()')
      expect(written._tag).toBe('Right')
      const row = await admin.query<{ xid: string }>(
        `SELECT xmin::text AS xid FROM ${table} WHERE key = $1`,
        [Buffer.from(key)],
      )
      expect(await flushedBy(row.rows[0]?.xid ?? '', since, flushed)).toBe(true)
    } finally {
      await writer.close()()
    }

    const since = await lsn('pg_current_wal_insert_lsn()')
    const next = await openPostgresStorage({ connection, table })
    const flushed = await lsn('pg_current_wal_flush_lsn()')
    await next.close()()
    const epoch = await admin.query<{ xid: string }>(
      `SELECT xmin::text AS xid FROM ${table}_meta WHERE name = 'epoch'`,
    )
    expect(await flushedBy(epoch.rows[0]?.xid ?? '', since, flushed)).toBe(true)
  })
})
