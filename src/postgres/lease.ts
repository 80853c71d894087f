/**
 * Leases: of all the processes, on any hosts, that ask for the lease of a table (and a name),
 * one at a time holds it and the others wait — how one instance of a consumer or projection runs
 * while standbys wait to take over when it dies or hangs (docs/postgres.md).
 *
 * A lease is a transaction-scoped advisory lock, held by an open transaction on a connection of
 * its own: no table, and nothing left behind, since the server frees the lock when the session
 * ends. A killed holder's session ends at once. A paused or hung holder's ends once it has been
 * idle in its transaction for the lease's `ttlMs` (`idle_in_transaction_session_timeout`, set for
 * that transaction alone), which a running holder prevents by a heartbeat every ttl/3. A holder
 * whose heartbeat fails, or gets no answer within ttl/3, lets the lease go and says so on `lost`
 * — before the server could give it to another. What makes a former holder's late write harmless
 * is not the lease but the writer epoch: the new holder opens the table's storage after it holds
 * the lease, and that open fences every earlier writer.
 */
import { createHash } from 'node:crypto'
import * as E from 'fp-ts/lib/Either.js'
import * as t from 'io-ts'
import type { Client, PoolConfig } from 'pg'
import {
  aborted,
  invalidArgument,
  ioError,
  orThrow,
  toDeltalogError,
  type DeltalogErrorValue,
  type StorageError,
} from '../errors.js'
import { AbortSignalLike, decodeStrict, Positive } from '../log/options.js'
import { lostConnection, pause } from '../log/retry.js'
import { fromPg } from './errors.js'
import { checkTable, loadPg } from './open.js'
import {
  answerWithin,
  connectingWithin,
  limitsOf,
  type Limits,
  type PostgresTimeouts,
} from './timeouts.js'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** What `holdLease` waits for. */
export interface LeaseOptions {
  /** The connection's settings, as `openPostgresStorage` takes them; the lease makes its own. */
  readonly connection: PoolConfig
  /**
   * The table whose lease it is, `name` or `schema.name` as the storage's `table`: the table of
   * the store that keeps what the holder writes, which the holder opens after it holds the lease.
   */
  readonly table: string
  /** Tells apart leases of one table that guard different work (default: none). */
  readonly name?: string
  /**
   * How long a holder that stopped answering (paused, hung, cut off) keeps the lease before the
   * server frees it, in ms (default 10 000, at least 100). The holder sends a heartbeat every
   * third of it, and counts the lease lost when one fails or gets no answer within a third.
   */
  readonly ttlMs?: number
  /**
   * Aborting it gives up the wait (`ABORTED`). A lease once held is let go by `release()` (or
   * `await using`), after what it guards has stopped, not by this signal.
   */
  readonly signal?: AbortSignal
  /** How long to wait for a new connection (`connectMs`) and for the answer to a statement (`queryMs`). */
  readonly timeouts?: PostgresTimeouts
}

/** A lease this process holds. */
export interface Lease {
  /**
   * Aborts when the lease is no longer held: lost (its reason an `IO_ERROR`: the connection
   * ended, or a heartbeat failed or got no answer in time) or let go (`ABORTED`). Give it to the
   * runs the lease guards, as (or among) their signal.
   */
  readonly lost: AbortSignal
  /** Lets the lease go; resolves once the server has freed it (or the connection is dropped). */
  readonly release: () => Promise<void>
  /** Does what `release()` does, for `await using lease = await holdLease(…)`. */
  readonly [Symbol.asyncDispose]: () => Promise<void>
}

const LeaseOptionsCodec = t.partial({
  connection: t.UnknownRecord,
  table: t.unknown,
  name: t.string,
  ttlMs: Positive,
  signal: AbortSignalLike,
  timeouts: t.unknown,
})

const DEFAULT_TTL_MS = 10_000
const MIN_TTL_MS = 100
// setTimeout's largest delay, and PostgreSQL's largest idle_in_transaction_session_timeout.
const MAX_TTL_MS = 2 ** 31 - 1
/** How long one try waits for the lock before the next (a wait whose end is always known). */
const TRY_MS = 2000
/** The longest wait between two connections after a lost one, doubling from 50 ms. */
const MAX_RETRY_MS = 2000
// SQLSTATEs of a lock that did not come within lock_timeout, and of a statement cancelled (by a
// statement_timeout of the role's, say): both mean "not yet".
const LOCK_NOT_AVAILABLE = '55P03'
const QUERY_CANCELED = '57014'

