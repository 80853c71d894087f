/**
 * Indexes the events of a store written before the index of tags and types existed, when a
 * writer opens it: every event below the log's end at that moment gets its postings, in commits
 * of at most `CHUNK` events, each with an entry of `INDEX_PROGRESS` saying how far it got, so
 * that an open interrupted part-way goes on from there and never indexes an event twice. The
 * index's marker, last, says the index is complete; from then on, the store's writer indexes
 * every event in the commit that writes it.
 */
import * as E from 'fp-ts/lib/Either.js'
import * as t from 'io-ts'
import { keyBytes } from '../codec/keys.js'
import { corruption, orThrow, toDeltalogError } from '../errors.js'
import type { Log } from '../openLog.js'
import { decodeEvent, decodeJson, EVENTS, INDEX_MARKER, INDEX_PROGRESS } from './envelope.js'
import { postingRecords, type IndexedEvent } from './postings.js'
import { lastOf } from './streams.js'

/** The most events indexed per commit. */
export const CHUNK = 4096

const untext = new TextDecoder()
const Progress = t.type({ below: t.number })

/** The value of the index's marker. */
export const indexMarkerValue = (): Uint8Array => keyBytes(JSON.stringify({ complete: true }))

/** Where indexing an older store goes on from: below it, every event is indexed. */
const progressOf = async (log: Log): Promise<number> => {
  const last = await lastOf(log, INDEX_PROGRESS)
  if (last === undefined) return 0
  const decoded = decodeJson(Progress, 'progress', last.value)
  // Starting again from 0 would index the events before it twice.
  if (E.isLeft(decoded)) {
    throw toDeltalogError(
      corruption(
        `entry ${last.sequence} of ${INDEX_PROGRESS}, how far indexing got, does not decode`,
      ),
    )
  }
  return decoded.right.below
}

/**
 * Writes one commit of postings for `events`, with the progress `below`, at the sequences from
 * the log's next one: an event's distance back from its posting is known before the write.
 */
const writeChunk = async (
  log: Log,
  events: ReadonlyArray<{ readonly position: number } & Omit<IndexedEvent, 'record'>>,
  below: number,
): Promise<void> => {
  const start = log.nextSequence()
  const indexed = events.map((e) => ({ ...e, record: e.position - start }))
  const records = [
    ...postingRecords(indexed, 0),
    { key: INDEX_PROGRESS, value: keyBytes(JSON.stringify({ below })) },
  ]
  await log.appendAt(records.map((r, i) => ({ ...r, sequence: start + i })))
}

/** Completes the index of a store whose index is not complete. REQUIRES: the log is writable. */
export const completeIndex = async (log: Log): Promise<void> => {
  if ((await lastOf(log, INDEX_MARKER)) !== undefined) return
  const end = log.nextSequence()
  let from = await progressOf(log)
  while (from < end) {
    const events: Array<{ position: number; type: string; tags: ReadonlyArray<string> }> = []
    let below = end
    for await (const entry of log.scan({ from, to: end })) {
      if (!untext.decode(entry.key).startsWith(EVENTS)) continue
      if (events.length === CHUNK) {
        below = entry.sequence
        break
      }
      const { type, tags } = orThrow(decodeEvent(entry.value))
      events.push({ position: entry.sequence, type, tags })
    }
    if (events.length > 0 || below === end) await writeChunk(log, events, below)
    from = below
  }
  await log.append([{ key: INDEX_MARKER, value: indexMarkerValue() }])
}
