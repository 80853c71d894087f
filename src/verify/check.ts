/**
 * The checks of `deltalog verify`, as a pure fold over a log's stored pairs in key order. The
 * caller reads the SeqBlock and the truncation watermark first (`startCheck`), feeds every
 * pair (`checkPair`), looks up the entries each commit index record names and feeds the answers
 * back (`checkLookups`), and ends with `finishCheck`. Nothing here does I/O, so each check is a
 * plain function of values.
 *
 * What it checks: every key decodes as a record deltalog writes; one key's entries ascend; every
 * sequence, of entries and of index records, lies below the stored SeqBlock's `nextBase`; index
 * records ascend without overlapping (global order); every entry an index record names exists;
 * and every entry at or above the truncation watermark is named by an index record — which,
 * with the two checks before, means named by exactly one. In a log that holds an event store
 * (it carries the store's marker entry), every event must decode and each stream's revisions
 * must be dense.
 */
import * as E from 'fp-ts/lib/Either.js'
import * as O from 'fp-ts/lib/Option.js'
import { decodeCommitIndexKey, decodeRuns } from '../codec/commitIndex.js'
import { decodeEvent, EVENTS, MARKER } from '../eventstore/envelope.js'
import {
  decodeEntryKey,
  FORMAT_VERSION,
  RecordType,
  seqBlockKey,
  truncatedBeforeKey,
  type EntryKey,
} from '../codec/keys.js'
import { printable } from '../codec/printable.js'
import { readU64 } from '../codec/u64.js'
import { decodeSeqBlock, nextBase, type SeqBlock } from '../sequence/seqBlock.js'
import type { KeyValue } from '../storage/port.js'
import { compareBytes } from '../storage/range.js'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** Violations listed in a report; the rest are only counted. */
export const MAX_LISTED_VIOLATIONS = 50

/** The outcome of a verification. */
export interface VerifyReport {
  /** Entries at or above the truncation watermark. */
  readonly entries: number
  /** Entries below the watermark that truncation has not yet deleted (allowed). */
  readonly hiddenEntries: number
  /** Distinct keys with entries. */
  readonly keys: number
  readonly indexRecords: number
  readonly seqBlock: O.Option<SeqBlock>
  readonly truncatedBefore: number
  /** Every violation found (only the first MAX_LISTED_VIOLATIONS are listed). */
  readonly violationCount: number
  readonly violations: ReadonlyArray<string>
}

/** The fold's state between pairs. */
export interface CheckState {
  readonly seqBlock: O.Option<SeqBlock>
  readonly nextBase: number
  readonly truncatedBefore: number
  readonly pairs: number
  readonly entries: number
  readonly hiddenEntries: number
  readonly keys: number
  readonly indexRecords: number
  /** Entries named by index records (at or above the watermark) that exist. */
  readonly named: number
  readonly lastEntry: O.Option<EntryKey>
  /** Whether the log holds an event store, and the revision of the last event seen. */
  readonly eventStore: boolean
  readonly lastEvent: O.Option<{ readonly key: Uint8Array; readonly revision: number }>
  /** The sequence after the last index record's entries: the next record must start there or later. */
  readonly indexEnd: number
  readonly violationCount: number
  readonly violations: ReadonlyArray<string>
}

/** An entry an index record names, which the caller must look up. */
export interface Lookup extends EntryKey {
  /** The first sequence of the index record that names it. */
  readonly commit: number
}

// -------------------------------------------------------------------------------------
// helpers
// -------------------------------------------------------------------------------------

const sameBytes = (a: Uint8Array, b: Uint8Array): boolean => compareBytes(a, b) === 0

const violate = (state: CheckState, ...messages: ReadonlyArray<string>): CheckState => ({
  ...state,
  violationCount: state.violationCount + messages.length,
  violations:
    state.violations.length >= MAX_LISTED_VIOLATIONS
      ? state.violations
      : [...state.violations, ...messages].slice(0, MAX_LISTED_VIOLATIONS),
})

const showEntry = (key: Uint8Array, sequence: number): string =>
  `entry ${sequence} of key "${printable(key)}"`

