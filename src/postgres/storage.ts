/**
 * The Storage port on PostgreSQL, through `pg` (pure JavaScript). A log is one table of ordered
 * `bytea` keys and values; PostgreSQL compares `bytea` byte by byte, shorter first on a common
 * prefix, which is the port's order. One atomic batch is one transaction. `sync: true` commits
 * with `synchronous_commit` at least `on` (a server or role setting of `remote_write` or
 * `remote_apply` is kept): the commit, and with it every commit before it, is flushed to the
 * server's write-ahead log before the write resolves. `sync: false` commits with
 * `synchronous_commit = off` for that transaction alone: the server acknowledges before the
 * flush, and a crash of the server may lose the last such commits — whole, and never one before a
 * kept one, since its write-ahead log is one sequence.
 *
 * Every storage that can write is the log's writer: opening one raises the writer epoch kept in
 * the database, and each write transaction first takes a share lock on the epoch and checks it.
 * A later open takes the log over — its update of the epoch waits for the transaction in
 * flight, and every transaction after it sees the new epoch — so the older storage's writes fail
 * with `FENCED` and nothing of them lands. Each commit that writes notifies a channel of the
 * log's (`LISTEN`/`NOTIFY`), which `watch` listens to: readers in other processes are woken by
 * commits, not by polling.
 *
 * An iteration reads one snapshot: its pages are read in a `REPEATABLE READ` transaction on a
 * connection of its own, held until it ends or is closed. Writes and reads issued after an
 * iteration was opened wait until its snapshot is taken, so they are never in it. A read-only
 * storage opened with `snapshot: true` reads everything — gets and iterations — in one such
 * transaction, taken when it opens: the log as it was then, as a read-only RocksDB open sees it.
 */
import * as E from 'fp-ts/lib/Either.js'
import * as O from 'fp-ts/lib/Option.js'
import type * as TE from 'fp-ts/lib/TaskEither.js'
import { createHash } from 'node:crypto'
import type { Pool, PoolClient, PoolConfig, QueryResultRow } from 'pg'
import {
  closed,
  corruption,
  fenced,
  invalidArgument,
  ioError,
  notALog,
  readOnly as readOnlyError,
  type StorageError,
} from '../errors.js'
import {
  validateBatch,
  validateIterateOptions,
  validateKey,
  validateKeys,
  type BatchOp,
  type IterateOptions,
  type KeyValue,
  type PutOp,
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
}

/** The version of the table layout this adapter writes; a table of another is refused. */
export const SCHEMA_VERSION = 1

// Pairs per page of an iteration.
const PAGE = 1000

const IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/

// SQLSTATE of a missing table.
const UNDEFINED_TABLE = '42P01'

// How long a lost notification connection waits before it connects again, at most.
const MAX_RETRY_MS = 2000

// -------------------------------------------------------------------------------------
// helpers
// -------------------------------------------------------------------------------------

/**
 * A pg error as a StorageError; the message names what failed, never how it connected. The
 * cause is a redacted copy (its name, message and code), not the error itself, whose other
 * fields could hold a connection string.
 */
const fromPg = (what: string, error: unknown): StorageError => {
  const e = error as { message?: unknown; code?: unknown; name?: unknown }
  const detail = redact(typeof e.message === 'string' ? e.message : String(error))
  const code = typeof e.code === 'string' ? e.code : undefined
  const cause = Object.assign(new Error(detail), {
    name: typeof e.name === 'string' ? e.name : 'Error',
    ...(code === undefined ? {} : { code }),
  })
  const label = code === undefined ? '' : SQLSTATE.test(code) ? ` (SQLSTATE ${code})` : ` (${code})`
  const failed = ioError(`postgres ${what}: ${detail}${label}`, cause)
  return lostConnection(code, detail) ? { ...failed, lostConnection: true } : failed
}

const SQLSTATE = /^[0-9A-Z]{5}$/

