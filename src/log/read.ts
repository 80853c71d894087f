/**
 * Reads: per-key scans, global scans in sequence order, counts and key listings, over on-disk
 * format 2 (src/codec/commit.ts). Global scans walk commit records in storage order and take
 * the values from them; key scans walk the key's run records and take a run's values from the
 * record itself when it is inline, or from its commit record when it is not (fetched once for
 * all of that commit's runs in a row). Everything streams; nothing loads a whole key or log
 * into memory. Format 1 logs are read only to convert them (format/v1/read.ts).
 */
import * as O from 'fp-ts/lib/Option.js'
import {
  CHECKSUM_BYTES,
  decodeCommit,
  encodeCommitKey,
  GENESIS,
  valuesInCommit,
  type ChainLink,
  type DecodedCommit,
} from '../codec/commit.js'
import { decodeRunRecord, encodeRunKey, runRange } from '../codec/run.js'
import { FORMAT_VERSION, RecordType } from '../codec/records.js'
import { prefixSuccessor } from '../codec/keys.js'
import {
  aborted,
  corruption,
  DeltalogError,
  orThrow,
  toDeltalogError,
  type DeltalogErrorValue,
} from '../errors.js'
import { iterate, type IterateOptions, type KeyValue, type Storage } from '../storage/port.js'
import { copyBytes } from '../codec/bytes.js'
import { abortable } from './abort.js'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** One entry of the log as reads return it. */
export interface LogEntry {
  readonly key: Uint8Array
  readonly sequence: number
  readonly value: Uint8Array
}

/** What reads need to know of the log. */
export interface ReadContext {
  readonly storage: Storage
  /** Entries below this were removed. */
  readonly truncatedBefore: () => number
  /** Whether the log was closed: reads then end quietly instead of failing. */
  readonly isClosed: () => boolean
  /**
   * The truncation point as stored now. A reader's `truncatedBefore` may lag behind a writer
   * elsewhere, so a commit found missing is checked against this before it is corruption.
   */
  readonly storedTruncation?: () => Promise<number>
}

/** A half-open sequence range `[lower, upper)`; `upper` undefined means unbounded. */
export interface SequenceRange {
  readonly lower: number
  readonly upper: number | undefined
}

/** The first pair of a range, or undefined when it is empty. */
export const first = async (
  storage: Storage,
  options: IterateOptions,
): Promise<KeyValue | undefined> => {
  for await (const pair of iterate(storage, { ...options, limit: 1 })) return pair
  return undefined
}

/** An async iterable that fails on its first `next()` with an error value, then ends. */
export const failing = <A>(error: DeltalogErrorValue): AsyncIterableIterator<A> => {
  let failed = false
  const self: AsyncIterableIterator<A> = {
    [Symbol.asyncIterator]: () => self,
    next: () => {
      if (failed) return Promise.resolve({ done: true, value: undefined })
      failed = true
      return Promise.reject(toDeltalogError(error))
    },
  }
  return self
}

/** Ends a read quietly when the log closes under it; other errors pass through. */
export async function* endOnClose<A>(
  ctx: ReadContext,
  source: AsyncIterable<A>,
): AsyncGenerator<A> {
  try {
    for await (const item of source) {
      yield item
      if (ctx.isClosed()) return
    }
  } catch (error) {
    if (ctx.isClosed() && error instanceof DeltalogError && error.code === 'CLOSED') return
    throw error
  }
}

const COMMITS = ((): { readonly gte: Uint8Array; readonly lt: Uint8Array } => {
  const gte = Uint8Array.of(FORMAT_VERSION, RecordType.Commit)
  return { gte, lt: prefixSuccessor(gte) }
})()

/** The entries of a run of `count` from `firstSequence` that lie in `[lower, upper)`. */
function* inRange(
  key: Uint8Array,
  firstSequence: number,
  values: ReadonlyArray<Uint8Array>,
  lower: number,
  upper: number,
  reverse: boolean,
): Generator<LogEntry> {
  const from = Math.max(0, lower - firstSequence)
  const to = Math.min(values.length, upper - firstSequence)
  for (let i = 0; i < to - from; i++) {
    const at = reverse ? to - 1 - i : from + i
    const value = values[at]
    // Each entry gets its own key, as format 1's reads gave them: the run's key is one view.
    if (value !== undefined) yield { key: copyBytes(key), sequence: firstSequence + at, value }
  }
}

