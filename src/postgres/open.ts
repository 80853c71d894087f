/**
 * Opening a log's tables: the options checked before any connection is made, the pool (the
 * caller's, or one made with `pg`, which is loaded here and nowhere else), the two tables and
 * the layout version, the takeover that makes this storage the log's one writer, and the
 * snapshot a `snapshot: true` storage reads.
 */
import * as E from 'fp-ts/lib/Either.js'
import { createHash } from 'node:crypto'
import type pg from 'pg'
import type { Pool, PoolConfig } from 'pg'
import {
  invalidArgument,
  ioError,
  type InvalidArgumentError,
  type StorageError,
} from '../errors.js'
import { hold, type Held } from './connection.js'
import { fromPg } from './errors.js'
import { checkMark, createIfMissing } from './tables.js'
import {
  boundPool,
  connectingWithin,
  limitsOf,
  type Limits,
  type PostgresTimeouts,
} from './timeouts.js'

export { SCHEMA_VERSION } from './tables.js'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** How to reach a log's table. */
export interface PostgresStorageOptions {
  /**
   * A pool of the caller's, which the storage uses and leaves open; or, instead, the settings
   * of a pool the storage makes and closes (`connectionString`, `ssl` and the rest, passed to
   * `pg` as they are).
   */
  readonly pool?: Pool
  readonly connection?: PoolConfig
  /**
   * The log's table, `name` or `schema.name` in lowercase letters, digits and `_`; the name of
   * at most 58 bytes (its `_meta` table must fit PostgreSQL's 63), the schema of at most 63.
   */
  readonly table: string
  /**
   * Opens the log for reading only: nothing is created, the writer is not fenced, and every
   * write is refused with `READ_ONLY`. A table that does not exist is `NOT_A_LOG`.
   */
  readonly readOnly?: boolean
  /**
   * Whether the storage offers `watch`, which LISTENs for the writer's commits (default true).
   * A hot standby runs no LISTEN: a reader on one passes `false`, and its log then reads the
   * standby as it was when it opened.
   */
  readonly listen?: boolean
  /**
   * With `readOnly`: every read sees one snapshot of the log, taken when the storage opens, on a
   * connection held until it closes (what `verify` of a log being written needs). Such a storage
   * does not listen: the log it shows never changes.
   */
  readonly snapshot?: boolean
  /**
   * How long to wait for the server (docs/postgres.md): a new connection (`connectMs`, default
   * 10 s), a free one of the pool (`poolMs`, 10 s), a statement's answer (`queryMs`, 30 s). What
   * waits longer fails with `IO_ERROR` whose `timeout` says what waited.
   */
  readonly timeouts?: PostgresTimeouts
}

/** The quoted names of a log's tables, and its notification channel's (a plain identifier). */
export interface Names {
  readonly table: string
  readonly data: string
  readonly meta: string
  readonly channel: string
}

/** A log's tables, opened: what the storage is assembled from. */
export interface Opened {
  readonly pool: Pool
  /** Whether the storage made the pool, and so ends it when it closes. */
  readonly ownsPool: boolean
  readonly names: Names
  /** The writer epoch this storage raised; `undefined` for a read-only storage. */
  readonly epoch: string | undefined
  readonly listen: boolean
  /** The connection holding the snapshot every read sees, with `snapshot: true`. */
  readonly pinned: Held | undefined
}

const IDENTIFIER = /^[a-z_][a-z0-9_]*$/

/**
 * The longest schema and table names, in bytes: PostgreSQL truncates an identifier to 63 bytes,
 * and the table's name must fit with `_meta` after it (a truncated one would name another log's).
 */
const MAX_SCHEMA_BYTES = 63
const MAX_TABLE_BYTES = 63 - '_meta'.length

// -------------------------------------------------------------------------------------
// opening
// -------------------------------------------------------------------------------------

/**
 * Opens the log table `options.table`, creating it (and its mark) where neither of its tables
 * exists unless read-only, and takes the log over unless read-only. A pool the storage made is
 * ended again when the open fails.
 */
export const openTables = async (
  options: PostgresStorageOptions,
): Promise<E.Either<StorageError, Opened>> => {
  const server = await serverFor(options)
  if (E.isLeft(server)) return server
  const { pool, ownsPool, names } = server.right
  const prepared = await prepare(pool, names, options)
  if (E.isLeft(prepared)) {
    if (ownsPool) await pool.end().catch(() => undefined)
    return prepared
  }
  return E.right({ pool, ownsPool, names, listen: options.listen !== false, ...prepared.right })
}

/**
 * What every use of the server starts with: the options checked, the pool (made from
 * `connection`, or the caller's) with every wait for the server bounded, and the table's names.
 */
export const serverFor = async (
  options: PostgresStorageOptions,
): Promise<
  E.Either<StorageError, { readonly pool: Pool; readonly ownsPool: boolean; readonly names: Names }>
> => {
  const parts = checkOptions(options)
  if (E.isLeft(parts)) return parts
  const limits = limitsOf(options.timeouts)
  if (E.isLeft(limits)) return limits
  const source = await poolOf(options, limits.right)
  if (E.isLeft(source)) return source
  return E.right({
    pool: boundPool(source.right.pool, limits.right),
    ownsPool: source.right.ownsPool,
    names: namesOf(options.table, parts.right),
  })
}

/** The options' mistakes, found before any connection is made; the table name's parts. */
const checkOptions = (
  options: PostgresStorageOptions,
): E.Either<InvalidArgumentError, ReadonlyArray<string>> => {
  const parts = checkTable(options.table)
  if (E.isLeft(parts)) return parts
  if ((options.pool === undefined) === (options.connection === undefined)) {
    return E.left(invalidArgument('pool', 'give exactly one of pool and connection'))
  }
  if (options.snapshot === true && options.readOnly !== true) {
    return E.left(invalidArgument('snapshot', 'is for a storage opened with readOnly: true'))
  }
  return parts
}

