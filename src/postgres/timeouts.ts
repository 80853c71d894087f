/**
 * Time limits on everything that waits for the server: making a connection, a free connection of
 * the pool, and the answer to a statement. The storage reaches the server through a pool bounded
 * here (`boundPool`), so that no call, whoever wrote it, waits without end: what times out throws
 * an error carrying a `timeout` (what waited, how long), which `fromPg` turns into `IO_ERROR`.
 * A statement that timed out has its connection dropped at once: its outcome is unknown, and a
 * connection in the middle of a statement is never used again.
 */
import * as E from 'fp-ts/lib/Either.js'
import type {
  Client,
  ClientConfig,
  Pool,
  PoolClient,
  QueryConfig,
  QueryResult,
  QueryResultRow,
} from 'pg'
import { invalidArgument, type InvalidArgumentError } from '../errors.js'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** How long the storage waits for the server, in milliseconds. */
export interface PostgresTimeouts {
  /**
   * Making a new connection: reaching the server and its startup answer (default 10 000).
   * Also how long `close()` waits for the server to let the pool's connections go.
   */
  readonly connectMs?: number
  /** A free connection, when every connection of the pool is in use (default 10 000). */
  readonly poolMs?: number
  /** The answer to one statement (default 30 000). */
  readonly queryMs?: number
}

/** What waited too long, and the limit it had: the `timeout` of an `IO_ERROR`. */
export interface Timeout {
  readonly waited: 'connect' | 'pool' | 'query'
  readonly ms: number
}

/** Every limit, defaults filled in. */
export type Limits = Required<PostgresTimeouts>

export const DEFAULT_TIMEOUTS: Limits = { connectMs: 10_000, poolMs: 10_000, queryMs: 30_000 }

// setTimeout's largest delay.
const MAX_MS = 2 ** 31 - 1

/** The limits of `timeouts`, defaults filled in; `INVALID_ARGUMENT` naming a bad one. */
export const limitsOf = (timeouts: unknown): E.Either<InvalidArgumentError, Limits> => {
  if (timeouts === undefined) return E.right(DEFAULT_TIMEOUTS)
  if (typeof timeouts !== 'object' || timeouts === null) {
    return E.left(invalidArgument('timeouts', 'must be an object of connectMs, poolMs, queryMs'))
  }
  const given = timeouts as Record<string, unknown>
  const limits: Record<string, number> = { ...DEFAULT_TIMEOUTS }
  for (const [name, value] of Object.entries(given)) {
    if (!(name in DEFAULT_TIMEOUTS)) {
      return E.left(invalidArgument(`timeouts.${name}`, 'is not a time limit of the storage'))
    }
    if (value === undefined) continue
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > MAX_MS) {
      return E.left(
        invalidArgument(`timeouts.${name}`, `must be a whole number of ms from 1 to ${MAX_MS}`),
      )
    }
    limits[name] = value
  }
  return E.right(limits as unknown as Limits)
}

/** An error saying that `timeout.waited` did not come within `timeout.ms`. */
export const timedOut = (timeout: Timeout, cause?: unknown): Error =>
  Object.assign(new Error(describe(timeout)), { timeout, cause })

/** The `timeout` an error carries, if it is one of `timedOut`. */
export const timeoutOf = (error: unknown): Timeout | undefined => {
  const timeout = (error as { timeout?: Timeout } | null | undefined)?.timeout
  return timeout !== undefined && ['connect', 'pool', 'query'].includes(timeout.waited)
    ? timeout
    : undefined
}

const describe = ({ waited, ms }: Timeout): string =>
  waited === 'connect'
    ? `no connection to the server within ${ms} ms`
    : waited === 'pool'
      ? `no free connection in the pool within ${ms} ms (every one is in use)`
      : `no answer from the server within ${ms} ms; the connection was dropped, and whether the statement took effect is unknown`

// -------------------------------------------------------------------------------------
// the bounded pool
// -------------------------------------------------------------------------------------

/**
 * `pool` with every wait bounded: `connect()` (a free connection within `poolMs` when every one
 * is in use, a new one within `connectMs` otherwise), each statement of a connection it hands
 * out and each `query()` (`queryMs`), and `end()` (`connectMs`, after which the connections the
 * server has not let go are dropped). Everything else is the pool's own.
 */