/**
 * Whether an error says the connection was lost or could not be made, rather than that the
 * server refused what was asked: SQLSTATE class 08 (connection exception), a shutdown or a
 * server not yet accepting connections (57P01–57P03), too many connections (53300), a socket
 * error, or pg's own words for a connection that ended or could not be had.
 */
const lostConnection = (code: string | undefined, message: string): boolean =>
  code !== undefined
    ? code.startsWith('08') ||
      ['57P01', '57P02', '57P03', '53300'].includes(code) ||
      /^E(CONNREFUSED|CONNRESET|CONNABORTED|PIPE|TIMEDOUT|HOSTUNREACH|NETUNREACH|NOENT|AI_AGAIN)$/.test(
        code,
      )
    : /Connection terminated|is not queryable|timeout exceeded when trying to connect/.test(message)

/**
 * Removes anything that looks like a password from a text: the password of a URL
 * (`scheme://user:secret@host`, an `@` in it included) and a `password=…` setting or query
 * parameter.
 */
export const redact = (text: string): string =>
  text
    .replace(/(:\/\/[^:/@\s]*):[^\s/]*@/g, '$1:***@')
    .replace(/(password\s*=\s*)('[^']*'|[^\s&]+)/gi, '$1***')

// The type of a bytea, in PostgreSQL's catalog.
const BYTEA_OID = 17

/**
 * `items` as a `bytea[]` in PostgreSQL's binary array format (what `array_send` writes): `pg`
 * sends a Buffer parameter as binary, so the bytes cross as they are, not as hex text.
 */
const byteaArray = (items: ReadonlyArray<Uint8Array>): Buffer => {
  if (items.length === 0) {
    // No dimensions: the empty array.
    const empty = Buffer.alloc(12)
    empty.writeUInt32BE(BYTEA_OID, 8)
    return empty
  }
  let size = 20
  for (const item of items) size += 4 + item.length
  const out = Buffer.allocUnsafe(size)
  out.writeInt32BE(1, 0) // dimensions
  out.writeInt32BE(0, 4) // no nulls
  out.writeUInt32BE(BYTEA_OID, 8)
  out.writeInt32BE(items.length, 12)
  out.writeInt32BE(1, 16) // lower bound
  let at = 20
  for (const item of items) {
    out.writeInt32BE(item.length, at)
    out.set(item, at + 4)
    at += 4 + item.length
  }
  return out
}

const asBuffer = (bytes: Uint8Array): Buffer =>
  Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)

