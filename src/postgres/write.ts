/**
 * A write: one atomic batch as one statement, so one round trip and one transaction of its own,
 * fenced by the writer epoch and notifying the log's channel when it changed anything.
 */
import * as E from 'fp-ts/lib/Either.js'
import type { Pool } from 'pg'
import { fenced, type StorageError } from '../errors.js'
import type { BatchOp, PutOp } from '../storage/port.js'
import { asBuffer, byteaArray } from './bytea.js'
import type { Names } from './open.js'

/**
 * The statement of every write of a log. It share-locks the writer epoch (held to its commit: a
 * takeover waits for it) and changes the table only if the epoch is still this storage's ($1);
 * it sets its own durability ($2: on or off, local to its transaction), deletes ($3), upserts
 * ($4, $5) and inserts the puts marked fresh ($8, $9) by the last operation on each key,
 * notifies the log's channel when it changed anything ($6), and when it changed nothing but
 * must sync ($7) touches the version record, since a commit that wrote nothing flushes nothing.
 * It returns the epoch it found: another one means it was fenced.
 */
export const writeStatement = ({ data, meta, channel }: Names): string =>
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

/**
 * Applies `batch` with the write statement, as the writer of epoch `epoch`; `FENCED` when
 * another writer took the log over, in which case nothing of it landed.
 * REQUIRES: `batch` passed `validateBatch`; `statement` is `writeStatement` of the log's names.
 */
export const writeBatch = async (
  pool: Pool,
  statement: string,
  what: string,
  epoch: string,
  batch: ReadonlyArray<BatchOp>,
  sync: boolean,
): Promise<E.Either<StorageError, void>> => {
  if (batch.length === 0 && !sync) return E.right(undefined)
  const ops = lastPerKey(batch)
  const puts: PutOp[] = []
  const fresh: PutOp[] = []
  const dels: Uint8Array[] = []
  for (const op of ops) {
    if (op.type === 'del') dels.push(op.key)
    else if (op.fresh === true) fresh.push(op)
    else puts.push(op)
  }
  const result = await pool.query<{ epoch: string | null }>(statement, [
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
}

/** The last operation on each key: what a batch leaves, as ops on distinct keys. */
const lastPerKey = (batch: ReadonlyArray<BatchOp>): ReadonlyArray<BatchOp> => {
  const last = new Map<string, BatchOp>()
  for (const op of batch) {
    // latin1 maps each byte to one character: distinct keys, distinct strings.
    const id = asBuffer(op.key).toString('latin1')
    last.delete(id)
    last.set(id, op)
  }
  return [...last.values()]
}