// -------------------------------------------------------------------------------------
// the chain's end
// -------------------------------------------------------------------------------------

/** Where the chain stands: the link of the last commit record, or `GENESIS` in an empty log. */
export const lastLink = async (storage: Storage): Promise<ChainLink> => {
  const last = await first(storage, { ...COMMITS, reverse: true })
  if (last === undefined) return GENESIS
  const commit = orThrow(decodeCommit(last.key, last.value))
  return { end: commit.end, checksum: commit.checksum.slice(0, CHECKSUM_BYTES) }
}

// -------------------------------------------------------------------------------------
// global scans
// -------------------------------------------------------------------------------------

/** The commit records overlapping `[lower, upper)`, in order or in reverse. */
async function* commits(
  ctx: ReadContext,
  lower: number,
  upper: number | undefined,
  reverse: boolean,
): AsyncGenerator<DecodedCommit> {
  const holding = await first(ctx.storage, {
    gte: COMMITS.gte,
    lte: encodeCommitKey(lower),
    reverse: true,
  })
  const gte = holding?.key ?? encodeCommitKey(lower)
  const lt = upper === undefined ? COMMITS.lt : encodeCommitKey(upper)
  for await (const pair of iterate(ctx.storage, { gte, lt, reverse })) {
    const commit = orThrow(decodeCommit(pair.key, pair.value))
    if (commit.end <= lower) {
      if (reverse) return
      continue
    }
    yield commit
  }
}

/**
 * What a read covers: the sequences `[lower, upper)` of `range` that truncation left, and how
 * many entries it may yield; undefined when it can yield none.
 */
export const readBounds = (
  ctx: ReadContext,
  range: SequenceRange,
  limit: number | undefined,
): { readonly lower: number; readonly upper: number; readonly left: number } | undefined => {
  const lower = Math.max(range.lower, ctx.truncatedBefore())
  const upper = range.upper ?? Number.MAX_SAFE_INTEGER
  const left = limit ?? Infinity
  return lower >= upper || left <= 0 ? undefined : { lower, upper, left }
}

/** Every key's entries in `[lower, upper)`, in global sequence order (or its reverse). */
export async function* scanAll(
  ctx: ReadContext,
  range: SequenceRange,
  reverse: boolean,
  limit: number | undefined,
): AsyncGenerator<LogEntry> {
  const bounds = readBounds(ctx, range, limit)
  if (bounds === undefined) return
  const { lower, upper } = bounds
  let left = bounds.left
  for await (const commit of commits(ctx, lower, range.upper, reverse)) {
    let sequence = commit.firstSequence
    const starts = commit.runs.map((run) => {
      const start = sequence
      sequence += run.values.length
      return start
    })
    for (let i = 0; i < commit.runs.length; i++) {
      const r = reverse ? commit.runs.length - 1 - i : i
      const run = commit.runs[r]
      if (run === undefined) continue
      for (const entry of inRange(run.key, starts[r] ?? 0, run.values, lower, upper, reverse)) {
        yield entry
        if (--left <= 0) return
      }
    }
  }
}

// -------------------------------------------------------------------------------------
// key scans
// -------------------------------------------------------------------------------------

/** Run records a key scan reads per iteration of the store. */
const RUN_PAGE = 64

/**
 * The pairs of a range, read at most `RUN_PAGE` at a time — and no more than `most()` says are
 * still wanted —, each page's iteration ended before any of it is handed on. A key scan reads commit records between its run records: on a store where an
 * open iteration holds a connection (PostgreSQL), reading them inside it took a second one, and
 * concurrent scans could take every connection of the pool and wait for each other.
 */