export const boundPool = (pool: Pool, limits: Limits): Pool => {
  // The connections handed out, for `end` to drop: every one of a pool the storage made.
  const clients = new Set<PoolClient>()
  const connect = async (): Promise<PoolClient> => {
    const client = await acquire(pool, limits)
    if (!clients.has(client)) {
      clients.add(client)
      client.once('end', () => clients.delete(client))
    }
    return bounded(client, limits)
  }
  const overrides: Record<PropertyKey, unknown> = {
    connect,
    query: async (text: string | QueryConfig, values?: unknown[]) => {
      const client = await connect()
      let failed: unknown
      const ignore = (): void => undefined
      client.on('error', ignore)
      try {
        return await client.query(text, values)
      } catch (error) {
        failed = error
        throw error
      } finally {
        client.removeListener('error', ignore)
        client.release(failed === undefined ? undefined : (failed as Error))
      }
    },
    end: () => endWithin(pool, clients, limits.connectMs),
  }
  return passThrough(pool, overrides)
}

/** A proxy of `target` whose `overrides` replace its own; its other methods stay bound to it. */
const passThrough = <T extends object>(target: T, overrides: Record<PropertyKey, unknown>): T =>
  new Proxy(target, {
    get: (t, name) => {
      if (Object.hasOwn(overrides, name)) return overrides[name]
      const value: unknown = Reflect.get(t, name, t)
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(t) : value
    },
  })

/**
 * A connection of `pool`: waits `poolMs` when every connection is in use, `connectMs` when a new
 * one is made. One that comes after the wait ended is given back at once.
 */
const acquire = (pool: Pool, { connectMs, poolMs }: Limits): Promise<PoolClient> => {
  const full = pool.idleCount === 0 && pool.totalCount >= (pool.options.max ?? 10)
  const timeout: Timeout = full
    ? { waited: 'pool', ms: poolMs }
    : { waited: 'connect', ms: connectMs }
  return new Promise<PoolClient>((resolve, reject) => {
    let late = false
    const timer = setTimeout(() => {
      late = true
      reject(timedOut(timeout))
    }, timeout.ms)
    pool.connect().then(
      (client) => {
        clearTimeout(timer)
        if (late) client.release()
        else resolve(client)
      },
      (error: Error) => {
        clearTimeout(timer)
        if (!late) reject(error)
      },
    )
  })
}

/**
 * `client` with each statement bounded by `queryMs`: one that times out drops the connection
 * (its socket destroyed, so every statement queued on it fails too) and throws the timeout.
 */
const bounded = (client: PoolClient, { queryMs }: Limits): PoolClient =>
  passThrough(client, {
    query: (text: string | QueryConfig, values?: unknown[]) =>
      answerWithin(client, queryMs, text, values),
  })

/**
 * The answer to one statement on `client` within `ms`; one that gets none drops the connection
 * (its socket destroyed, so every statement queued on it fails too) and throws the timeout.
 */
export const answerWithin = <R extends QueryResultRow = QueryResultRow>(
  client: Client | PoolClient,
  ms: number,
  text: string | QueryConfig,
  values?: unknown[],
): Promise<QueryResult<R>> => {
  let timer: ReturnType<typeof setTimeout> | undefined
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      client.connection.stream.destroy()
      reject(timedOut({ waited: 'query', ms }))
    }, ms)
  })
  const answered = client.query<R>(text, values)
  // Once the timeout has answered, the statement's own failure is nobody's.
  answered.catch(() => undefined)
  return Promise.race([answered, expired]).finally(() => clearTimeout(timer))
}

/**
 * Ends `pool`, waiting `ms` at most for the server to let its connections go (pg's `end` resolves
 * before they have): then drops those left, whose sockets would otherwise stay open, waiting for
 * a server that does not answer, and keep the process alive.
 */
const endWithin = async (pool: Pool, clients: Set<PoolClient>, ms: number): Promise<void> => {
  const left = [...clients]
  const gone = Promise.all(left.map((c) => new Promise((resolve) => c.once('end', resolve))))
  const ended = pool.end()
  let timer: ReturnType<typeof setTimeout> | undefined
  const done = await Promise.race([
    Promise.all([ended, gone]).then(() => true),
    new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms))),
  ])
  clearTimeout(timer)
  if (done) return
  for (const client of left) client.connection.stream.destroy()
  // A connection still being made ends by its own `connectMs` (see `connectingWithin`).
  await Promise.race([ended, new Promise((resolve) => setTimeout(resolve, ms).unref())])
}

/**
 * `pg`'s Client, each connection of which is made within `connectMs` — reached, started and
 * ready — or its socket destroyed: what a pool the storage makes connects with.
 */
export const connectingWithin = (base: typeof Client, connectMs: number): typeof Client =>
  class extends base {
    constructor(config?: string | ClientConfig) {
      super({
        ...(typeof config === 'string' ? { connectionString: config } : config),
        connectionTimeoutMillis: connectMs,
      })
    }
  }
