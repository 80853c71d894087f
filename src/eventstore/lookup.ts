/**
 * Answers from the index of tags and types (postings.ts): the first stored event that matches
 * a query above a position — an append condition's check — and the positions of every match in
 * a range, for reads by query. Neither reads an event: an item with tags is decided by the
 * postings of its tags, which carry each event's type and tags; one with types alone by the
 * postings of its types. Only `'all'` reads the log itself.
 */
import { EVENTS } from './envelope.js'
import type { Log } from '../openLog.js'
import { paged } from './pages.js'
import { posted, type Posted } from './postings.js'
import { matchesItem, type Item, type Items } from './query.js'
import type { Matched } from './rules.js'

const untext = new TextDecoder()

/** Whether a posted event matches `item`; a type's posting matches an item without tags. */
const postedMatches = (item: Item, p: Posted): boolean => matchesItem(item, p.type, p.tags ?? [])

/** A stored event that matches a condition. */
export type Match = Matched

/** The event at a position as a match, or undefined if it is gone or its stream deleted it. */
export type Visible = (position: number) => Promise<Match | undefined>

/**
 * The first visible event at or above `from` that matches `item`. With tags, their postings are
 * read in turns, one event each: a match is in every one of them, so the first found is the
 * first, and the rarest tag's postings, running out first, end the search.
 */
const firstOfItem = async (
  log: Log,
  item: Item,
  from: number,
  visible: Visible,
): Promise<Match | undefined> => {
  if (item.tags.length === 0) {
    const firsts = await Promise.all(
      [...(item.types ?? [])].map(async (type) => {
        for await (const p of posted(log, 'type', type, from, undefined)) {
          const match = await visible(p.position)
          if (match !== undefined) return match
        }
        return undefined
      }),
    )
    return first(firsts)
  }
  const walks = item.tags.map((tag) => posted(log, 'tag', tag, from, undefined))
  try {
    for (;;) {
      for (const walk of walks) {
        const next = await walk.next()
        if (next.done === true) return undefined
        const match = postedMatches(item, next.value)
          ? await visible(next.value.position)
          : undefined
        if (match !== undefined) return match
      }
    }
  } finally {
    await Promise.all(walks.map((w) => w.return(undefined)))
  }
}

/** The first visible event of the log at or above `from`. */
const firstEvent = async (log: Log, from: number, visible: Visible): Promise<Match | undefined> => {
  for await (const entry of paged(log, { from })) {
    if (!untext.decode(entry.key).startsWith(EVENTS)) continue
    const match = await visible(entry.sequence)
    if (match !== undefined) return match
  }
  return undefined
}

const first = (xs: ReadonlyArray<Match | undefined>): Match | undefined =>
  xs.reduce<Match | undefined>(
    (min, x) => (x === undefined || (min !== undefined && min.position <= x.position) ? min : x),
    undefined,
  )

/**
 * The first stored event matching the query above `after` (at all, when `after` is undefined)
 * that `visible` says a read would return — not one of a deleted stream's —, or undefined when
 * there is none: the check of an append's condition.
 */
export const firstMatch = async (
  log: Log,
  items: Items,
  after: number | undefined,
  visible: Visible,
): Promise<Match | undefined> => {
  const from = after === undefined ? 0 : after + 1
  if (items === undefined) return firstEvent(log, from, visible)
  return first(await Promise.all(items.map((item) => firstOfItem(log, item, from, visible))))
}

/** The positions of an item's matches in `[from, to)`, ascending. */
async function* ofItem(
  log: Log,
  item: Item,
  from: number,
  to: number | undefined,
): AsyncGenerator<number> {
  const first = item.tags[0]
  const walks =
    first === undefined
      ? [...(item.types ?? [])].map((type) => posted(log, 'type', type, from, to))
      : [posted(log, 'tag', first, from, to)]
  for await (const p of merged(walks, (p) => p.position)) {
    if (postedMatches(item, p)) yield p.position
  }
}

/**
 * The positions in `[from, to)` of the events matching any item, ascending, each once.
 * REQUIRES: `items` is not `'all'` (read the log for that).
 */
export const matchingPositions = (
  log: Log,
  items: ReadonlyArray<Item>,
  from: number,
  to: number | undefined,
): AsyncGenerator<number> =>
  merged(
    items.map((item) => ofItem(log, item, from, to)),
    (position) => position,
  )

/**
 * Merges ascending walks into one ascending walk, each position once (by `order`). Every walk
 * is ended when the merge is.
 */
async function* merged<A>(
  walks: ReadonlyArray<AsyncGenerator<A>>,
  order: (a: A) => number,
): AsyncGenerator<A> {
  // Each walk's next value, or undefined once it is done.
  const heads = (await Promise.all(walks.map((w) => w.next()))).map(valueOf)
  let last: number | undefined
  try {
    for (;;) {
      let pick: { readonly i: number; readonly value: A } | undefined
      for (const [i, head] of heads.entries()) {
        if (head !== undefined && (pick === undefined || order(head.value) < order(pick.value))) {
          pick = { i, value: head.value }
        }
      }
      const walk = pick === undefined ? undefined : walks[pick.i]
      if (pick === undefined || walk === undefined) return
      heads[pick.i] = valueOf(await walk.next())
      if (last !== undefined && order(pick.value) === last) continue
      last = order(pick.value)
      yield pick.value
    }
  } finally {
    await Promise.all(walks.map((w) => w.return(undefined)))
  }
}

const valueOf = <A>(r: IteratorResult<A>): { readonly value: A } | undefined =>
  r.done === true ? undefined : { value: r.value }