/** Checked options. */
interface Asked {
  readonly connection: PoolConfig
  readonly parts: ReadonlyArray<string>
  readonly name: string
  readonly ttlMs: number
  readonly signal: AbortSignal | undefined
  readonly limits: Limits
}

// -------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------

/**
 * Resolves once this process holds the lease of `table` (and `name`), waiting while another
 * holds it — for as long as it takes, unless `signal` aborts (`ABORTED`). A lost connection
 * while waiting is made again; other failures reject (`IO_ERROR`, `INVALID_ARGUMENT`).
 */
export const holdLease = async (options: LeaseOptions): Promise<Lease> => {
  const asked = orThrow(checkLeaseOptions(options))
  const pg = orThrow(await loadPg())
  const Connecting = connectingWithin(pg.Client, asked.limits.connectMs)
  const { signal } = asked
  const stopped = new Promise<void>((resolve) =>
    signal?.addEventListener('abort', () => resolve(), { once: true }),
  )
  let retryMs = 0
  for (;;) {
    const waiting = await waitOnce(
      asked,
      () => new Connecting({ keepAlive: true, ...asked.connection }),
    )
    if (E.isRight(waiting)) return waiting.right
    if (!lostConnection(waiting.left)) throw toDeltalogError(waiting.left)
    retryMs = Math.min(Math.max(retryMs * 2, 50), MAX_RETRY_MS)
    await pause(stopped, retryMs)
  }
}

/** The options' mistakes, found before any connection is made. */
const checkLeaseOptions = (options: unknown): E.Either<DeltalogErrorValue, Asked> => {
  const decoded = decodeStrict(LeaseOptionsCodec, 'options', options)
  if (E.isLeft(decoded)) return decoded
  const o = decoded.right
  if (o.connection === undefined) {
    return E.left(invalidArgument('options.connection', "is required: the server's settings"))
  }
  const parts = checkTable(o.table)
  if (E.isLeft(parts)) return parts
  const ttlMs = o.ttlMs ?? DEFAULT_TTL_MS
  if (ttlMs < MIN_TTL_MS || ttlMs > MAX_TTL_MS) {
    return E.left(
      invalidArgument(
        'options.ttlMs',
        `must be a whole number of ms from ${MIN_TTL_MS} to ${MAX_TTL_MS}`,
      ),
    )
  }
  const limits = limitsOf(o.timeouts)
  if (E.isLeft(limits)) return limits
  return E.right({
    connection: o.connection,
    parts: parts.right,
    name: o.name ?? '',
    ttlMs,
    signal: o.signal,
    limits: limits.right,
  })
}

// -------------------------------------------------------------------------------------
// waiting
// -------------------------------------------------------------------------------------

/**
 * Connects, and waits on that connection until the lease is held: the lease, or why not. The
 * connection is dropped unless it holds the lease.
 */
const waitOnce = async (
  asked: Asked,
  connect: () => Client,
): Promise<E.Either<DeltalogErrorValue, Lease>> => {
  const { signal } = asked
  const isAborted = (): boolean => signal?.aborted === true
  const stopped = (): E.Either<DeltalogErrorValue, Lease> =>
    E.left(aborted('the wait for the lease', signal?.reason))
  if (isAborted()) return stopped()
  const client = connect()
  // An error event (the connection lost) is reported by the statement in flight as well.
  const ignore = (): void => undefined
  client.on('error', ignore)
  // An abort ends the wait at once: the connection is dropped, and the statement fails.
  const drop = (): void => void client.connection.stream.destroy()
  signal?.addEventListener('abort', drop, { once: true })
  try {
    await client.connect()
    const key = await keyOf(client, asked)
    // An abort drops the connection, which fails the try in flight.
    while (!(await tryLock(client, key, asked))) continue
    if (isAborted()) throw new Error('aborted')
    signal?.removeEventListener('abort', drop)
    client.removeListener('error', ignore)
    return E.right(holding(client, asked))
  } catch (error) {
    signal?.removeEventListener('abort', drop)
    drop()
    return isAborted() ? stopped() : E.left(fromPg('lease', error))
  }
}

