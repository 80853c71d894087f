/**
 * Schema evolution. Stored events keep their bytes forever; what changes is the code that reads
 * them. Each event records the version of its type's schema (the envelope's `v`, 1 when absent),
 * and `upcasters` give, per type, a chain of steps, each from one version to the next, so that a
 * read turns an event of any older version into the current shape before the type's codec sees
 * it. A type may also be renamed, declaratively: its events, once at its last version, read as
 * a version of the new name and go on along that name's chain. Everything here is pure; the
 * option is checked when a store opens (upcasters.ts).
 */
import * as E from 'fp-ts/lib/Either.js'
import { invalidArgument, type DecodeFailedError, type InvalidArgumentError } from '../errors.js'
import type { EventInput, Json, StoredEvent } from './envelope.js'
import type { StreamWrite } from './requests.js'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** What one upcaster receives: a stored event in the shape of the version it upcasts from. */
export interface UpcastInput {
  /** The type name the event has at this step: as stored, or a later name after a rename. */
  readonly type: string
  /** The version this step upcasts from; the step returns the next one. */
  readonly version: number
  readonly data: Json
  readonly metadata: Json
  readonly streamId: string
  readonly revision: number
  readonly position: number
}

/** What one upcaster returns: the event's data at the next version, and its metadata if changed. */
export interface UpcastOutput {
  readonly data: Json
  /** Absent: the metadata stays as it was. */
  readonly metadata?: Json
}

/** One step of a type's chain, from one version to the next. Synchronous and pure. */
export type Upcaster = (event: UpcastInput) => UpcastOutput

/** One event type's history: the steps between its versions, and its new name if it has one. */
export interface EventTypeHistory {
  /** `steps[i]` takes version `i + 1` to version `i + 2`; the last version is `steps.length + 1`. */
  readonly steps?: ReadonlyArray<Upcaster>
  /** The type's new name: appending this one is refused, and reads return the new one. */
  readonly renamedTo?: string
  /** Which version of `renamedTo` this type's last version reads as (default 1). */
  readonly asVersion?: number
}

/**
 * Per event type (as stored), its chain of upcasters or its history. A type's current version is
 * its chain's length + 1; a type with no entry is at version 1.
 */
export type Upcasters = Readonly<Record<string, ReadonlyArray<Upcaster> | EventTypeHistory>>

/** An event as reads see it after upcasting: its current type, version, data and metadata. */
export interface Upcast {
  readonly type: string
  readonly version: number
  readonly data: Json
  readonly metadata: Json
}

/** An event to append with the version of its type's schema it is written in. */
/** A type's history with its defaults filled in. */
export interface History {
  readonly steps: ReadonlyArray<Upcaster>
  readonly renamedTo: string | undefined
  readonly asVersion: number
}

const NO_HISTORY: History = { steps: [], renamedTo: undefined, asVersion: 1 }

/** The history of `type`, which has none when `upcasters` does not name it. */
export const historyOf = (upcasters: Upcasters, type: string): History => {
  if (!Object.hasOwn(upcasters, type)) return NO_HISTORY
  const entry = upcasters[type] as ReadonlyArray<Upcaster> | EventTypeHistory
  if (Array.isArray(entry)) return { ...NO_HISTORY, steps: entry as ReadonlyArray<Upcaster> }
  const h = entry as EventTypeHistory
  return { steps: h.steps ?? [], renamedTo: h.renamedTo, asVersion: h.asVersion ?? 1 }
}

// -------------------------------------------------------------------------------------
// destructors
// -------------------------------------------------------------------------------------

/** The last version of `type`'s schema the code knows: its chain's length + 1. */
export const versionOf = (upcasters: Upcasters, type: string): number =>
  historyOf(upcasters, type).steps.length + 1

/** The name events stored as `type` read as: the end of its renames (itself when none). */
export const currentNameOf = (upcasters: Upcasters, type: string): string => {
  let name = type
  for (let next = historyOf(upcasters, name).renamedTo; next !== undefined;) {
    name = next
    next = historyOf(upcasters, name).renamedTo
  }
  return name
}

/**
 * Every stored type name whose events read as `type`: `type` itself first, then each name
 * renamed to it, directly or through other renames, in the order `upcasters` lists them. For
 * finding the events of a current name in an index by type; a former name is refused before
 * (`checkTypeName`), as reads never return it.
 */
export const storedNamesOf = (upcasters: Upcasters, type: string): ReadonlyArray<string> => {
  const reaches = (name: string): boolean => {
    for (let next = historyOf(upcasters, name).renamedTo; next !== undefined;) {
      if (next === type) return true
      next = historyOf(upcasters, next).renamedTo
    }
    return false
  }
  return [type, ...Object.keys(upcasters).filter((name) => name !== type && reaches(name))]
}

/** Refuses a former type name, where a caller names a type: it reads as its new name only. */
export const checkTypeName = (
  upcasters: Upcasters,
  type: string,
  field: string,
): E.Either<InvalidArgumentError, string> => {
  const current = currentNameOf(upcasters, type)
  return current === type
    ? E.right(type)
    : E.left(
        invalidArgument(
          field,
          `${JSON.stringify(type)} was renamed to ${JSON.stringify(current)}; write that`,
        ),
      )
}

