/**
 * Iterations over a log's table. An iteration reads one snapshot: its pages are read in a
 * `REPEATABLE READ` transaction on a connection of its own (or on the storage's pinned
 * snapshot), held until it ends or is closed. Its snapshot and first page are taken when it is
 * opened; calls issued after that wait for them (`Reads.snapshots`), so they are never in it.
 */
import * as E from 'fp-ts/lib/Either.js'
import * as O from 'fp-ts/lib/Option.js'
import type { Pool, PoolClient } from 'pg'
import { closed, type StorageError } from '../errors.js'
import type { CallGuard } from '../storage/guard.js'
import type { IterateOptions, KeyValue, StorageIterator } from '../storage/port.js'
import { asBuffer } from './bytea.js'
import { commitAndRelease, hold, type Held } from './connection.js'
import { fromPg } from './errors.js'

// Pairs per page of an iteration.
const PAGE = 1000

/** What the iterations of one storage share with it. */
export interface Reads {
  readonly pool: Pool
  /** The quoted name of the log's data table. */
  readonly data: string
  /** The storage's snapshot, with `snapshot: true`. */
  readonly pinned: Held | undefined
  readonly calls: CallGuard
  /** How to close each iteration still open: the storage's `close` closes them all. */
  readonly iterators: Set<() => Promise<void>>
  /** Snapshots of iterations being taken: what is issued later waits for them. */
  readonly snapshots: Set<Promise<unknown>>
}

/** The connection an iteration reads its pages on, and how to let it go. */
interface Session {
  readonly client: PoolClient
  readonly end: () => Promise<void>
}

/** One iteration's position and resources. */
interface Iteration {
  readonly options: IterateOptions
  /** Pairs still to read under `limit`. */
  left: number
  /** The last key read: the next page starts past it. */
  after: Buffer | undefined
  /** Whether no page remains to be read. */
  finished: boolean
  held: Session | undefined
  /** The close in progress or done. */
  ended: Promise<void> | undefined
  /** The first page, read when the iteration was opened. */
  first: Promise<E.Either<StorageError, ReadonlyArray<KeyValue>>>
  firstTaken: boolean
}

/**
 * Opens an iteration; its snapshot and first page are taken now, before anything issued after
 * this call.
 * REQUIRES: `options` passed `validateIterateOptions`, and the storage is open.
 */
export const openIterator = (reads: Reads, options: IterateOptions): StorageIterator => {
  const left = options.limit ?? Infinity
  const it: Iteration = {
    options,
    left,
    after: undefined,
    finished: left <= 0,
    held: undefined,
    ended: undefined,
    first: Promise.resolve(E.right([])),
    firstTaken: false,
  }
  if (!it.finished) it.first = readFirst(reads, it)
  const first = it.first
  reads.snapshots.add(first)
  void first.then(() => reads.snapshots.delete(first))
  const close = (): Promise<void> => closeIteration(reads, it, close)
  reads.iterators.add(close)
  return {
    next: () => () =>
      it.ended !== undefined
        ? Promise.resolve(E.left(closed('iterator')))
        : reads.calls.guarded(() => nextChunk(reads, it, close)),
    close,
  }
}

/** Takes the iteration's session, and reads the first page on it. */
const readFirst = async (
  reads: Reads,
  it: Iteration,
): Promise<E.Either<StorageError, ReadonlyArray<KeyValue>>> => {
  try {
    it.held = await openSession(reads)
    return E.right(await readPage(reads.data, it, it.held.client))
  } catch (error) {
    it.finished = true
    return E.left(fromPg('iterate', error))
  }
}

/**
 * The next chunk of pairs: the first page, once, then a page read now; `none` (and the
 * iteration closed) at the end.
 * REQUIRES: the iteration is not closed.
 */
const nextChunk = async (
  reads: Reads,
  it: Iteration,
  close: () => Promise<void>,
): Promise<E.Either<StorageError, O.Option<ReadonlyArray<KeyValue>>>> => {
  try {
    if (!it.firstTaken) {
      it.firstTaken = true
      const chunk = await it.first
      if (E.isLeft(chunk)) return chunk
      if (chunk.right.length > 0) return E.right(O.some(chunk.right))
    }
    if (it.finished || it.held === undefined) {
      await close()
      return E.right(O.none)
    }
    const chunk = await readPage(reads.data, it, it.held.client)
    if (chunk.length === 0) {
      await close()
      return E.right(O.none)
    }
    return E.right(O.some(chunk))
  } catch (error) {
    return E.left(fromPg('iterate', error))
  }
}

/**
 * Ends the iteration, once: it is forgotten by the storage, its first page awaited, and its
 * session ended. Every later call returns the same promise.
 * REQUIRES: `close` is the function registered for `it` in `reads.iterators`.
 */
const closeIteration = (reads: Reads, it: Iteration, close: () => Promise<void>): Promise<void> => {
  it.finished = true
  it.ended ??= (async () => {
    reads.iterators.delete(close)
    await it.first
    if (it.held !== undefined) {
      const { end } = it.held
      it.held = undefined
      await end()
    }
  })()
  return it.ended
}

/**
 * Where an iteration reads: the storage's snapshot, or a snapshot of its own in a transaction
 * on a connection it holds until it ends.
 */
const openSession = async (reads: Reads): Promise<Session> => {
  if (reads.pinned !== undefined) {
    return { client: reads.pinned.client, end: () => Promise.resolve() }
  }
  const held = await hold(reads.pool)
  try {
    await held.client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY')
  } catch (error) {
    held.release(true)
    throw error
  }
  return { client: held.client, end: () => commitAndRelease(held) }
}

/**
 * Reads the iteration's next page on `client`, and moves its position past it.
 * REQUIRES: no other page of the iteration is being read.
 */
const readPage = async (
  data: string,
  it: Iteration,
  client: PoolClient,
): Promise<ReadonlyArray<KeyValue>> => {
  const params: unknown[] = []
  const where = bounds(it.options, it.after, params)
  const size = Math.min(PAGE, it.left)
  const result = await client.query<{ key: Buffer; value: Buffer }>(
    `SELECT key, value FROM ${data} ${where} ORDER BY key ${it.options.reverse === true ? 'DESC' : 'ASC'} LIMIT ${size}`,
    params,
  )
  const rows = result.rows
  it.left -= rows.length
  if (rows.length < size || it.left <= 0) it.finished = true
  const lastRow = rows[rows.length - 1]
  if (lastRow !== undefined) it.after = lastRow.key
  return rows.map((r) => ({ key: r.key, value: r.value }))
}

/**
 * The WHERE clause of a page: the options' bounds, and past the last key read (`after`, in the
 * iteration's direction). Adds its parameters to `params`.
 */
const bounds = (options: IterateOptions, after: Buffer | undefined, params: unknown[]): string => {
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
