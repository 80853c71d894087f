/**
 * Removing a log's tables: what `deltalog import` does to a table it created when its writes
 * failed part-way, so that a failed import leaves the database as it was.
 */
import * as E from 'fp-ts/lib/Either.js'
import type { StorageError } from '../errors.js'
import { fromPg } from './errors.js'
import { checkOptions, namesOf, poolOf, type PostgresStorageOptions } from './open.js'
import { boundPool, limitsOf } from './timeouts.js'

/**
 * Drops the log table `options.table` and its `_meta` table, in one transaction.
 * REQUIRES: no storage is open on them; the caller created them and nothing else wrote to them.
 */
export const dropLogTables = async (
  options: Pick<PostgresStorageOptions, 'table' | 'pool' | 'connection' | 'timeouts'>,
): Promise<E.Either<StorageError, void>> => {
  const parts = checkOptions(options)
  if (E.isLeft(parts)) return parts
  const limits = limitsOf(options.timeouts)
  if (E.isLeft(limits)) return limits
  const source = await poolOf(options, limits.right)
  if (E.isLeft(source)) return source
  const { ownsPool } = source.right
  const pool = boundPool(source.right.pool, limits.right)
  const { data, meta } = namesOf(options.table, parts.right)
  try {
    await pool.query(`DROP TABLE IF EXISTS ${data}, ${meta}`)
    return E.right(undefined)
  } catch (error) {
    return E.left(fromPg(`drop ${options.table}`, error))
  } finally {
    if (ownsPool) await pool.end().catch(() => undefined)
  }
}
