/**
 * A log's two tables on the server: whether they are a log's, and their creation. A table is a
 * log's only if its `<table>_meta` holds the mark, the `schema` row with the layout version,
 * which is written in the same transaction that creates both tables (and which every version of
 * deltalog has written): a table deltalog did not create has no mark, and is never adopted.
 */
import * as E from 'fp-ts/lib/Either.js'
import type { Pool, PoolClient } from 'pg'
import { corruption, notALog, type StorageError } from '../errors.js'
import { hold } from './connection.js'
import type { Names } from './open.js'

/** The version of the table layout this adapter writes; a table of another is refused. */
export const SCHEMA_VERSION = 1

// SQLSTATEs of a column that does not exist (a `_meta` of another layout than deltalog's), and
// of a table created already.
const UNDEFINED_COLUMN = '42703'
const DUPLICATE_TABLE = '42P07'

/** Which of a log's tables exist, looked up as every statement resolves them (search_path). */
const existing = async (
  on: Pool | PoolClient,
  { data, meta }: Names,
): Promise<{ readonly data: boolean; readonly meta: boolean }> => {
  const found = await on.query<{ data: boolean; meta: boolean }>(
    'SELECT to_regclass($1) IS NOT NULL AS data, to_regclass($2) IS NOT NULL AS meta',
    [data, meta],
  )
  return found.rows[0] ?? { data: false, meta: false }
}

/**
 * Creates the log's two tables and their mark, in one transaction, when neither exists: a role
 * writing on tables made for it needs no CREATE privilege. Creations race under a lock on the
 * table's name, held to the transaction's end: the one that waited finds a table made (42P07,
 * where two creations in flight at once would fail on a catalog index, 23505), makes nothing,
 * and leaves the tables to `checkMark`.
 */
export const createIfMissing = async (pool: Pool, names: Names): Promise<void> => {
  const found = await existing(pool, names)
  if (found.data || found.meta) return
  const { client, release } = await hold(pool)
  let broken = false
  try {
    await client.query('BEGIN')
    // Keyed on deltalog and the qualified name: an unqualified one lands in current_schema().
    const [schema, name] = names.table.includes('.') ? names.table.split('.') : [null, names.table]
    await client.query(
      "SELECT pg_advisory_xact_lock(hashtext('deltalog'), hashtext(coalesce($1, current_schema()) || '.' || $2))",
      [schema, name],
    )
    await client.query(`CREATE TABLE ${names.meta} (name text PRIMARY KEY, value text NOT NULL)`)
    await client.query(`CREATE TABLE ${names.data} (key bytea PRIMARY KEY, value bytea NOT NULL)`)
    await client.query(`INSERT INTO ${names.meta} (name, value) VALUES ('schema', $1)`, [
      String(SCHEMA_VERSION),
    ])
    await client.query('COMMIT')
  } catch (error) {
    await client.query('ROLLBACK').catch(() => (broken = true))
    if ((error as { code?: unknown }).code !== DUPLICATE_TABLE) throw error
  } finally {
    release(broken)
  }
}

/**
 * Whether the tables are a log's of this layout: `NOT_A_LOG` when `<table>_meta` is missing,
 * of another layout or without the mark (nothing is changed); `CORRUPTION` for a mark of another
 * layout version, or a marked log whose table is gone.
 */
export const checkMark = async (
  pool: Pool,
  names: Names,
): Promise<E.Either<StorageError, void>> => {
  const { table, meta } = names
  const found = await existing(pool, names)
  const foreign = (why: string) => E.left(notALog(`postgres table ${table} holds no log (${why})`))
  if (!found.meta) {
    return foreign(
      found.data ? `deltalog did not create it: it has no ${table}_meta` : 'it does not exist',
    )
  }
  let version: string | undefined
  try {
    const marked = await pool.query<{ value: string }>(
      `SELECT value::text AS value FROM ${meta} WHERE name::text = 'schema'`,
    )
    version = marked.rows[0]?.value
  } catch (error) {
    if ((error as { code?: unknown }).code !== UNDEFINED_COLUMN) throw error
    return foreign(`${table}_meta is not deltalog's`)
  }
  if (version === undefined) return foreign(`${table}_meta holds no schema row, deltalog's mark`)
  if (version !== String(SCHEMA_VERSION)) {
    return E.left(
      corruption(
        `postgres table ${table} has layout version ${version}; this deltalog reads ${SCHEMA_VERSION}`,
      ),
    )
  }
  if (!found.data) {
    return E.left(corruption(`postgres table ${table} is gone, though ${table}_meta marks a log`))
  }
  return E.right(undefined)
}
