/**
 * The newest position of each tag and type, as the store's writer knows it: a filter in front
 * of the index (layout L of `npm run bench:dcb-layouts`). An item of a condition can match above
 * `after` only if every one of its tags — and, for an item of types alone, one of its types —
 * has an event above `after`; most conditions are decided here with no read at all, and the
 * rest walk the postings (lookup.ts). The writer learns the newest position of a tag from its
 * last posting the first time it needs it, then from every commit it writes; it keeps at most
 * `limit` of them, dropping the one learnt or written longest ago, and forgets all when a write
 * fails.
 */
import * as E from 'fp-ts/lib/Either.js'
import { orThrow } from '../errors.js'
import type { Log } from '../openLog.js'
import { tagKey, typeKey } from './envelope.js'
import { decodePosting, type IndexedEvent } from './postings.js'
import type { Item, Items } from './query.js'
import { lastOf } from './streams.js'

/** The newest positions the writer knows; see above. */
export interface Newest {
  /** The newest event with the tag or type (by its key), −1 for none, undefined if unknown. */
  readonly get: (key: string) => number | undefined
  /** What a commit starting at `start` wrote: its events' tags and types are newest there. */
  readonly written: (events: ReadonlyArray<IndexedEvent>, start: number) => void
  readonly set: (key: string, position: number) => void
  readonly clear: () => void
}

/**
 * The newest positions, at most `limit` of them (100,000 by default). A key set again moves to
 * the back; a read does not move it, which would cost a delete and an insert per condition.
 */
export const makeNewest = (limit = 100_000): Newest => {
  const known = new Map<string, number>()
  const set = (key: string, position: number): void => {
    known.delete(key)
    known.set(key, position)
    if (known.size > limit) {
      const oldest = known.keys().next()
      if (oldest.done !== true) known.delete(oldest.value)
    }
  }
  return {
    get: (key) => known.get(key),
    written: (events, start) => {
      // The last event of each tag and type is its newest: each key is set once per commit.
      const tags = new Map<string, number>()
      const types = new Map<string, number>()
      for (const e of events) {
        for (const tag of e.tags) tags.set(tag, e.record)
        types.set(e.type, e.record)
      }
      for (const [tag, record] of tags) set(tagKey(tag), start + record)
      for (const [type, record] of types) set(typeKey(type), start + record)
    },
    set,
    clear: () => known.clear(),
  }
}

/** The newest event with a tag or type: from `newest`, or from its last posting. */
const newestOf = async (
  log: Log,
  newest: Newest,
  kind: 'tag' | 'type',
  name: string,
): Promise<number> => {
  const key = kind === 'tag' ? tagKey(name) : typeKey(name)
  const known = newest.get(key)
  if (known !== undefined) return known
  const last = await lastOf(log, key)
  const listed = last === undefined ? E.right([]) : decodePosting(kind, name, last)
  const position = orThrow(listed).reduce((max, p) => Math.max(max, p.position), -1)
  newest.set(key, position)
  return position
}

/** Whether `item` may have a match above `after` (at all, if undefined), as far as `newest` tells. */
const mayMatch = async (
  log: Log,
  newest: Newest,
  item: Item,
  after: number | undefined,
): Promise<boolean> => {
  const above = (position: number): boolean => position > (after ?? -1)
  if (item.tags.length > 0) {
    const tags = await Promise.all(item.tags.map((tag) => newestOf(log, newest, 'tag', tag)))
    return tags.every(above)
  }
  const types = await Promise.all(
    [...(item.types ?? [])].map((type) => newestOf(log, newest, 'type', type)),
  )
  return types.some(above)
}

/** The items of a query that may match above `after`: none of the others can. */
export const mayMatchOf = async (
  log: Log,
  newest: Newest,
  items: Items,
  after: number | undefined,
): Promise<Items> => {
  if (items === undefined) return undefined
  const may = await Promise.all(items.map((item) => mayMatch(log, newest, item, after)))
  return items.filter((_, i) => may[i] === true)
}