/**
 * A `table` option's parts, `[name]` or `[schema, name]`: each a plain identifier that fits
 * PostgreSQL's 63 bytes with room for `_meta`.
 */
export const checkTable = (
  table: unknown,
): E.Either<InvalidArgumentError, ReadonlyArray<string>> => {
  const parts = typeof table === 'string' ? table.split('.') : []
  if (parts.length < 1 || parts.length > 2 || !parts.every((p) => IDENTIFIER.test(p))) {
    return E.left(
      invalidArgument('table', 'must be name or schema.name, in lowercase letters, digits and _'),
    )
  }
  const [schema = '', name = ''] = parts.length === 2 ? parts : ['', parts[0]]
  if (Buffer.byteLength(name) > MAX_TABLE_BYTES || Buffer.byteLength(schema) > MAX_SCHEMA_BYTES) {
    return E.left(
      invalidArgument(
        'table',
        `must fit PostgreSQL's 63-byte identifiers: a name of at most ${MAX_TABLE_BYTES} bytes (its second table adds _meta), a schema of at most ${MAX_SCHEMA_BYTES}`,
      ),
    )
  }
  return E.right(parts)
}

/**
 * The caller's pool, or a new one on `options.connection`, made with `pg` loaded now.
 * REQUIRES: exactly one of `options.pool` and `options.connection` is given.
 */
const poolOf = async (
  options: PostgresStorageOptions,
  limits: Limits,
): Promise<E.Either<StorageError, { readonly pool: Pool; readonly ownsPool: boolean }>> => {
  if (options.pool !== undefined) return E.right({ pool: options.pool, ownsPool: false })
  const pg = await loadPg()
  if (E.isLeft(pg)) return pg
  // Keepalives let a listening connection that died silently (a network partition) end,
  // and be made again.
  const pool = new pg.right.Pool({
    keepAlive: true,
    ...options.connection,
    Client: connectingWithin(pg.right.Client, limits.connectMs),
  })
  // A pool error outside any query (a dropped idle connection) must not crash the process.
  pool.on('error', () => undefined)
  return E.right({ pool, ownsPool: true })
}

/**
 * `pg`, loaded when first needed (here and nowhere else), so that importing this entry point
 * costs nothing to a user who never connects.
 */
export const loadPg = async (): Promise<E.Either<StorageError, typeof pg>> => {
  try {
    return E.right((await import('pg')).default)
  } catch (error) {
    return E.left(ioError(`cannot load pg: ${(error as Error).message}`, error))
  }
}

/**
 * The names of a log's tables and channel.
 * REQUIRES: `parts` are `table`'s parts, each a plain identifier (checkOptions).
 */
const namesOf = (table: string, parts: ReadonlyArray<string>): Names => ({
  table,
  data: parts.map((p) => `"${p}"`).join('.'),
  meta: parts.map((p, i) => (i === parts.length - 1 ? `"${p}_meta"` : `"${p}"`)).join('.'),
  channel: `deltalog_${createHash('sha256').update(table).digest('hex').slice(0, 24)}`,
})

/**
 * Everything an open does on the server: the tables and their mark made where neither exists
 * (unless read-only), the mark checked (tables that are not a log's are `NOT_A_LOG`), the log
 * taken over (unless read-only), the snapshot taken (with `snapshot: true`).
 */
const prepare = async (
  pool: Pool,
  names: Names,
  options: PostgresStorageOptions,
): Promise<E.Either<StorageError, Pick<Opened, 'epoch' | 'pinned'>>> => {
  const { table, meta } = names
  const readOnly = options.readOnly === true
  try {
    if (!readOnly) await createIfMissing(pool, names)
    const marked = await checkMark(pool, names)
    if (E.isLeft(marked)) return marked
    const epoch = readOnly ? undefined : await takeOver(pool, meta)
    const pinned = options.snapshot === true ? await pinSnapshot(pool, meta) : undefined
    return E.right({ epoch, pinned })
  } catch (error) {
    return E.left(fromPg(`open ${table}`, error))
  }
}

/**
 * Raises the writer epoch, durably, and returns the new one. The update waits for a write
 * transaction of the former writer in flight (it holds a share lock on the epoch); every later
 * one sees the new epoch and is refused.
 */
const takeOver = async (pool: Pool, meta: string): Promise<string> => {
  const { client, release } = await hold(pool)
  let broken = false
  try {
    await client.query('BEGIN; SET LOCAL synchronous_commit = on')
    const raised = await client.query<{ value: string }>(
      `INSERT INTO ${meta} AS m (name, value) VALUES ('epoch', '1') ON CONFLICT (name) ` +
        'DO UPDATE SET value = (m.value::bigint + 1)::text RETURNING value',
    )
    await client.query('COMMIT')
    const epoch = raised.rows[0]?.value
    if (epoch === undefined) throw new Error(`${meta} has no writer epoch`)
    return epoch
  } catch (error) {
    await client.query('ROLLBACK').catch(() => (broken = true))
    throw error
  } finally {
    release(broken)
  }
}

/**
 * A connection holding a `REPEATABLE READ` transaction whose snapshot is taken now; on failure
 * the connection is ended and the error thrown.
 */
const pinSnapshot = async (pool: Pool, meta: string): Promise<Held> => {
  const held = await hold(pool)
  try {
    // The snapshot is taken at the transaction's first statement.
    await held.client.query(
      `BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; SELECT FROM ${meta} LIMIT 1`,
    )
    return held
  } catch (error) {
    held.release(true)
    throw error
  }
}
