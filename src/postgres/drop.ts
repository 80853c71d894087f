/**
 * Removing a log's tables: what `deltalog import` does to a table it created when its writes
 * failed part-way, so that a failed import leaves the database as it was.
 */
import * as E from 'fp-ts/lib/Either.js'
import type { StorageError } from '../errors.js'
import { fromPg } from './errors.js'
import { serverFor, type PostgresStorageOptions } from './open.js'

/**
 * Drops the log table `options.table` and its `_meta` table, in one transaction.
 * REQUIRES: no storage is open on them; the caller created them and nothing else wrote to them.
 */
export const dropLogTables = async (
  options: Pick<PostgresStorageOptions, 'table' | 'pool' | 'connection' | 'timeouts'>,
): Promise<E.Either<StorageError, void>> => {
  const server = await serverFor(options)
  if (E.isLeft(server)) return server
  const { pool, ownsPool, names } = server.right
  try {
    await pool.query(`DROP TABLE IF EXISTS ${names.data}, ${names.meta}`)
    return E.right(undefined)
  } catch (error) {
    return E.left(fromPg(`drop ${options.table}`, error))
  } finally {
    if (ownsPool) await pool.end().catch(() => undefined)
  }
}
