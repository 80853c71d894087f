/**
 * The index of tags and types, kept in the log beside the events and written in the same
 * commit (docs/event-store.md, "The index"). Each commit of the store's writer ends with one
 * posting entry per distinct tag (`t/<tag>`) and per distinct event type (`y/<type>`) among
 * the events it writes. A posting lists events of its commit by their distance back from the
 * posting's own sequence — an event's position is `sequence − back` — and a tag's posting also
 * carries each event's type and tags, so an item of a query is decided from its postings alone.
 * Within one key, the events listed ascend in position: each commit's postings follow its
 * events, and commits follow each other.
 */
import * as E from 'fp-ts/lib/Either.js'
import * as t from 'io-ts'
import { keyBytes } from '../codec/keys.js'
import { corruption, toDeltalogError, type CorruptionError } from '../errors.js'
import type { Log, LogEntry } from '../openLog.js'
import { decodeJson, tagKey, typeKey } from './envelope.js'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** An event a commit writes, as the index needs it: its record in the commit, type and tags. */
export interface IndexedEvent {
  readonly record: number
  readonly type: string
  readonly tags: ReadonlyArray<string>
}

/** An event as a posting lists it; `tags` is undefined in a type's posting, which lacks them. */
export interface Posted {
  readonly position: number
  readonly type: string
  readonly tags: ReadonlyArray<string> | undefined
}

/** A log record to write. */
interface Record {
  readonly key: string
  readonly value: Uint8Array
}

/** The most events one posting entry lists: a commit with more gets several. */
export const POSTING_EVENTS = 4096

// -------------------------------------------------------------------------------------
// codecs
// -------------------------------------------------------------------------------------

const TagPostingCodec = t.array(t.tuple([t.number, t.string, t.array(t.string)]))
const TypePostingCodec = t.array(t.number)
const POSTING = 'a posting of the tag index'

/**
 * The events a posting entry lists, from its key's kind, its sequence and its value.
 *
 * Law (test/eventstore/postings.test.ts): the postings `postingRecords` writes, decoded at
 * the sequences they are written at, list exactly the events given, at their positions.
 */
export const decodePosting = (
  kind: 'tag' | 'type',
  name: string,
  entry: Pick<LogEntry, 'sequence' | 'value'>,
): E.Either<CorruptionError, ReadonlyArray<Posted>> => {
  const at = (back: number): number => entry.sequence - back
  return kind === 'tag'
    ? E.map((list: ReadonlyArray<[number, string, string[]]>) =>
        list.map(([back, type, tags]) => ({ position: at(back), type, tags })),
      )(decodeJson(TagPostingCodec, POSTING, entry.value))
    : E.map((list: ReadonlyArray<number>) =>
        list.map((back) => ({ position: at(back), type: name, tags: undefined })),
      )(decodeJson(TypePostingCodec, POSTING, entry.value))
}

// -------------------------------------------------------------------------------------
// writing
// -------------------------------------------------------------------------------------

/** Groups events by each of their names (tags, or the type), in order of first appearance. */
const groupBy = (
  events: ReadonlyArray<IndexedEvent>,
  names: (e: IndexedEvent) => ReadonlyArray<string>,
): Map<string, IndexedEvent[]> => {
  const groups = new Map<string, IndexedEvent[]>()
  for (const e of events) {
    for (const name of names(e)) {
      const group = groups.get(name)
      if (group === undefined) groups.set(name, [e])
      else group.push(e)
    }
  }
  return groups
}

/**
 * The posting records of a commit's events, to be its records `first, first + 1, …`.
 * REQUIRES: every event's `record` is below `first`, in the same commit.
 */
export const postingRecords = (
  events: ReadonlyArray<IndexedEvent>,
  first: number,
): ReadonlyArray<Record> => {
  const records: Record[] = []
  const add = (
    key: string,
    list: ReadonlyArray<IndexedEvent>,
    entry: (e: IndexedEvent, back: number) => unknown,
  ): void => {
    for (let i = 0; i < list.length; i += POSTING_EVENTS) {
      const at = first + records.length
      const chunk = list.slice(i, i + POSTING_EVENTS).map((e) => entry(e, at - e.record))
      records.push({ key, value: keyBytes(JSON.stringify(chunk)) })
    }
  }
  for (const [tag, list] of groupBy(events, (e) => e.tags)) {
    add(tagKey(tag), list, (e, back) => [back, e.type, e.tags])
  }
  for (const [type, list] of groupBy(events, (e) => [e.type])) {
    add(typeKey(type), list, (_, back) => back)
  }
  return records
}

// -------------------------------------------------------------------------------------
// reading
// -------------------------------------------------------------------------------------

/** The first page of postings a walk reads; each next one is twice as large, up to `MAX_PAGE`. */
const FIRST_PAGE = 16
const MAX_PAGE = 1024

/**
 * The events the postings of a tag or a type list, in ascending position, from `from` on
 * (inclusive) and below `to` (exclusive) if given. An event's postings follow it, so scanning
 * them from `from` misses none. The postings are read a page at a time, each page's scan ended
 * before any of it is yielded: a walk left waiting holds nothing of the storage (on PostgreSQL,
 * an open scan holds a connection of the pool, and a check walks several tags in turns).
 */
export async function* posted(
  log: Log,
  kind: 'tag' | 'type',
  name: string,
  from: number,
  to: number | undefined,
): AsyncGenerator<Posted> {
  const key = kind === 'tag' ? tagKey(name) : typeKey(name)
  let next = from
  for (let size = FIRST_PAGE; ; size = Math.min(MAX_PAGE, size * 2)) {
    const page: LogEntry[] = []
    for await (const entry of log.scan({ key, from: next, limit: size })) page.push(entry)
    for (const entry of page) {
      const list = decodePosting(kind, name, entry)
      if (E.isLeft(list)) throw corruptAt(list.left, entry.sequence, key)
      for (const p of list.right) {
        if (to !== undefined && p.position >= to) return
        if (p.position >= from) yield p
      }
    }
    const last = page[page.length - 1]
    if (last === undefined || page.length < size) return
    next = last.sequence + 1
  }
}

const corruptAt = (error: CorruptionError, sequence: number, key: string): Error =>
  toDeltalogError(corruption(`entry ${sequence} of key ${JSON.stringify(key)}: ${error.message}`))
