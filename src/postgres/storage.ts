/**
 * The Storage port on PostgreSQL, through `pg` (pure JavaScript). A log is one table of ordered
 * `bytea` keys and values; PostgreSQL compares `bytea` byte by byte, shorter first on a common
 * prefix, which is the port's order. One atomic batch is one transaction. `sync: true` commits
 * with `synchronous_commit = on`: the commit, and with it every commit before it, is flushed to
 * the server's write-ahead log before the write resolves. `sync: false` commits with
 * `SET LOCAL synchronous_commit = off`: the server acknowledges before the flush, and a crash of
 * the server may lose the last such commits — whole, and never one before a kept one, since its
 * write-ahead log is one sequence.
 *
 * An iteration reads one snapshot: its pages are read in a `REPEATABLE READ` transaction on a
 * connection of its own, held until it ends or is closed. Writes and reads issued after an
 * iteration was opened wait until its snapshot is taken, so they are never in it.
 */
import * as E from 'fp-ts/lib/Either.js'
import * as O from 'fp-ts/lib/Option.js'
import type * as TE from 'fp-ts/lib/TaskEither.js'
import type { Pool, PoolClient, PoolConfig } from 'pg'
import { closed, corruption, invalidArgument, ioError, type StorageError } from '../errors.js'
import {
  validateBatch,
  validateIterateOptions,
  validateKey,
  validateKeys,
  type BatchOp,
  type IterateOptions,
  type KeyValue,
  type Storage,
  type StorageIterator,
} from '../storage/port.js'
import { makeCallGuard } from '../storage/guard.js'

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
  /** The log's table, `name` or `schema.name` in lowercase letters, digits and `_`. */
  readonly table: string
}

/** The version of the table layout this adapter writes; a table of another is refused. */
export const SCHEMA_VERSION = 1

// Pairs per page of an iteration.
const PAGE = 1000

const IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/

// -------------------------------------------------------------------------------------
// helpers
// -------------------------------------------------------------------------------------

/** A pg error as a StorageError; the message names what failed, never how it connected. */
const fromPg = (what: string, error: unknown): StorageError => {
  const e = error as { message?: unknown; code?: unknown }
  const detail = typeof e.message === 'string' ? e.message : String(error)
  const code = typeof e.code === 'string' ? ` (SQLSTATE ${e.code})` : ''
  return ioError(`postgres ${what}: ${redact(detail)}${code}`, error)
}

/** Removes anything that looks like a password from a text: `user:secret@` and `password=…`. */
export const redact = (text: string): string =>
  text
    .replace(/(\/\/[^:/@\s]+):[^@\s]*@/g, '$1:***@')
    .replace(/(password\s*=\s*)('[^']*'|\S+)/gi, '$1***')

const asBuffer = (bytes: Uint8Array): Buffer =>
  Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)

/** The last operation on each key: what a batch leaves, as ops on distinct keys. */
const lastPerKey = (batch: ReadonlyArray<BatchOp>): ReadonlyArray<BatchOp> => {
  const last = new Map<string, BatchOp>()
  for (const op of batch) {
    const id = Buffer.from(op.key.buffer, op.key.byteOffset, op.key.byteLength).toString('hex')
    last.delete(id)
    last.set(id, op)
  }
  return [...last.values()]
}

// -------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------

/**
 * Opens the log table `options.table`, creating it (and its version record) on first use. The
 * role needs CREATE on the schema for the first open, then SELECT, INSERT, UPDATE and DELETE
 * on the two tables.
 */