async function* inPages(
  storage: Storage,
  range: { readonly gte: Uint8Array; readonly lt: Uint8Array; readonly reverse: boolean },
  most: () => number,
): AsyncGenerator<KeyValue> {
  let bounds: IterateOptions = { gte: range.gte, lt: range.lt }
  for (;;) {
    const size = Math.min(RUN_PAGE, most())
    const page: KeyValue[] = []
    for await (const pair of iterate(storage, { ...bounds, reverse: range.reverse, limit: size })) {
      page.push(pair)
    }
    yield* page
    const last = page[page.length - 1]
    if (last === undefined || page.length < size) return
    bounds = range.reverse ? { gte: range.gte, lt: last.key } : { gt: last.key, lt: range.lt }
  }
}

/** One key's entries in `[lower, upper)`, by sequence (or in reverse). */
export async function* scanKey(
  ctx: ReadContext,
  key: Uint8Array,
  range: SequenceRange,
  reverse: boolean,
  limit: number | undefined,
): AsyncGenerator<LogEntry> {
  const bounds = readBounds(ctx, range, limit)
  if (bounds === undefined) return
  const { lower, upper } = bounds
  let left = bounds.left
  const all = runRange(key)
  // The run holding `lower` may start below it (no run starts below 0).
  const holding =
    lower === 0
      ? undefined
      : await first(ctx.storage, { gte: all.gte, lte: encodeRunKey(key, lower), reverse: true })
  const gte = holding?.key ?? encodeRunKey(key, lower)
  const lt = range.upper === undefined ? all.lt : encodeRunKey(key, range.upper)
  let cached: { readonly first: number; readonly value: Uint8Array } | undefined
  // Each run holds one entry or more, and the first may lie below `lower`.
  for await (const pair of inPages(ctx.storage, { gte, lt, reverse }, () => left + 1)) {
    const run = orThrow(decodeRunRecord(pair.key, pair.value))
    let values: ReadonlyArray<Uint8Array>
    if (run.form === 'inline') {
      values = run.values
    } else {
      if (cached?.first !== run.commitFirstSequence) {
        const stored = orThrow(await ctx.storage.get(encodeCommitKey(run.commitFirstSequence))())
        if (O.isNone(stored)) {
          // Gone since the run was read only if a truncation removed it.
          if (run.firstSequence + run.count <= ctx.truncatedBefore()) continue
          const cut = (await ctx.storedTruncation?.()) ?? 0
          if (run.firstSequence + run.count <= cut) continue
          throw toDeltalogError(
            corruption(
              `run ${run.firstSequence} points to commit ${run.commitFirstSequence}, which is missing`,
            ),
          )
        }
        cached = { first: run.commitFirstSequence, value: stored.value }
      }
      values = orThrow(valuesInCommit(cached.value, run.place, run.count))
    }
    if (run.firstSequence + values.length <= lower) {
      if (reverse) return
      continue
    }
    for (const entry of inRange(run.key, run.firstSequence, values, lower, upper, reverse)) {
      yield entry
      if (--left <= 0) return
    }
  }
}

// -------------------------------------------------------------------------------------
// counts
// -------------------------------------------------------------------------------------

/**
 * The exact number of entries in `[lower, upper)`, of one key or of all. Once `signal` aborts,
 * it rejects with `ABORTED` (see abort.ts).
 */
export const countEntries = async (
  ctx: ReadContext,
  key: Uint8Array | undefined,
  range: SequenceRange,
  signal?: AbortSignal,
): Promise<number> => {
  if (signal?.aborted === true) throw toDeltalogError(aborted('count', signal.reason))
  const bounds = readBounds(ctx, range, undefined)
  if (bounds === undefined) return 0
  const { lower, upper } = bounds
  let n = 0
  if (key !== undefined) {
    const entries = scanKey(ctx, key, { lower, upper: range.upper }, false, undefined)
    for await (const _ of abortable(entries, signal, 'count')) n++
    return n
  }
  const overlapping = commits(ctx, lower, range.upper, false)
  for await (const commit of abortable(overlapping, signal, 'count')) {
    n += Math.max(0, Math.min(commit.end, upper) - Math.max(commit.firstSequence, lower))
  }
  return n
}