/** The last operation on each key: what a batch leaves, as ops on distinct keys. */
const lastPerKey = (batch: ReadonlyArray<BatchOp>): ReadonlyArray<BatchOp> => {
  const last = new Map<string, BatchOp>()
  for (const op of batch) {
    // latin1 maps each byte to one character: distinct keys, distinct strings.
    const id = Buffer.from(op.key.buffer, op.key.byteOffset, op.key.byteLength).toString('latin1')
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
    if (options.snapshot === true && options.readOnly !== true) {
      return E.left(invalidArgument('snapshot', 'is for a storage opened with readOnly: true'))
    }
    let pool: Pool
    let ownsPool = false
    if (options.pool !== undefined) {
      pool = options.pool
    } else {
      try {
        const pg = await import('pg')
        // Keepalives let a listening connection that died silently (a network partition) end,
        // and be made again.
        pool = new pg.default.Pool({ keepAlive: true, ...options.connection })
        ownsPool = true
      } catch (error) {
        return E.left(ioError(`cannot load pg: ${(error as Error).message}`, error))
      }
    }
    // A pool error outside any query (a dropped idle connection) must not crash the process.
    const onPoolError = (): void => undefined
    if (ownsPool) pool.on('error', onPoolError)
    const names: Names = {
      table,
      data: parts.map((p) => `"${p}"`).join('.'),
      meta: parts.map((p, i) => (i === parts.length - 1 ? `"${p}_meta"` : `"${p}"`)).join('.'),
      channel: `deltalog_${createHash('sha256').update(table).digest('hex').slice(0, 24)}`,
    }
    const readOnly = options.readOnly === true
    const refuse = async (error: StorageError): Promise<E.Either<StorageError, Storage>> => {
      if (ownsPool) await pool.end().catch(() => undefined)
      return E.left(error)
    }
    let epoch: string | undefined
    let pinned: Held | undefined
    try {
      const { data, meta } = names
      if (!readOnly) {
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
      }
      const version = await pool.query<{ value: string }>(
        `SELECT value FROM ${meta} WHERE name = 'schema'`,
      )
      const found = version.rows[0]?.value
      if (found !== String(SCHEMA_VERSION)) {
        return refuse(
          corruption(
            `postgres table ${table} has layout version ${String(found)}; this deltalog reads ${SCHEMA_VERSION}`,
          ),
        )
      }
      if (!readOnly) epoch = await takeOver(pool, meta)
      if (options.snapshot === true) {
        const held = await hold(pool)
        pinned = held
        // The snapshot is taken at the transaction's first statement.
        await held.client.query(
          `BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; SELECT FROM ${meta} LIMIT 1`,
        )
      }
    } catch (error) {
      pinned?.release(true)
      const missing = readOnly && (error as { code?: unknown }).code === UNDEFINED_TABLE
      return refuse(
        missing
          ? notALog(`postgres table ${table} holds no log (it does not exist)`)
          : fromPg(`open ${table}`, error),
      )
    }
    return E.right(makeStorage(pool, ownsPool, names, epoch, options.listen !== false, pinned))
  }

/** The quoted names of a log's tables, and its notification channel's (a plain identifier). */
interface Names {
  readonly table: string
  readonly data: string
  readonly meta: string
  readonly channel: string
}

/** A connection taken from the pool for a transaction or an iteration. */
interface Held {
  readonly client: PoolClient
  /** Gives it back; a `broken` one is ended instead. */
  readonly release: (broken: boolean) => void
}

/**
 * Takes a connection from the pool. While it is held, an error event it emits (its connection
 * lost) is reported by the query running on it as well, so the event must not crash the process.
 */
const hold = async (pool: Pool): Promise<Held> => {
  const client = await pool.connect()
  const ignore = (): void => undefined
  client.on('error', ignore)
  return {
    client,
    release: (broken) => {
      client.removeListener('error', ignore)
      client.release(broken)
    },
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
 * The listeners of `watch`, on one connection that LISTENs to the log's channel while any are
 * registered. A lost connection is made again (waiting longer after each failure, up to
 * MAX_RETRY_MS), and then every listener is called, since commits may have gone untold.
 */
const makeNotifier = (pool: Pool, channel: string) => {
  const listeners = new Set<() => void>()
  // The listening connection: how to let it go, which does so once.
  let current: { readonly drop: () => void } | undefined
  let connecting: Promise<void> | undefined
  let retryMs = 0
  let retry: ReturnType<typeof setTimeout> | undefined
  let stopped = false

  const tellAll = (): void => {
    for (const listener of [...listeners]) {
      // A listener's failure is its own: it must not become the connection's.
      try {
        listener()
      } catch {
        // ignored
      }
    }
  }

  const connect = (): Promise<void> => {
    connecting ??= (async () => {
      const client = await pool.connect()
      let dropped = false
      const drop = (error?: unknown): void => {
        if (dropped) return
        dropped = true
        client.removeListener('notification', tellAll)
        // Released with an error, the pool ends the connection rather than reuse it.
        client.release(error instanceof Error ? error : true)
      }
      const lost = (error?: unknown): void => {
        if (dropped) return
        drop(error)
        // Only a connection that was listening is made again here; one lost while it was
        // being made fails its `connect()`, whose caller decides.
        if (current?.drop !== drop) return
        current = undefined
        if (!stopped && listeners.size > 0) scheduleRetry()
      }
      client.on('error', lost)
      client.on('end', () => lost())
      client.on('notification', tellAll)
      try {
        await client.query(`LISTEN "${channel}"`)
      } catch (error) {
        drop(error)
        throw error
      }
      current = { drop }
    })().finally(() => (connecting = undefined))
    return connecting
  }

  const scheduleRetry = (): void => {
    if (retry !== undefined || current !== undefined || stopped) return
    retryMs = Math.min(Math.max(retryMs * 2, 50), MAX_RETRY_MS)
    retry = setTimeout(() => {
      retry = undefined
      if (stopped || listeners.size === 0 || current !== undefined) return
      connect().then(
        () => {
          retryMs = 0
          tellAll()
        },
        () => scheduleRetry(),
      )
    }, retryMs)
  }

  const disconnect = (): void => {
    if (retry !== undefined) clearTimeout(retry)
    retry = undefined
    current?.drop()
    current = undefined
  }

  return {
    /** Registers `listener` once the connection listens (or is being made again). */
    add: async (listener: () => void): Promise<() => Promise<void>> => {
      if (current === undefined && retry === undefined) await connect()
      listeners.add(listener)
      return async () => {
        listeners.delete(listener)
        if (listeners.size === 0) {
          await connecting?.catch(() => undefined)
          if (listeners.size === 0) disconnect()
        }
      }
    },
    stop: async (): Promise<void> => {
      stopped = true
      listeners.clear()
      await connecting?.catch(() => undefined)
      disconnect()
    },
  }
}

const makeStorage = (
  pool: Pool,
  ownsPool: boolean,
  names: Names,
  epoch: string | undefined,
  listen: boolean,
  pinned: Held | undefined,
): Storage => {
  const { table, data, meta, channel } = names
  const what = `postgres storage ${table}`
  // A write is one statement, so one round trip and one transaction of its own. It share-locks
  // the writer epoch (held to its commit: a takeover waits for it) and changes the table only
  // if the epoch is still this storage's ($1); it sets its own durability ($2: on or off,
  // local to its transaction), deletes ($3), upserts ($4, $5) and inserts the puts marked
  // fresh ($8, $9) by the last operation on each key, notifies the log's channel when it changed anything ($6), and when it changed
  // nothing but must sync ($7) touches the version record, since a commit that wrote nothing
  // flushes nothing. It returns the epoch it found: another one means it was fenced.
  const writeStatement =
    `WITH fence AS (SELECT value FROM ${meta} WHERE name = 'epoch' FOR SHARE), ` +
    'allowed AS (SELECT 1 FROM fence WHERE value = $1), ' +
    "durability AS (SELECT set_config('synchronous_commit', CASE WHEN $2 = 'off' THEN 'off' " +
    "WHEN current_setting('synchronous_commit') = 'off' THEN 'on' " +
    "ELSE current_setting('synchronous_commit') END, true)), " +
    `deleted AS (DELETE FROM ${data} WHERE key = ANY($3::bytea[]) AND EXISTS (SELECT FROM allowed)), ` +
    `added AS (INSERT INTO ${data} (key, value) SELECT * FROM unnest($8::bytea[], $9::bytea[]) ` +
    'WHERE EXISTS (SELECT FROM allowed)), ' +
    `inserted AS (INSERT INTO ${data} (key, value) SELECT * FROM unnest($4::bytea[], $5::bytea[]) ` +
    'WHERE EXISTS (SELECT FROM allowed) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value), ' +
    `touched AS (UPDATE ${meta} SET value = value WHERE name = 'schema' AND $7 AND EXISTS (SELECT FROM allowed)) ` +
    'SELECT (SELECT value FROM fence) AS epoch, (SELECT count(*) FROM durability) AS durability, ' +
    `(SELECT pg_notify('${channel}', '') FROM allowed WHERE $6) AS notified`
  const notifier = makeNotifier(pool, channel)
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

  /**
   * Where an iteration reads: the storage's snapshot, or a snapshot of its own in a transaction
   * on a connection it holds until it ends.
   */
  const openSession = async (): Promise<{
    readonly client: PoolClient
    readonly end: () => Promise<void>
  }> => {
    if (pinned !== undefined) return { client: pinned.client, end: () => Promise.resolve() }
    const { client, release } = await hold(pool)
    try {
      await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY')
    } catch (error) {
      release(true)
      throw error
    }
    return {
      client,
      end: async () => {
        let broken = false
        await client.query('COMMIT').catch(() => (broken = true))
        release(broken)
      },
    }
  }

  /** A query on the storage's snapshot, or on any connection of the pool. */
  const read = <R extends QueryResultRow>(text: string, values: unknown[]) =>
    pinned === undefined ? pool.query<R>(text, values) : pinned.client.query<R>(text, values)

  const openIterator = (options: IterateOptions): StorageIterator => {
    const reverse = options.reverse === true
    let left = options.limit ?? Infinity
    let after: Buffer | undefined
    let finished = left <= 0
    // The connection the pages are read on, and how to let it go.
    let held: { readonly client: PoolClient; readonly end: () => Promise<void> } | undefined
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
            held = await openSession()
            return E.right(await page(held.client))
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
        if (held !== undefined) {
          const { end } = held
          held = undefined
          await end()
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
                if (finished || held === undefined) {
                  await close()
                  return E.right(O.none)
                }
                const chunk = await page(held.client)
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
        const result = await read<{ value: Buffer }>(`SELECT value FROM ${data} WHERE key = $1`, [
          asBuffer(valid.right),
        ])
        return E.right(O.fromNullable(result.rows[0]?.value))
      }),
    getMany: (keys) => () =>
      guarded(async () => {
        const valid = validateKeys(keys)
        if (E.isLeft(valid)) return valid
        if (valid.right.length === 0) return E.right([])
        const result = await read<{ key: Buffer; value: Buffer }>(
          `SELECT key, value FROM ${data} WHERE key = ANY($1::bytea[])`,
          [byteaArray(valid.right)],
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
        if (epoch === undefined) {
          return E.left(readOnlyError(`${what} is open read-only (readOnly: true)`, undefined))
        }
        const sync = options.sync
        if (valid.right.length === 0 && !sync) return E.right(undefined)
        const ops = lastPerKey(valid.right)
        const puts: PutOp[] = []
        const fresh: PutOp[] = []
        const dels: Uint8Array[] = []
        for (const op of ops) {
          if (op.type === 'del') dels.push(op.key)
          else if (op.fresh === true) fresh.push(op)
          else puts.push(op)
        }
        const result = await pool.query<{ epoch: string | null }>(writeStatement, [
          epoch,
          sync ? 'on' : 'off',
          byteaArray(dels),
          byteaArray(puts.map((p) => p.key)),
          byteaArray(puts.map((p) => p.value)),
          ops.length > 0,
          ops.length === 0,
          byteaArray(fresh.map((p) => p.key)),
          byteaArray(fresh.map((p) => p.value)),
        ])
        const current = result.rows[0]?.epoch
        return current === epoch
          ? E.right(undefined)
          : E.left(
              fenced(
                `${what}: another writer took the log over (writer epoch ${String(current)}; this one's was ${epoch}); nothing of this write landed`,
              ),
            )
      }),
    iterator: (options) => {
      if (!calls.isOpen()) return E.left(closed(what))
      const valid = validateIterateOptions(options)
      if (E.isLeft(valid)) return valid
      return E.right(openIterator(valid.right))
    },
    ...(listen && pinned === undefined
      ? {
          watch: (listener: () => void) => () =>
            guarded(async () => E.right(await notifier.add(listener))),
        }
      : {}),
    openIterators: () => iterators.size,
    close: () => () => {
      closing ??= (async () => {
        await calls.drain()
        await notifier.stop()
        await Promise.all([...iterators].map((close) => close()))
        if (pinned !== undefined) {
          let broken = false
          await pinned.client.query('COMMIT').catch(() => (broken = true))
          pinned.release(broken)
        }
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
