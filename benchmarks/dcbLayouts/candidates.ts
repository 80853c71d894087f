// The index layouts considered for DCB queries, emulated with the raw addon: the records one
// commit of events writes, the condition check (the first event above `after` that matches a
// query) and the read of every event matching one item. `dcbLayouts.ts` describes them.
import type { RawDb, RawOp } from '../raw.js'
import { chunks, eachPair } from '../layouts/reading.js'
import { readU64, writeU64 } from '../layouts/records.js'
import {
  decodeEvent,
  eventValue,
  matches,
  matchesItem,
  tagsOf,
  typeOf,
  type Events,
  type Item,
  type Query,
} from './events.js'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

export type LayoutId = 'E' | 'P' | 'P+' | 'L'

/** What a check or read did besides seeks and gets: events read from the log, one by one. */
export interface Work {
  /** Checks that had to read events from the log. */
  fallbacks: number
  /** Events so read. */
  scanned: number
}

export interface Layout {
  readonly id: LayoutId
  readonly name: string
  /** The records of events `[from, to]` as one commit, for one `batch_do`. */
  readonly encode: (e: Events, from: number, to: number) => ReadonlyArray<RawOp>
  /** The position of the first event above `after` (up to `head`) that matches the query. */
  readonly check: (
    db: RawDb,
    query: Query,
    after: number,
    head: number,
    work: Work,
  ) => Promise<number | undefined>
  /** Every position whose event matches the item, in order; absent where the layout has no way. */
  readonly read?: (db: RawDb, item: Item) => Promise<ReadonlyArray<number>>
}

// -------------------------------------------------------------------------------------
// keys
// -------------------------------------------------------------------------------------

const EVENT = 0x45 // 'E'
const TAG_POSTING = 0x54 // 'T'
const TYPE_POSTING = 0x59 // 'Y'
const TAG_LAST = 0x74 // 't'
const TYPE_LAST = 0x79 // 'y'
const MAX_POSITION = 2 ** 53 - 1

const eventKey = (p: number): Buffer => {
  const key = Buffer.allocUnsafe(9)
  key[0] = EVENT
  writeU64(key, 1, p)
  return key
}

/** `record | name 0x00`: the prefix of one tag's or type's postings (names hold no 0x00 here). */
const prefix = (record: number, name: string): Buffer => {
  const key = Buffer.allocUnsafe(2 + name.length)
  key[0] = record
  key.write(name, 1, 'latin1')
  key[key.length - 1] = 0
  return key
}

const postingKey = (head: Buffer, p: number): Buffer => {
  const key = Buffer.allocUnsafe(head.length + 8)
  head.copy(key)
  writeU64(key, head.length, p)
  return key
}

const positionOf = (key: Buffer): number => readU64(key, key.length - 8)

/** The keys from position `from` to the end of a prefix's postings. */
const postingRange = (head: Buffer, from: number): { gte: Buffer; lte: Buffer } => ({
  gte: postingKey(head, from),
  lte: postingKey(head, MAX_POSITION),
})

const lastKey = (record: number, name: string): Buffer =>
  Buffer.from(`${String.fromCharCode(record)}${name}`, 'latin1')

const EMPTY = Buffer.alloc(0)

// -------------------------------------------------------------------------------------
// reads shared by the layouts
// -------------------------------------------------------------------------------------

/** The first posting at or after `from` under `head`: one seek (an iterator with a limit of 1). */
const seekFirst = async (db: RawDb, head: Buffer, from: number): Promise<number | undefined> => {
  const it = db.iterator({ ...postingRange(head, from), limit: 1 })
  try {
    const chunk = await it.next()
    return chunk === undefined || chunk.length < 2 ? undefined : positionOf(chunk[1] as Buffer)
  } finally {
    await it.end()
  }
}

/** The first posting at or after `from` under any of `heads` (any of the types): one seek each. */
const seekAny = async (
  db: RawDb,
  heads: ReadonlyArray<Buffer>,
  from: number,
): Promise<number | undefined> => {
  const found = await Promise.all(heads.map((h) => seekFirst(db, h, from)))
  const present = found.filter((p): p is number => p !== undefined)
  return present.length === 0 ? undefined : Math.min(...present)
}

/**
 * Leapfrog intersection: the first position at or after `from` present in every dimension (each
 * dimension any of its heads), by seeks alone. Each seek either agrees with the candidate or
 * moves it forward, so the seeks are bounded by the postings above `from`, not by the log.
 */
const leapfrog = async (
  db: RawDb,
  dimensions: ReadonlyArray<ReadonlyArray<Buffer>>,
  from: number,
): Promise<number | undefined> => {
  let candidate = from
  let agreed = 0
  for (let i = 0; ; i = (i + 1) % dimensions.length) {
    const p = await seekAny(db, dimensions[i] as ReadonlyArray<Buffer>, candidate)
    if (p === undefined) return undefined
    if (p === candidate) agreed++
    else {
      candidate = p
      agreed = 1
    }
    if (agreed === dimensions.length) return candidate
  }
}