/** Refuses a former type name among `types` (a read's filter), naming `field[i]`. */
export const checkTypeNames = (
  upcasters: Upcasters,
  types: ReadonlyArray<string> | undefined,
  field: string,
): E.Either<InvalidArgumentError, void> => {
  for (const [i, type] of (types ?? []).entries()) {
    const checked = checkTypeName(upcasters, type, `${field}[${i}]`)
    if (E.isLeft(checked)) return checked
  }
  return E.right(undefined)
}

/**
 * An append's events, checked: a former type name is refused, naming the event's `type` under
 * `field` (e.g. `events`). Each is stored with its type's current version (`versionOf`), which
 * the store's writer gives it.
 */
export const checkEventTypes = (
  upcasters: Upcasters,
  events: ReadonlyArray<EventInput>,
  field: string,
): E.Either<InvalidArgumentError, ReadonlyArray<EventInput>> => {
  for (const [i, event] of events.entries()) {
    const type = checkTypeName(upcasters, event.type, `${field}[${i}].type`)
    if (E.isLeft(type)) return type
  }
  return E.right(events)
}

/** `checkEventTypes` for each write of `appendMulti`, naming `writes[i].events[j].type`. */
export const checkWriteTypes = (
  upcasters: Upcasters,
  writes: ReadonlyArray<StreamWrite>,
): E.Either<InvalidArgumentError, ReadonlyArray<StreamWrite>> => {
  for (const [i, write] of writes.entries()) {
    const events = checkEventTypes(upcasters, write.events, `writes[${i}].events`)
    if (E.isLeft(events)) return events
  }
  return E.right(writes)
}

// -------------------------------------------------------------------------------------
// upcasting
// -------------------------------------------------------------------------------------

/** Where a stored event is, for its errors. */
export interface EventAt {
  readonly streamId: string
  readonly position: number
}

const named = (at: EventAt, stored: StoredEvent): string =>
  `stream ${JSON.stringify(at.streamId)} revision ${stored.revision} (position ${at.position}), type ${JSON.stringify(stored.type)} stored at version ${stored.version}`

const failed = (
  at: EventAt,
  stored: StoredEvent,
  known: number,
  message: string,
  cause?: unknown,
): DecodeFailedError => ({
  code: 'DECODE_FAILED',
  message: `${named(at, stored)}: ${message}`,
  streamId: at.streamId,
  revision: stored.revision,
  position: at.position,
  type: stored.type,
  storedVersion: stored.version,
  knownVersion: known,
  ...(cause === undefined ? {} : { cause }),
})

const isOutput = (u: unknown): u is UpcastOutput =>
  typeof u === 'object' && u !== null && (u as { data?: unknown }).data !== undefined

/** Runs one upcaster; what it throws or a result with no `data` becomes an error message. */
const runStep = (
  step: Upcaster,
  input: UpcastInput,
): E.Either<{ readonly message: string; readonly cause?: unknown }, UpcastOutput> => {
  const what = `the upcaster of ${JSON.stringify(input.type)} from version ${input.version} to ${input.version + 1}`
  let out: unknown
  try {
    out = step(input)
  } catch (cause) {
    return E.left({
      message: `${what} threw: ${cause instanceof Error ? cause.message : String(cause)}`,
      cause,
    })
  }
  return isOutput(out) ? E.right(out) : E.left({ message: `${what} returned no { data }` })
}

/**
 * A stored event in its current shape: from its stored version, through the rest of its type's
 * chain, then, if the type was renamed, on along the new name's chain from `asVersion`, to the
 * current name's last version. A stored version newer than the code knows, an upcaster that
 * throws or returns no `{ data }`: `DECODE_FAILED`, naming the event. The stored event is not
 * changed. REQUIRES: `upcasters` passed `validateUpcasters` (so renames end).
 */
export const upcast = (
  upcasters: Upcasters,
  at: EventAt,
  stored: StoredEvent,
): E.Either<DecodeFailedError, Upcast> => {
  let history = historyOf(upcasters, stored.type)
  const known = history.steps.length + 1
  if (stored.version > known) {
    return E.left(failed(at, stored, known, `this code knows versions up to ${known}`))
  }
  let { type, version, data, metadata } = stored
  for (;;) {
    for (let i = version - 1; i < history.steps.length; i++) {
      const input = { type, version, data, metadata, ...at, revision: stored.revision }
      const out = runStep(history.steps[i] as Upcaster, input)
      if (E.isLeft(out)) return E.left(failed(at, stored, known, out.left.message, out.left.cause))
      data = out.right.data
      metadata = out.right.metadata === undefined ? metadata : out.right.metadata
      version++
    }
    if (history.renamedTo === undefined) return E.right({ type, version, data, metadata })
    type = history.renamedTo
    version = history.asVersion
    history = historyOf(upcasters, type)
  }
}