const showKey = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex')

// -------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------

/**
 * The state before the first pair, from the stored SeqBlock and truncation watermark (each
 * `none` when absent). Either failing to decode is the first violation; verification goes on
 * as if it were absent.
 */
export const startCheck = (
  storedBlock: O.Option<Uint8Array>,
  storedWatermark: O.Option<Uint8Array>,
): CheckState => {
  let state: CheckState = {
    seqBlock: O.none,
    nextBase: 0,
    truncatedBefore: 0,
    pairs: 0,
    entries: 0,
    hiddenEntries: 0,
    keys: 0,
    indexRecords: 0,
    named: 0,
    lastEntry: O.none,
    eventStore: false,
    lastEvent: O.none,
    indexEnd: 0,
    violationCount: 0,
    violations: [],
  }
  if (O.isSome(storedBlock)) {
    const block = decodeSeqBlock(storedBlock.value)
    state = E.isRight(block)
      ? { ...state, seqBlock: O.some(block.right), nextBase: nextBase(block.right) }
      : violate(state, `the SeqBlock does not decode: ${block.left.message}`)
  }
  if (O.isSome(storedWatermark)) {
    const watermark =
      storedWatermark.value.length === 8 ? readU64(storedWatermark.value, 0) : O.none
    state = O.isSome(watermark)
      ? { ...state, truncatedBefore: watermark.value }
      : violate(state, 'the truncation watermark is not a u64 in the safe range')
  }
  return state
}

// -------------------------------------------------------------------------------------
// combinators
// -------------------------------------------------------------------------------------

const checkEntry = (state: CheckState, pair: KeyValue): CheckState => {
  const decoded = decodeEntryKey(pair.key)
  if (E.isLeft(decoded)) {
    return violate(state, `key ${showKey(pair.key)} does not decode: ${decoded.left.message}`)
  }
  const { key, sequence } = decoded.right
  let next = state
  const last = state.lastEntry
  const sameKey = O.isSome(last) && sameBytes(last.value.key, key)
  if (sameKey && sequence <= last.value.sequence) {
    next = violate(next, `${showEntry(key, sequence)} follows ${last.value.sequence} of its key`)
  }
  if (sequence >= state.nextBase) {
    next = violate(
      next,
      `${showEntry(key, sequence)} lies at or above the SeqBlock's nextBase ${state.nextBase}`,
    )
  }
  const visible = sequence >= state.truncatedBefore
  if (sameBytes(key, MARKER_KEY)) next = { ...next, eventStore: true }
  if (next.eventStore && visible && startsWith(key, EVENTS_PREFIX)) {
    next = checkEvent(next, key, sequence, pair.value)
  }
  return {
    ...next,
    keys: sameKey ? next.keys : next.keys + 1,
    entries: visible ? next.entries + 1 : next.entries,
    hiddenEntries: visible ? next.hiddenEntries : next.hiddenEntries + 1,
    lastEntry: O.some(decoded.right),
  }
}

const MARKER_KEY = new TextEncoder().encode(MARKER)
const EVENTS_PREFIX = new TextEncoder().encode(EVENTS)
const startsWith = (bytes: Uint8Array, prefix: Uint8Array): boolean =>
  bytes.length >= prefix.length && prefix.every((b, i) => bytes[i] === b)

/** An event: it decodes, and its revision follows the stream's last one (or starts at 0). */
const checkEvent = (
  state: CheckState,
  key: Uint8Array,
  sequence: number,
  value: Uint8Array,
): CheckState => {
  const event = decodeEvent(value)
  if (E.isLeft(event)) {
    return violate(state, `${showEntry(key, sequence)} is not an event: ${event.left.message}`)
  }
  const revision = event.right.revision
  // Below a truncation point a stream's first visible event may be any revision.
  const last = state.lastEvent
  const expected =
    O.isSome(last) && sameBytes(last.value.key, key)
      ? last.value.revision + 1
      : state.truncatedBefore > 0
        ? revision
        : 0
  const next = { ...state, lastEvent: O.some({ key, revision }) }
  return revision === expected
    ? next
    : violate(
        next,
        `${showEntry(key, sequence)} has revision ${revision}, not ${expected}: revisions are not dense`,
      )
}