/** The first event above `after` matching `query`, read from the log itself. */
const scanLog = async (
  db: RawDb,
  query: Query,
  after: number,
  head: number,
  work: Work,
): Promise<number | undefined> => {
  work.fallbacks++
  const it = db.iterator({ gte: eventKey(after + 1), lte: eventKey(head), highWaterMark: 1 << 16 })
  try {
    for (;;) {
      const chunk = await it.next()
      if (chunk === undefined) return undefined
      for (let i = chunk.length - 1; i > 0; i -= 2) {
        work.scanned++
        const { type, tags } = decodeEvent(chunk[i - 1] as Buffer)
        if (matches(query, type, tags)) return positionOf(chunk[i] as Buffer)
      }
    }
  } finally {
    await it.end()
  }
}

const firstOf = async (
  items: ReadonlyArray<Promise<number | undefined>>,
): Promise<number | undefined> => {
  const found = (await Promise.all(items)).filter((p): p is number => p !== undefined)
  return found.length === 0 ? undefined : Math.min(...found)
}

const eventPuts = (e: Events, from: number, to: number, ops: RawOp[]): void => {
  for (let p = from; p <= to; p++) {
    ops.push({ type: 'put', key: eventKey(p), value: eventValue(typeOf(e, p), tagsOf(e, p), p) })
  }
}

// -------------------------------------------------------------------------------------
// E: the events alone
// -------------------------------------------------------------------------------------

const e: Layout = {
  id: 'E',
  name: 'events alone, no index: `E | position u64` → the event (type, tags, 80 bytes of data)',
  encode: (events, from, to) => {
    const ops: RawOp[] = []
    eventPuts(events, from, to, ops)
    return ops
  },
  check: scanLog,
}

// -------------------------------------------------------------------------------------
// P: posting keys
// -------------------------------------------------------------------------------------

/** An item's dimensions: each tag (all of), then its types (any of) if it names any. */
const dimensionsOf = (item: Item): Array<ReadonlyArray<Buffer>> => {
  const dims: Array<ReadonlyArray<Buffer>> = (item.tags ?? []).map((t) => [prefix(TAG_POSTING, t)])
  if (item.types !== undefined) dims.push(item.types.map((t) => prefix(TYPE_POSTING, t)))
  return dims
}

/** Postings of every tag and the type of events `[from, to]`, with `value` for tag postings. */
const postingPuts = (
  events: Events,
  from: number,
  to: number,
  ops: RawOp[],
  value: (type: string, tags: ReadonlyArray<string>, tag: string) => Buffer,
): void => {
  for (let p = from; p <= to; p++) {
    const type = typeOf(events, p)
    const tags = tagsOf(events, p)
    for (const tag of tags) {
      ops.push({
        type: 'put',
        key: postingKey(prefix(TAG_POSTING, tag), p),
        value: value(type, tags, tag),
      })
    }
    ops.push({ type: 'put', key: postingKey(prefix(TYPE_POSTING, type), p), value: EMPTY })
  }
}

const pItem = (db: RawDb, item: Item, after: number, head: number, work: Work) => {
  const dims = dimensionsOf(item)
  return dims.length === 0 ? scanLog(db, [item], after, head, work) : leapfrog(db, dims, after + 1)
}

const p: Layout = {
  id: 'P',
  name:
    'posting keys: `T | tag 0x00 | position` and `Y | type 0x00 | position`, empty values; ' +
    'an item is a leapfrog of seeks over its tags and types',
  encode: (events, from, to) => {
    const ops: RawOp[] = []
    eventPuts(events, from, to, ops)
    postingPuts(events, from, to, ops, () => EMPTY)
    return ops
  },
  check: (db, query, after, head, work) =>
    firstOf(query.map((item) => pItem(db, item, after, head, work))),
  read: async (db, item) => {
    const dims = dimensionsOf(item)
    const out: number[] = []
    for (let from = 1; ;) {
      const found = await leapfrog(db, dims, from)
      if (found === undefined) return out
      out.push(found)
      from = found + 1
    }
  },
}

// -------------------------------------------------------------------------------------
// P+: posting keys with the event's type and other tags in the value
// -------------------------------------------------------------------------------------

/** A tag posting's value in P+: `u8 typeLength | type | u8 count | (u8 length | tag)*`. */
const describe = (type: string, tags: ReadonlyArray<string>, tag: string): Buffer => {
  const others = tags.filter((t) => t !== tag)
  let size = 2 + type.length
  for (const t of others) size += 1 + t.length
  const out = Buffer.allocUnsafe(size)
  let at = 0
  out[at] = out.write(type, at + 1, 'latin1')
  at += 1 + type.length
  out[at++] = others.length
  for (const t of others) {
    out[at] = out.write(t, at + 1, 'latin1')
    at += 1 + t.length
  }
  return out
}

