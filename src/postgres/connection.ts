/**
 * A connection taken from the pool for a transaction, an iteration or the storage's snapshot,
 * and how it goes back: released to the pool when its transaction ended cleanly, ended when
 * not (a broken connection is never reused).
 */
import type { Pool, PoolClient } from 'pg'

/** A connection taken from the pool for a transaction or an iteration. */
export interface Held {
  readonly client: PoolClient
  /** Gives it back; a `broken` one is ended instead. */
  readonly release: (broken: boolean) => void
}

/**
 * Takes a connection from the pool. While it is held, an error event it emits (its connection
 * lost) is reported by the query running on it as well, so the event must not crash the process.
 */
export const hold = async (pool: Pool): Promise<Held> => {
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
 * Commits the transaction open on `held` and gives the connection back; one whose COMMIT failed
 * is ended instead. Never rejects.
 * REQUIRES: a transaction is open on `held`, and nothing else is running on it.
 */
export const commitAndRelease = async (held: Held): Promise<void> => {
  let broken = false
  await held.client.query('COMMIT').catch(() => (broken = true))
  held.release(broken)
}
