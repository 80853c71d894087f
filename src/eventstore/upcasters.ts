/**
 * The `upcasters` option, checked when a store opens: every entry a chain of functions or a
 * type's history, every rename ending and landing on a version its new name has. A failure is
 * `INVALID_ARGUMENT` naming the field at fault.
 */
import * as E from 'fp-ts/lib/Either.js'
import { invalidArgument, type InvalidArgumentError } from '../errors.js'
import {
  historyOf,
  versionOf,
  type EventTypeHistory,
  type Upcaster,
  type Upcasters,
} from './upcast.js'

const isRecord = (u: unknown): u is Readonly<Record<string, unknown>> =>
  typeof u === 'object' && u !== null && !Array.isArray(u)

/** Checks a chain: an array of functions, the `i`th from version `i + 1` to `i + 2`. */
const validateSteps = (
  u: unknown,
  field: string,
): E.Either<InvalidArgumentError, ReadonlyArray<Upcaster>> => {
  if (!Array.isArray(u)) {
    return E.left(invalidArgument(field, 'must be an array of upcasters, one per version after 1'))
  }
  const steps = [...(u as ReadonlyArray<unknown>)]
  const bad = steps.findIndex((f) => typeof f !== 'function')
  return bad < 0
    ? E.right(steps as ReadonlyArray<Upcaster>)
    : E.left(
        invalidArgument(
          `${field}[${bad}]`,
          `must be a function: the upcaster from version ${bad + 1} to ${bad + 2}`,
        ),
      )
}

const HISTORY_FIELDS = ['steps', 'renamedTo', 'asVersion']

/** Checks one type's entry on its own, and gives a copy of it as a history. */
const validateEntry = (
  type: string,
  u: unknown,
  field: string,
): E.Either<InvalidArgumentError, EventTypeHistory> => {
  if (Array.isArray(u))
    return E.map((steps: ReadonlyArray<Upcaster>) => ({ steps }))(validateSteps(u, field))
  if (!isRecord(u)) {
    return E.left(
      invalidArgument(field, 'must be an array of upcasters or { steps, renamedTo, asVersion }'),
    )
  }
  const extra = Object.keys(u).find((k) => !HISTORY_FIELDS.includes(k))
  if (extra !== undefined) {
    return E.left(
      invalidArgument(`${field}.${extra}`, 'is not a field; write steps, renamedTo or asVersion'),
    )
  }
  const steps = validateSteps(u['steps'] ?? [], `${field}.steps`)
  if (E.isLeft(steps)) return steps
  const { renamedTo, asVersion } = u
  if (
    renamedTo !== undefined &&
    (typeof renamedTo !== 'string' || renamedTo === '' || renamedTo === type)
  ) {
    return E.left(
      invalidArgument(`${field}.renamedTo`, "must be another type's name, a non-empty string"),
    )
  }
  if (asVersion !== undefined && renamedTo === undefined) {
    return E.left(
      invalidArgument(`${field}.asVersion`, 'is only for a renamed type (with renamedTo)'),
    )
  }
  if (asVersion !== undefined && !(Number.isSafeInteger(asVersion) && (asVersion as number) >= 1)) {
    return E.left(invalidArgument(`${field}.asVersion`, 'must be a positive integer'))
  }
  return E.right({
    steps: steps.right,
    ...(renamedTo === undefined ? {} : { renamedTo }),
    ...(asVersion === undefined ? {} : { asVersion: asVersion as number }),
  })
}

/** Checks that a rename ends (no cycle) and lands on a version its new name has. */
const validateRename = (
  upcasters: Upcasters,
  type: string,
  field: string,
): E.Either<InvalidArgumentError, void> => {
  const { renamedTo, asVersion } = historyOf(upcasters, type)
  if (renamedTo === undefined) return E.right(undefined)
  const last = versionOf(upcasters, renamedTo)
  if (asVersion > last) {
    return E.left(
      invalidArgument(
        `${field}.${type}.asVersion`,
        `is ${asVersion}, but ${JSON.stringify(renamedTo)} has versions up to ${last}`,
      ),
    )
  }
  const seen = new Set([type])
  for (let next: string | undefined = renamedTo; next !== undefined;) {
    if (seen.has(next)) {
      return E.left(
        invalidArgument(
          `${field}.${type}.renamedTo`,
          `renames lead back to ${JSON.stringify(next)}`,
        ),
      )
    }
    seen.add(next)
    next = historyOf(upcasters, next).renamedTo
  }
  return E.right(undefined)
}

/**
 * Checks the `upcasters` option, naming the field at fault (`options.upcasters.OrderPlaced[1]`),
 * and gives a copy of it, so that later changes to the caller's object do not reach the store.
 */
export const validateUpcasters = (
  u: unknown,
  field: string,
): E.Either<InvalidArgumentError, Upcasters> => {
  if (!isRecord(u)) {
    return E.left(invalidArgument(field, 'must be an object: per event type, its upcasters'))
  }
  const copy: Record<string, EventTypeHistory> = Object.create(null) as Record<
    string,
    EventTypeHistory
  >
  for (const [type, entry] of Object.entries(u)) {
    if (type === '')
      return E.left(invalidArgument(field, 'names an event type with an empty string'))
    const history = validateEntry(type, entry, `${field}.${type}`)
    if (E.isLeft(history)) return history
    copy[type] = history.right
  }
  for (const type of Object.keys(copy)) {
    const rename = validateRename(copy, type, field)
    if (E.isLeft(rename)) return rename
  }
  return E.right(copy)
}
