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
import type { QueryResult, QueryResultRow } from 'pg'
import { closed, readOnly as readOnlyError, toPromise, type StorageError } from '../errors.js'
import { makeCallGuard } from '../storage/guard.js'
import {
  disposeBy,
  validateBatch,
  validateIterateOptions,
  validateKey,
  validateKeys,
  type DisposableStorage,
} from '../storage/port.js'
import { asBuffer, byteaArray } from './bytea.js'
import { commitAndRelease } from './connection.js'
import { fromPg } from './errors.js'
import { openIterator, type Reads } from './iterator.js'
import { makeNotifier } from './notifier.js'
import { openTables, type Opened, type PostgresStorageOptions } from './open.js'
import { writeBatch, writeStatement } from './write.js'

export { redact } from './errors.js'
export { SCHEMA_VERSION, type PostgresStorageOptions } from './open.js'

/** A storage on PostgreSQL: the Storage port, closed by `await using` as by `close()`. */
type PostgresStorage = DisposableStorage

// -------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------

/**
 * Opens the log table `options.table`, creating it (and its mark) on first use. The role needs
 * CREATE on the schema for the first open, then SELECT, INSERT, UPDATE and DELETE on the two
 * tables. Rejects with a `DeltalogError`: `INVALID_ARGUMENT` for options it refuses before
 * connecting, `NOT_A_LOG` for a table deltalog did not create, `CORRUPTION` or `IO_ERROR` from
 * the server.
 */
export const openPostgresStorage = (options: PostgresStorageOptions): Promise<PostgresStorage> =>
  toPromise(openPostgresStorageTE(options))

/** {@link openPostgresStorage} as a TaskEither: the fp-ts form, which never rejects. */
export const openPostgresStorageTE =
  (options: PostgresStorageOptions): TE.TaskEither<StorageError, PostgresStorage> =>
  async () =>
    E.map(makeStorage)(await openTables(options))

// -------------------------------------------------------------------------------------
// the adapter
// -------------------------------------------------------------------------------------

/** The Storage port on a log's opened tables. */
const makeStorage = (opened: Opened): PostgresStorage => {
  const { pool, names, epoch, pinned } = opened
  const { table, data } = names
  const what = `postgres storage ${table}`
  const statement = writeStatement(names)
  const notifier = makeNotifier(pool, names.channel)
  const calls = makeCallGuard(what)
  const reads: Reads = {
    pool,
    data,
    pinned,
    calls,
    iterators: new Set(),
    snapshots: new Set(),
  }
  let closing: Promise<E.Either<StorageError, void>> | undefined

  // A call runs after the snapshots of the iterations opened before it, and maps what pg throws.
  const guarded = <A>(
    run: () => Promise<E.Either<StorageError, A>>,
  ): Promise<E.Either<StorageError, A>> =>
    calls.guarded(async () => {
      try {
        const { snapshots } = reads
        if (snapshots.size > 0) await Promise.all([...snapshots].map((s) => s.catch(() => 0)))
        return await run()
      } catch (error) {
        return E.left(fromPg('query', error))
      }
    })

  const close = (): Promise<E.Either<StorageError, void>> => {
    closing ??= closeStorage(opened, reads, notifier.stop)
    return closing
  }

  return {
    capabilities: { persistent: true, sync: true },
    location: table,
    get: (key) => () => guarded(() => getOne(reads, key)),
    getMany: (keys) => () => guarded(() => getMany(reads, keys)),
    write: (batch, options) => () =>
      guarded(async () => {
        const valid = validateBatch(batch)
        if (E.isLeft(valid)) return valid
        if (epoch === undefined) {
          return E.left(readOnlyError(`${what} is open read-only (readOnly: true)`, undefined))
        }
        return writeBatch(pool, statement, what, epoch, valid.right, options.sync)
      }),
    iterator: (options) => {
      if (!calls.isOpen()) return E.left(closed(what))
      const valid = validateIterateOptions(options)
      if (E.isLeft(valid)) return valid
      return E.right(openIterator(reads, valid.right))
    },
    ...(opened.listen && pinned === undefined
      ? {
          watch: (listener: () => void) => () =>
            guarded(async () => E.right(await notifier.add(listener))),
        }
      : {}),
    openIterators: () => reads.iterators.size,
    close: () => close,
    [Symbol.asyncDispose]: disposeBy(() => close),
  }
}

/** The value under `key`, read on the storage's snapshot or any connection of the pool. */
const getOne = async (
  reads: Reads,
  key: Uint8Array,
): Promise<E.Either<StorageError, O.Option<Uint8Array>>> => {
  const valid = validateKey(key)
  if (E.isLeft(valid)) return valid
  const result = await query<{ value: Buffer }>(
    reads,
    `SELECT value FROM ${reads.data} WHERE key = $1`,
    [asBuffer(valid.right)],
  )
  return E.right(O.fromNullable(result.rows[0]?.value))
}

/** The values under `keys`, in the order asked, read in one query. */
const getMany = async (
  reads: Reads,
  keys: ReadonlyArray<Uint8Array>,
): Promise<E.Either<StorageError, ReadonlyArray<O.Option<Uint8Array>>>> => {
  const valid = validateKeys(keys)
  if (E.isLeft(valid)) return valid
  if (valid.right.length === 0) return E.right([])
  const result = await query<{ key: Buffer; value: Buffer }>(
    reads,
    `SELECT key, value FROM ${reads.data} WHERE key = ANY($1::bytea[])`,
    [byteaArray(valid.right)],
  )
  const found = new Map(result.rows.map((r) => [r.key.toString('hex'), r.value]))
  return E.right(valid.right.map((k) => O.fromNullable(found.get(asBuffer(k).toString('hex')))))
}

/** A query on the storage's snapshot, or on any connection of the pool. */
const query = <R extends QueryResultRow>(
  { pool, pinned }: Reads,
  text: string,
  values: unknown[],
): Promise<QueryResult<R>> =>
  pinned === undefined ? pool.query<R>(text, values) : pinned.client.query<R>(text, values)

/**
 * Closes a storage: waits for the calls in flight, stops listening, closes every iteration,
 * ends the snapshot's transaction, and ends the pool if the storage made it.
 * REQUIRES: called once per storage (its `close` keeps the promise).
 */
const closeStorage = async (
  { pool, ownsPool, pinned }: Opened,
  reads: Reads,
  stopNotifier: () => Promise<void>,
): Promise<E.Either<StorageError, void>> => {
  await reads.calls.drain()
  await stopNotifier()
  await Promise.all([...reads.iterators].map((close) => close()))
  if (pinned !== undefined) await commitAndRelease(pinned)
  reads.calls.finish()
  if (!ownsPool) return E.right(undefined)
  try {
    await pool.end()
    return E.right(undefined)
  } catch (error) {
    return E.left(fromPg('close', error))
  }
}