export const openPostgresStorage =
  (options: PostgresStorageOptions): TE.TaskEither<StorageError, Storage> =>
  async () => {
    const table = options.table
    const parts = typeof table === 'string' ? table.split('.') : []
    if (parts.length < 1 || parts.length > 2 || !parts.every((p) => IDENTIFIER.test(p))) {
      return E.left(
        invalidArgument('table', 'must be name or schema.name, in lowercase letters, digits and _'),
      )
    }
    if ((options.pool === undefined) === (options.connection === undefined)) {
      return E.left(invalidArgument('pool', 'give exactly one of pool and connection'))
    }
    let pool: Pool
    let ownsPool = false
    if (options.pool !== undefined) {
      pool = options.pool
    } else {
      try {
        const pg = await import('pg')
        pool = new pg.default.Pool(options.connection)
        ownsPool = true
      } catch (error) {
        return E.left(ioError(`cannot load pg: ${(error as Error).message}`, error))
      }
    }
    // A pool error outside any query (a dropped idle connection) must not crash the process.
    const onPoolError = (): void => undefined
    if (ownsPool) pool.on('error', onPoolError)
    const data = parts.map((p) => `"${p}"`).join('.')
    const meta = parts.map((p, i) => (i === parts.length - 1 ? `"${p}_meta"` : `"${p}"`)).join('.')
    try {
      await pool.query(
        `CREATE TABLE IF NOT EXISTS ${meta} (name text PRIMARY KEY, value text NOT NULL)`,
      )
      await pool.query(
        `CREATE TABLE IF NOT EXISTS ${data} (key bytea PRIMARY KEY, value bytea NOT NULL)`,
      )
      await pool.query(
        `INSERT INTO ${meta} (name, value) VALUES ('schema', $1) ON CONFLICT (name) DO NOTHING`,
        [String(SCHEMA_VERSION)],
      )
      const version = await pool.query<{ value: string }>(
        `SELECT value FROM ${meta} WHERE name = 'schema'`,
      )
      const found = version.rows[0]?.value
      if (found !== String(SCHEMA_VERSION)) {
        if (ownsPool) await pool.end()
        return E.left(
          corruption(
            `postgres table ${table} has layout version ${String(found)}; this deltalog reads ${SCHEMA_VERSION}`,
          ),
        )
      }
    } catch (error) {
      if (ownsPool) await pool.end().catch(() => undefined)
      return E.left(fromPg(`open ${table}`, error))
    }
    return E.right(makeStorage(pool, ownsPool, table, data, meta))
  }