/** Pairs in a walk's step, -1 for a walk that has ended. */
const chunkSize = (step: IteratorResult<ReadonlyArray<Buffer>> | undefined): number =>
  step === undefined || step.done === true ? -1 : step.value.length

/**
 * Walks the postings of every tag of the item above `after`, a chunk of each at a time, and
 * keeps those whose value matches the whole item. Every match holds every tag, so one tag's
 * postings hold them all: the first match in any one walk is the first match, and the walk that
 * ends first has seen every match. With `all`, returns every match; else the first only.
 */
const walkTags = async (
  db: RawDb,
  item: Item,
  tags: ReadonlyArray<string>,
  after: number,
  all: boolean,
): Promise<ReadonlyArray<number>> => {
  const walks = tags.map((tag) => ({
    tag,
    chunks: chunks(db, postingRange(prefix(TAG_POSTING, tag), after + 1), false),
    found: [] as number[],
  }))
  try {
    for (;;) {
      const steps = await Promise.all(walks.map((w) => w.chunks.next()))
      // A walk that has ended first, then the shortest chunks: a match in one is the answer.
      const order = walks.map((_, w) => w).sort((a, b) => chunkSize(steps[a]) - chunkSize(steps[b]))
      for (const w of order) {
        const walk = walks[w] as (typeof walks)[number]
        const step = steps[w] as IteratorResult<ReadonlyArray<Buffer>>
        if (step.done === true) return walk.found
        eachPair(step.value, (key, value) => {
          const { type, tags: others } = decodeEvent(value)
          if (matchesItem(item, type, [walk.tag, ...others])) walk.found.push(positionOf(key))
        })
        if (!all && walk.found.length > 0) return walk.found.slice(0, 1)
      }
    }
  } finally {
    for (const w of walks) await w.chunks.return(undefined)
  }
}

const pPlus: Layout = {
  id: 'P+',
  name:
    'posting keys as P, each tag posting valued with the event’s type and other tags; an item ' +
    'walks its tags’ postings and filters them by value',
  encode: (events, from, to) => {
    const ops: RawOp[] = []
    eventPuts(events, from, to, ops)
    postingPuts(events, from, to, ops, describe)
    return ops
  },
  check: (db, query, after, head, work) =>
    firstOf(
      query.map(async (item) => {
        const tags = item.tags ?? []
        if (tags.length === 0) return pItem(db, item, after, head, work)
        return (await walkTags(db, item, tags, after, false))[0]
      }),
    ),
  read: (db, item) => walkTags(db, item, item.tags ?? [], 0, true),
}

// -------------------------------------------------------------------------------------
// L: last-position keys
// -------------------------------------------------------------------------------------

const getPosition = async (db: RawDb, key: Buffer): Promise<number> => {
  try {
    return readU64(await db.get(key), 0)
  } catch {
    return 0
  }
}

const positionValue = (p: number): Buffer => {
  const out = Buffer.allocUnsafe(8)
  writeU64(out, 0, p)
  return out
}

/**
 * Whether an item may match above `after`, by gets alone: every tag's newest event, and the
 * newest of any of its types, must be above it. True does not say that one event holds them all.
 */
const mayMatch = async (db: RawDb, item: Item, after: number): Promise<boolean> => {
  const newest = await Promise.all([
    ...(item.tags ?? []).map((t) => getPosition(db, lastKey(TAG_LAST, t))),
    ...(item.types === undefined
      ? []
      : [
          Promise.all(item.types.map((t) => getPosition(db, lastKey(TYPE_LAST, t)))).then((ps) =>
            Math.max(0, ...ps),
          ),
        ]),
  ])
  return newest.every((p) => p > after)
}

const l: Layout = {
  id: 'L',
  name:
    'last-position keys: `t | tag` and `y | type` → the newest position, overwritten; an item ' +
    'whose keys are all above `after` falls back to reading the events above `after`',
  encode: (events, from, to) => {
    const ops: RawOp[] = []
    eventPuts(events, from, to, ops)
    // One put per tag and type of the commit: the newest position of each.
    const last = new Map<string, number>()
    for (let p = from; p <= to; p++) {
      for (const tag of tagsOf(events, p)) last.set(String.fromCharCode(TAG_LAST) + tag, p)
      last.set(String.fromCharCode(TYPE_LAST) + typeOf(events, p), p)
    }
    for (const [key, p] of last) {
      ops.push({ type: 'put', key: Buffer.from(key, 'latin1'), value: positionValue(p) })
    }
    return ops
  },
  check: async (db, query, after, head, work) => {
    const possible = await Promise.all(query.map((item) => mayMatch(db, item, after)))
    const left = query.filter((_, i) => possible[i] === true)
    return left.length === 0 ? undefined : scanLog(db, left, after, head, work)
  },
}

/** The layouts, the baseline first. */
export const LAYOUTS: ReadonlyArray<Layout> = [e, p, pPlus, l]
