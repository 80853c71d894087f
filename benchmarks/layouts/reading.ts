// How the emulated layouts read: range reads a chunk at a time, a reverse seek for the record at
// or before a key, and gets issued ahead of the decoder but handed over in order.
import type { RawDb, RawRange } from '../raw.js'

/** Bytes the addon may gather into one chunk (it also stops at 1000 pairs): deltalog's 1 MiB. */
const CHUNK_BYTES = 1 << 20

/**
 * A range read, chunk by chunk, each chunk as the addon hands it out:
 * `[value_n, key_n, …, value_1, key_1]`. With `readahead`, the next chunk is asked for before
 * the current one is handed over; the scans that wait on gets use it, so that the iterator's
 * next step is queued alongside their gets rather than after them.
 */
export async function* chunks(
  db: RawDb,
  range: RawRange,
  readahead: boolean,
): AsyncGenerator<ReadonlyArray<Buffer>> {
  const it = db.iterator({ ...range, highWaterMark: CHUNK_BYTES })
  let next: Promise<ReadonlyArray<Buffer> | undefined> | undefined = it.next()
  try {
    for (;;) {
      const chunk: ReadonlyArray<Buffer> | undefined = await next
      next = undefined
      if (chunk === undefined) return
      if (readahead) next = it.next()
      yield chunk
      next ??= it.next()
    }
  } finally {
    // The addon cannot end an iterator with a step in flight.
    await next?.catch(() => undefined)
    await it.end()
  }
}

/** Calls `pair` for each pair of a chunk, in key order. */
export const eachPair = (
  chunk: ReadonlyArray<Buffer>,
  pair: (key: Buffer, value: Buffer) => void,
): void => {
  for (let i = chunk.length - 1; i > 0; i -= 2) pair(chunk[i] as Buffer, chunk[i - 1] as Buffer)
}

/** The last record in `[gte, lte]`, by a reverse seek with a limit of 1: `[key, value]`. */
export const seekLast = async (
  db: RawDb,
  gte: Buffer,
  lte: Buffer,
): Promise<readonly [Buffer, Buffer]> => {
  const it = db.iterator({ gte, lte, reverse: true, limit: 1 })
  try {
    const chunk = await it.next()
    if (chunk === undefined || chunk.length < 2) throw new Error('no record in the range')
    return [chunk[1] as Buffer, chunk[0] as Buffer]
  } finally {
    await it.end()
  }
}

/** Gets in flight at most, per scan. */
const GETS_IN_FLIGHT = 256
/** Items queued at most, whether or not gets are pending for them. */
const QUEUED = 4096

/** Where an item's record comes from. */
export type Source = Buffer | 'previous' | 'none'

/**
 * Records fetched with `db_get` for items that arrive in order. An item's get is issued when the
 * item is added; items are handed to `visit` with their record in the order they were added. An
 * item may share the record of the get before it (so one commit is not fetched twice in a row)
 * or need none (a run whose values came inline: handed over at once if nothing is queued).
 *
 * `add` returns true when the caller should `drain` before adding more: more than
 * `GETS_IN_FLIGHT` gets or `QUEUED` items are pending. `drain` then hands items over until half
 * as many are pending, so that it waits once per many items rather than once per item.
 */
export const orderedGets = <T>(
  db: RawDb,
  visit: (item: T, record: Buffer | undefined) => void,
): {
  readonly add: (item: T, source: Source) => boolean
  readonly drain: () => Promise<void>
  readonly finish: () => Promise<void>
} => {
  let items: T[] = []
  let records: Array<Promise<Buffer> | undefined> = []
  let issued: boolean[] = []
  let head = 0
  let inFlight = 0
  let previous: Promise<Buffer> | undefined
  const drainTo = async (gets: number, queued: number): Promise<void> => {
    while (inFlight > gets || items.length - head > queued) {
      const record = records[head]
      const value = record === undefined ? undefined : await record
      if (issued[head] === true) inFlight--
      visit(items[head] as T, value)
      head++
    }
    if (head === items.length) {
      items = []
      records = []
      issued = []
      head = 0
    } else if (head > QUEUED) {
      items = items.slice(head)
      records = records.slice(head)
      issued = issued.slice(head)
      head = 0
    }
  }
  return {
    add: (item, source) => {
      // Nothing ahead of it to wait for: hand it over now.
      if (source === 'none' && head === items.length) {
        visit(item, undefined)
        return false
      }
      const get = source !== 'none' && source !== 'previous'
      if (get) {
        previous = db.get(source)
        inFlight++
      }
      items.push(item)
      records.push(source === 'none' ? undefined : previous)
      issued.push(get)
      return inFlight > GETS_IN_FLIGHT || items.length - head > QUEUED
    },
    drain: () => drainTo(GETS_IN_FLIGHT / 2, QUEUED / 2),
    finish: () => drainTo(0, 0),
  }
}