const makeStorage = (
  pool: Pool,
  ownsPool: boolean,
  table: string,
  data: string,
  meta: string,
): Storage => {
  const what = `postgres storage ${table}`
  const calls = makeCallGuard(what)
  let closing: Promise<E.Either<StorageError, void>> | undefined
  const iterators = new Set<() => Promise<void>>()
  // Snapshots of iterations being taken: what is issued later waits for them.
  const snapshots = new Set<Promise<unknown>>()

  const guarded = <A>(
    run: () => Promise<E.Either<StorageError, A>>,
  ): Promise<E.Either<StorageError, A>> =>
    calls.guarded(async () => {
      try {
        if (snapshots.size > 0) await Promise.all([...snapshots].map((s) => s.catch(() => 0)))
        return await run()
      } catch (error) {
        return E.left(fromPg('query', error))
      }
    })

  const bounds = (
    options: IterateOptions,
    after: Buffer | undefined,
    params: unknown[],
  ): string => {
    const reverse = options.reverse === true
    const where: string[] = []
    const add = (op: string, value: Uint8Array): void => {
      params.push(asBuffer(value))
      where.push(`key ${op} $${params.length}`)
    }
    if (options.gt !== undefined) add('>', options.gt)
    if (options.gte !== undefined) add('>=', options.gte)
    if (options.lt !== undefined) add('<', options.lt)
    if (options.lte !== undefined) add('<=', options.lte)
    if (after !== undefined) add(reverse ? '<' : '>', after)
    return where.length === 0 ? '' : `WHERE ${where.join(' AND ')}`
  }

  const openIterator = (options: IterateOptions): StorageIterator => {
    const reverse = options.reverse === true
    let left = options.limit ?? Infinity
    let after: Buffer | undefined
    let finished = left <= 0
    let client: PoolClient | undefined
    let ended: Promise<void> | undefined

    const page = async (c: PoolClient): Promise<ReadonlyArray<KeyValue>> => {
      const params: unknown[] = []
      const where = bounds(options, after, params)
      const size = Math.min(PAGE, left)
      const result = await c.query<{ key: Buffer; value: Buffer }>(
        `SELECT key, value FROM ${data} ${where} ORDER BY key ${reverse ? 'DESC' : 'ASC'} LIMIT ${size}`,
        params,
      )
      const rows = result.rows
      left -= rows.length
      if (rows.length < size || left <= 0) finished = true
      const lastRow = rows[rows.length - 1]
      if (lastRow !== undefined) after = lastRow.key
      return rows.map((r) => ({ key: r.key, value: r.value }))
    }

    // The snapshot and first page are taken now, before anything issued after this call.
    const first: Promise<E.Either<StorageError, ReadonlyArray<KeyValue>>> = finished
      ? Promise.resolve(E.right([]))
      : (async () => {
          try {
            client = await pool.connect()
            await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY')
            return E.right(await page(client))
          } catch (error) {
            finished = true
            return E.left(fromPg('iterate', error))
          }
        })()
    snapshots.add(first)
    void first.then(() => snapshots.delete(first))
    let firstTaken = false

    const close = (): Promise<void> => {
      finished = true
      ended ??= (async () => {
        iterators.delete(close)
        await first
        if (client !== undefined) {
          const c = client
          client = undefined
          await c.query('COMMIT').catch(() => undefined)
          c.release()
        }
      })()
      return ended
    }
    iterators.add(close)
    return {
      next: () => () =>
        ended !== undefined
          ? Promise.resolve(E.left(closed('iterator')))
          : calls.guarded(async () => {
              try {
                if (!firstTaken) {
                  firstTaken = true
                  const chunk = await first
                  if (E.isLeft(chunk)) return chunk
                  if (chunk.right.length > 0) return E.right(O.some(chunk.right))
                }
                if (finished || client === undefined) {
                  await close()
                  return E.right(O.none)
                }
                const chunk = await page(client)
                if (chunk.length === 0) {
                  await close()
                  return E.right(O.none)
                }
                return E.right(O.some(chunk))
              } catch (error) {
                return E.left(fromPg('iterate', error))
              }
            }),
      close,
    }
  }

  return {
    capabilities: { persistent: true, sync: true },
    get: (key) => () =>
      guarded(async () => {
        const valid = validateKey(key)
        if (E.isLeft(valid)) return valid
        const result = await pool.query<{ value: Buffer }>(
          `SELECT value FROM ${data} WHERE key = $1`,
          [asBuffer(valid.right)],
        )
        return E.right(O.fromNullable(result.rows[0]?.value))
      }),
    getMany: (keys) => () =>
      guarded(async () => {
        const valid = validateKeys(keys)
        if (E.isLeft(valid)) return valid
        if (valid.right.length === 0) return E.right([])
        const result = await pool.query<{ key: Buffer; value: Buffer }>(
          `SELECT key, value FROM ${data} WHERE key = ANY($1::bytea[])`,
          [valid.right.map(asBuffer)],
        )
        const found = new Map(result.rows.map((r) => [r.key.toString('hex'), r.value]))
        return E.right(
          valid.right.map((k) => O.fromNullable(found.get(asBuffer(k).toString('hex')))),
        )
      }),
    write: (batch, options) => () =>
      guarded(async () => {
        const valid = validateBatch(batch)
        if (E.isLeft(valid)) return valid
        const sync = options.sync
        if (valid.right.length === 0 && !sync) return E.right(undefined)
        const ops = lastPerKey(valid.right)
        const puts = ops.flatMap((op) => (op.type === 'put' ? [op] : []))
        const dels = ops.flatMap((op) => (op.type === 'del' ? [asBuffer(op.key)] : []))
        const client = await pool.connect()
        try {
          await client.query('BEGIN')
          if (!sync) await client.query('SET LOCAL synchronous_commit = off')
          if (dels.length > 0) {
            await client.query(`DELETE FROM ${data} WHERE key = ANY($1::bytea[])`, [dels])
          }
          if (puts.length > 0) {
            await client.query(
              `INSERT INTO ${data} (key, value) SELECT * FROM unnest($1::bytea[], $2::bytea[]) ` +
                'ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value',
              [puts.map((p) => asBuffer(p.key)), puts.map((p) => asBuffer(p.value))],
            )
          }
          // A commit that wrote nothing flushes nothing: an empty synced write touches the
          // version record, so that its commit flushes every commit before it.
          if (ops.length === 0) {
            await client.query(`UPDATE ${meta} SET value = value WHERE name = 'schema'`)
          }
          await client.query('COMMIT')
          return E.right(undefined)
        } catch (error) {
          await client.query('ROLLBACK').catch(() => undefined)
          return E.left(fromPg('write', error))
        } finally {
          client.release()
        }
      }),
    iterator: (options) => {
      if (!calls.isOpen()) return E.left(closed(what))
      const valid = validateIterateOptions(options)
      if (E.isLeft(valid)) return valid
      return E.right(openIterator(valid.right))
    },
    openIterators: () => iterators.size,
    close: () => () => {
      closing ??= (async () => {
        await calls.drain()
        await Promise.all([...iterators].map((close) => close()))
        calls.finish()
        if (!ownsPool) return E.right(undefined)
        try {
          await pool.end()
          return E.right(undefined)
        } catch (error) {
          return E.left(fromPg('close', error))
        }
      })()
      return closing
    },
  }
}