/**
 * The lock's key: 64 bits of the SHA-256 of the table — qualified by the schema an unqualified
 * name resolves to on this connection, as the storage's statements resolve it — and the name.
 */
const keyOf = async (client: Client, { parts, name, limits }: Asked): Promise<string> => {
  const [schema, table] =
    parts.length === 2
      ? parts
      : [
          (
            await answerWithin<{ schema: string | null }>(
              client,
              limits.queryMs,
              'SELECT current_schema() AS schema',
            )
          ).rows[0]?.schema ?? '',
          parts[0],
        ]
  const hash = createHash('sha256').update(`deltalog lease\n${schema}.${table}\n${name}`)
  return hash.digest().readBigInt64BE(0).toString()
}

/**
 * One try: opens a transaction whose idle time is bounded by the ttl, and waits TRY_MS at most
 * for the lock in it. True when the lock is held (the transaction stays open); false when it did
 * not come (the transaction rolled back).
 */
const tryLock = async (client: Client, key: string, { ttlMs, limits }: Asked): Promise<boolean> => {
  try {
    await answerWithin(
      client,
      TRY_MS + limits.queryMs,
      `BEGIN; SET LOCAL idle_in_transaction_session_timeout = ${ttlMs}; ` +
        `SET LOCAL lock_timeout = ${TRY_MS}; SELECT pg_advisory_xact_lock('${key}'::bigint)`,
    )
    return true
  } catch (error) {
    const code = (error as { code?: unknown }).code
    if (code !== LOCK_NOT_AVAILABLE && code !== QUERY_CANCELED) throw error
    await answerWithin(client, limits.queryMs, 'ROLLBACK')
    return false
  }
}

// -------------------------------------------------------------------------------------
// holding
// -------------------------------------------------------------------------------------

/**
 * The lease held on `client`: heartbeats every ttl/3 until it is let go or lost.
 * REQUIRES: `client` holds the lock in an open transaction, and nothing else runs on it.
 */
const holding = (client: Client, { ttlMs, limits }: Asked): Lease => {
  const lost = new AbortController()
  const beatMs = Math.floor(ttlMs / 3)
  let timer: ReturnType<typeof setTimeout> | undefined
  let ended = false
  let releasing: Promise<void> | undefined

  /** Ends the lease, once: no more heartbeats, and `lost` aborts with `why`. */
  const end = (why: DeltalogErrorValue): boolean => {
    if (ended) return false
    ended = true
    clearTimeout(timer)
    lost.abort(toDeltalogError(why))
    return true
  }
  /** The lease is gone: the connection is dropped, so the server frees the lock if it has not. */
  const lose = (why: StorageError): void => {
    if (end(why)) client.connection.stream.destroy()
  }
  const beat = (): void => {
    answerWithin(client, beatMs, 'SELECT 1').then(
      () => {
        if (!ended) timer = setTimeout(beat, beatMs)
      },
      (error: unknown) => lose(fromPg('lease heartbeat', error)),
    )
  }
  const release = (): Promise<void> =>
    (releasing ??= (async () => {
      if (!end(aborted('the lease', 'it was let go'))) return
      // Rolling back frees the lock at once; ending the connection would too, later.
      await answerWithin(client, limits.queryMs, 'ROLLBACK').catch(() => undefined)
      await endWithin(client, limits.connectMs)
    })())

  client.on('error', (error) => lose(fromPg('lease', error)))
  client.on('end', () => lose(ioError('postgres lease: the connection ended', undefined)))
  timer = setTimeout(beat, beatMs)
  return { lost: lost.signal, release, [Symbol.asyncDispose]: release }
}

/** Ends `client`'s connection, or drops it if the server does not let it go within `ms`. */
const endWithin = async (client: Client, ms: number): Promise<void> => {
  let timer: ReturnType<typeof setTimeout> | undefined
  const ended = await Promise.race([
    client.end().then(
      () => true,
      () => false,
    ),
    new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms))),
  ])
  clearTimeout(timer)
  if (!ended) client.connection.stream.destroy()
}
