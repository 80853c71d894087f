/**
 * Queries by tags and types (the DCB specification's, dcb.events): what `read`, `subscribe`
 * and an append's condition select. A query is `'all'`, or items OR'd together; an event
 * matches an item when its type is one of the item's `types` (if it gives any) and its tags
 * include every one of the item's `tags` (if it gives any).
 */
import * as E from 'fp-ts/lib/Either.js'
import { invalidArgument, type InvalidArgumentError } from '../errors.js'
import { Natural } from '../log/options.js'
import { validateId, validateTags } from './envelope.js'
import { checkTypeNames, storedNamesOf, type Upcasters } from './upcast.js'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** One item of a query: any of `types`, all of `tags`; at least one of the two. */
export interface QueryItem {
  readonly types?: ReadonlyArray<string>
  readonly tags?: ReadonlyArray<string>
}

/** Every event (`'all'`), or the events that match any of `items`. */
export type Query = 'all' | { readonly items: ReadonlyArray<QueryItem> }

/** What an append requires of the store: no event matching the query above `after`. */
export interface AppendCondition {
  readonly failIfEventsMatch: Query
  /** The last position the caller's decision read (exclusive); without it, no match at all. */
  readonly after?: number
}

/** A checked item: the type names it accepts (undefined for any), and the tags it needs. */
export interface Item {
  readonly types: ReadonlySet<string> | undefined
  readonly tags: ReadonlyArray<string>
}

/** A checked query: undefined for `'all'`. */
export type Items = ReadonlyArray<Item> | undefined

/** A checked condition. */
export interface Condition {
  readonly items: Items
  readonly after: number | undefined
}

// -------------------------------------------------------------------------------------
// destructors
// -------------------------------------------------------------------------------------

/** Whether an event of `type` with `tags` matches `item`. */
export const matchesItem = (item: Item, type: string, tags: ReadonlyArray<string>): boolean =>
  (item.types === undefined || item.types.has(type)) && item.tags.every((t) => tags.includes(t))

/** Whether an event of `type` with `tags` matches the query. */
export const matches = (items: Items, type: string, tags: ReadonlyArray<string>): boolean =>
  items === undefined || items.some((item) => matchesItem(item, type, tags))

// -------------------------------------------------------------------------------------
// validation
// -------------------------------------------------------------------------------------

const ITEM_FIELDS = ['types', 'tags']

/** Every name the events of a type, by its current name, may be stored under. */
const storedNamesIn =
  (upcasters: Upcasters) =>
  (type: string): ReadonlyArray<string> =>
    storedNamesOf(upcasters, type)

/**
 * Checks one item, the `i`th of the query named `field`. Its types are current names: a former
 * name is refused, and each stands for every name its events may be stored under (upcast.ts).
 */
const validateItem = (
  u: unknown,
  field: string,
  upcasters: Upcasters,
): E.Either<InvalidArgumentError, Item> => {
  if (typeof u !== 'object' || u === null || Array.isArray(u)) {
    return E.left(invalidArgument(field, 'must be { types?, tags? }'))
  }
  const extra = Object.keys(u).find((k) => !ITEM_FIELDS.includes(k))
  if (extra !== undefined) return E.left(invalidArgument(`${field}.${extra}`, 'is not a field'))
  const { types, tags } = u as QueryItem
  if (types === undefined && tags === undefined) {
    return E.left(invalidArgument(field, "names no types and no tags; for every event use 'all'"))
  }
  if (types !== undefined && (!Array.isArray(types) || types.length === 0)) {
    return E.left(invalidArgument(`${field}.types`, 'must be a non-empty array of event types'))
  }
  for (const [i, type] of (types ?? []).entries()) {
    const checked = validateId(type, `${field}.types[${i}]`)
    if (E.isLeft(checked)) return checked
  }
  const current = checkTypeNames(upcasters, types, `${field}.types`)
  if (E.isLeft(current)) return current
  if (tags !== undefined && (!Array.isArray(tags) || tags.length === 0)) {
    return E.left(invalidArgument(`${field}.tags`, 'must be a non-empty array of tags'))
  }
  const checked = validateTags(tags, `${field}.tags`)
  if (E.isLeft(checked)) return checked
  return E.right({
    types: types === undefined ? undefined : new Set(types.flatMap(storedNamesIn(upcasters))),
    tags: checked.right ?? [],
  })
}

/** Checks a query; `field` names it in errors. */
export const validateQuery = (
  u: unknown,
  field: string,
  upcasters: Upcasters,
): E.Either<InvalidArgumentError, Items> => {
  if (u === 'all') return E.right(undefined)
  if (typeof u !== 'object' || u === null || Array.isArray(u)) {
    return E.left(invalidArgument(field, "must be 'all' or { items: [...] }"))
  }
  const extra = Object.keys(u).find((k) => k !== 'items')
  if (extra !== undefined) return E.left(invalidArgument(`${field}.${extra}`, 'is not a field'))
  const { items } = u as { readonly items?: unknown }
  if (!Array.isArray(items) || items.length === 0) {
    return E.left(
      invalidArgument(`${field}.items`, "must be a non-empty array; for every event use 'all'"),
    )
  }
  const out: Item[] = []
  for (const [i, item] of (items as ReadonlyArray<unknown>).entries()) {
    const checked = validateItem(item, `${field}.items[${i}]`, upcasters)
    if (E.isLeft(checked)) return checked
    out.push(checked.right)
  }
  return E.right(out)
}

/** Checks an append's condition; `field` names it in errors. */
export const validateCondition = (
  u: unknown,
  field: string,
  upcasters: Upcasters,
): E.Either<InvalidArgumentError, Condition> => {
  if (typeof u !== 'object' || u === null || Array.isArray(u)) {
    return E.left(invalidArgument(field, 'must be { failIfEventsMatch, after? }'))
  }
  const extra = Object.keys(u).find((k) => k !== 'failIfEventsMatch' && k !== 'after')
  if (extra !== undefined) return E.left(invalidArgument(`${field}.${extra}`, 'is not a field'))
  const { failIfEventsMatch, after } = u as { readonly [k: string]: unknown }
  if (after !== undefined && !Natural.is(after)) {
    return E.left(invalidArgument(`${field}.after`, 'must be a non-negative integer position'))
  }
  return E.map((items: Items) => ({ items, after }))(
    validateQuery(failIfEventsMatch, `${field}.failIfEventsMatch`, upcasters),
  )
}
