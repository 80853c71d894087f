/**
 * What a process other than the writer can see of a log on the server besides its records: the
 * writer epoch, and the sessions that last wrote the log or listen to its commits, as
 * `pg_stat_activity` shows them (`deltalog stats --watch`). A session's last statement tells
 * what it is: the log's write statement (write.ts) is the writer's, a `LISTEN` on the log's
 * channel a follower's. PostgreSQL shows the statements of the role's own sessions, and of every
 * role's to a member of `pg_read_all_stats`; the others' are counted as hidden.
 */
import * as E from 'fp-ts/lib/Either.js'
import type { StorageError } from '../errors.js'
import { fromPg } from './errors.js'
import { serverFor, type PostgresStorageOptions } from './open.js'
import { writeStatement } from './write.js'

/** A session of the server, as `pg_stat_activity` shows it. */
export interface Session {
  readonly pid: number
  /** `active`, `idle`, `idle in transaction`, … */
  readonly state: string
  /** When its state last changed (its last statement began or ended), as ISO 8601. */
  readonly since: string
  readonly application: string
  /** The client's address; null for a Unix socket. */
  readonly client: string | null
}

/** What the server shows of a log's writer and followers. */
export interface TableActivity {
  /** The writer epoch: raised by every open that takes the log over; null before the first. */
  readonly epoch: string | null
  /**
   * The sessions whose last statement was a write of this log. A writer's pool closes a
   * connection idle for its idle timeout (pg's default: 10 s), so a writer that has not written
   * for that long may have none.
   */
  readonly writers: ReadonlyArray<Session>
  /** The sessions listening for the log's commits (followers in other processes). */
  readonly listeners: ReadonlyArray<Session>
  /** Sessions of the database whose statements this role may not see. */
  readonly hidden: number
}

interface Row {
  readonly pid: number
  readonly state: string | null
  readonly since: Date | null
  readonly application: string
  readonly client: string | null
  readonly kind: 'writer' | 'listener' | 'hidden'
}

/**
 * Reads what the server shows of the log `options.table` (opened as nothing: no epoch raised,
 * no snapshot held), on a pool of its own unless `options.pool` is given.
 */
export const tableActivity = async (
  options: PostgresStorageOptions,
): Promise<E.Either<StorageError, TableActivity>> => {
  const server = await serverFor(options)
  if (E.isLeft(server)) return server
  const { pool, ownsPool, names } = server.right
  // The write statement's opening names the log's meta table, which no other statement starts with.
  const write = writeStatement(names).slice(0, writeStatement(names).indexOf(' FOR SHARE'))
  try {
    const epoch = await pool.query<{ value: string }>(
      `SELECT value FROM ${names.meta} WHERE name = 'epoch'`,
    )
    const sessions = await pool.query<Row>(
      'SELECT pid, state, state_change AS since, application_name AS application, ' +
        'client_addr::text AS client, ' +
        "CASE WHEN left(query, length($1)) = $1 THEN 'writer' " +
        "WHEN query = $2 THEN 'listener' ELSE 'hidden' END AS kind " +
        'FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() ' +
        "AND (left(query, length($1)) = $1 OR query = $2 OR query = '<insufficient privilege>') " +
        'ORDER BY pid',
      [write, `LISTEN "${names.channel}"`],
    )
    const of = (kind: Row['kind']): ReadonlyArray<Session> =>
      sessions.rows.filter((r) => r.kind === kind).map(sessionOf)
    return E.right({
      epoch: epoch.rows[0]?.value ?? null,
      writers: of('writer'),
      listeners: of('listener'),
      hidden: of('hidden').length,
    })
  } catch (error) {
    return E.left(fromPg(`watch ${names.table}`, error))
  } finally {
    if (ownsPool) await pool.end().catch(() => undefined)
  }
}

const sessionOf = (row: Row): Session => ({
  pid: row.pid,
  state: row.state ?? 'unknown',
  since: row.since?.toISOString() ?? '',
  application: row.application,
  client: row.client,
})