const checkIndex = (
  state: CheckState,
  pair: KeyValue,
): { readonly state: CheckState; readonly lookups: ReadonlyArray<Lookup> } => {
  const first = decodeCommitIndexKey(pair.key)
  if (E.isLeft(first)) {
    return {
      state: violate(state, `key ${showKey(pair.key)} does not decode: ${first.left.message}`),
      lookups: [],
    }
  }
  const runs = decodeRuns(pair.value)
  if (E.isLeft(runs)) {
    return {
      state: violate(
        state,
        `the commit index record at ${first.right} does not decode: ${runs.left.message}`,
      ),
      lookups: [],
    }
  }
  const commit = first.right
  let next: CheckState = { ...state, indexRecords: state.indexRecords + 1 }
  if (commit < state.indexEnd) {
    next = violate(
      next,
      `the commit index record at ${commit} overlaps the one before, which ends at ${state.indexEnd - 1}`,
    )
  }
  const lookups: Lookup[] = []
  let sequence = commit
  for (const run of runs.right) {
    for (let i = 0; i < run.count; i++, sequence++) {
      if (sequence >= state.truncatedBefore) lookups.push({ key: run.key, sequence, commit })
    }
  }
  if (sequence > state.nextBase) {
    next = violate(
      next,
      `the commit index record at ${commit} names sequences up to ${sequence - 1}, at or above the SeqBlock's nextBase ${state.nextBase}`,
    )
  }
  return { state: { ...next, indexEnd: Math.max(next.indexEnd, sequence) }, lookups }
}

/**
 * Checks one stored pair, in key order. Returns the entries that an index record names, which
 * the caller looks up and hands to `checkLookups`.
 */
export const checkPair = (
  state: CheckState,
  pair: KeyValue,
): { readonly state: CheckState; readonly lookups: ReadonlyArray<Lookup> } => {
  const counted = { ...state, pairs: state.pairs + 1 }
  const [version, type] = pair.key
  if (version === FORMAT_VERSION && type === RecordType.Entry) {
    return { state: checkEntry(counted, pair), lookups: [] }
  }
  if (version === FORMAT_VERSION && type === RecordType.SequenceIndex) {
    return checkIndex(counted, pair)
  }
  // Both were decoded by startCheck.
  if (sameBytes(pair.key, seqBlockKey) || sameBytes(pair.key, truncatedBeforeKey)) {
    return { state: counted, lookups: [] }
  }
  return {
    state: violate(counted, `key ${showKey(pair.key)} is no record deltalog writes`),
    lookups: [],
  }
}

/** Records which looked-up entries exist: `found[i]` answers `lookups[i]`. */
export const checkLookups = (
  state: CheckState,
  lookups: ReadonlyArray<Lookup>,
  found: ReadonlyArray<boolean>,
): CheckState => {
  const missing = lookups.filter((_, i) => found[i] !== true)
  const next = violate(
    state,
    ...missing.map(
      (l) =>
        `the commit index record at ${l.commit} names ${showEntry(l.key, l.sequence)}, which is missing`,
    ),
  )
  return { ...next, named: next.named + lookups.length - missing.length }
}

// -------------------------------------------------------------------------------------
// destructors
// -------------------------------------------------------------------------------------

/** The report, once every pair and every lookup has been checked. */
export const finishCheck = (state: CheckState): VerifyReport => {
  const unnamed = state.entries - state.named
  const final =
    unnamed > 0
      ? violate(state, `${unnamed} of ${state.entries} entries are named by no commit index record`)
      : state
  return {
    entries: final.entries,
    hiddenEntries: final.hiddenEntries,
    keys: final.keys,
    indexRecords: final.indexRecords,
    seqBlock: final.seqBlock,
    truncatedBefore: final.truncatedBefore,
    violationCount: final.violationCount,
    violations: final.violations,
  }
}
