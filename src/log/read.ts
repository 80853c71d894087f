/**
 * Reads: per-key scans, global scans in sequence order, counts and key listings. Everything
 * streams from storage in chunks; nothing loads a whole key or log into memory.
 *
 * A key scan is one range read of that key's entries. A global scan walks the commit index —
 * one small record per commit naming the keys of its entries in order — and reads each commit's
 * values with one range read per long run of a key and one multi-get for the rest, so its cost
 * grows with the entries read, not with the number of keys.
 */
import * as E from 'fp-ts/lib/Either.js'
import * as O from 'fp-ts/lib/Option.js'
import {
  decodeCommitIndexKey,
  decodeRuns,
  encodeCommitIndexKey,
  entryCount,
  type Run,
} from '../codec/commitIndex.js'
import {
  decodeEntryKey,
  encodeEntryKey,
  entryPrefixRange,
  entryRange,
  recordRange,
  RecordType,
} from '../codec/keys.js'
import { readU64, U64_BYTES } from '../codec/u64.js'
import { corruption, DeltalogError, toDeltalogError, type DeltalogErrorValue } from '../errors.js'
import {
  copyBytes,
  iterate,
  type IterateOptions,
  type KeyValue,
  type Storage,
} from '../storage/port.js'

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
}

/** A half-open sequence range `[lower, upper)`; `upper` undefined means unbounded. */
export interface SequenceRange {
  readonly lower: number
  readonly upper: number | undefined
}

// Runs at least this long are read with a range read; shorter ones through one multi-get.
const RANGE_READ_MIN_RUN = 8

const INDEX = recordRange(RecordType.SequenceIndex)

/** The value of a result, or its error thrown: for reads that stream through generators. */
export const orThrow = <A>(result: E.Either<DeltalogErrorValue, A>): A => {
  if (E.isLeft(result)) throw toDeltalogError(result.left)
  return result.right
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

// -------------------------------------------------------------------------------------
// key scans
// -------------------------------------------------------------------------------------

/** One key's entries in `[lower, upper)`, by sequence. */
export async function* scanKey(
  ctx: ReadContext,
  key: Uint8Array,
  range: SequenceRange,
  reverse: boolean,
  limit: number | undefined,
): AsyncGenerator<LogEntry> {
  const lower = Math.max(range.lower, ctx.truncatedBefore())
  if (range.upper !== undefined && lower >= range.upper) return
  const bounds = entryRange(key, lower, range.upper)
  const options: IterateOptions = { gte: bounds.gte, lt: bounds.lt, reverse }
  for await (const pair of iterate(
    ctx.storage,
    limit === undefined ? options : { ...options, limit },
  )) {
    const sequence = readU64(pair.key, pair.key.length - U64_BYTES)
    if (O.isNone(sequence)) throw toDeltalogError(corruption('entry key with a bad sequence'))
    yield { key: copyBytes(key), sequence: sequence.value, value: pair.value }
  }
}

// -------------------------------------------------------------------------------------
// global scans
// -------------------------------------------------------------------------------------

interface Commit {
  readonly firstSequence: number
  readonly runs: ReadonlyArray<Run>
}

const decodeCommit = (pair: KeyValue): Commit => ({
  firstSequence: orThrow(decodeCommitIndexKey(pair.key)),
  runs: orThrow(decodeRuns(pair.value)),
})

/** The index key to start a forward walk from: that of the commit holding `lower`, if any. */
const indexStart = async (ctx: ReadContext, lower: number): Promise<Uint8Array> => {
  const at = encodeCommitIndexKey(lower)
  const holding = await first(ctx.storage, { gte: INDEX.gte, lte: at, reverse: true })
  return holding?.key ?? at
}

/** The commits overlapping `[lower, upper)`, in order (or reverse order). */
async function* commits(
  ctx: ReadContext,
  lower: number,
  upper: number | undefined,
  reverse: boolean,
): AsyncGenerator<Commit> {
  const lt = upper === undefined ? INDEX.lt : encodeCommitIndexKey(upper)
  const gte = await indexStart(ctx, lower)
  for await (const pair of iterate(ctx.storage, { gte, lt, reverse })) {
    const commit = decodeCommit(pair)
    if (reverse && commit.firstSequence + entryCount(commit) <= lower) return
    yield commit
  }
}

/** Reads the values of one commit's entries within `[lower, upper)`, in sequence order. */
const readCommit = async (
  ctx: ReadContext,
  commit: Commit,
  lower: number,
  upper: number,
): Promise<ReadonlyArray<LogEntry>> => {
  const slots: Array<LogEntry | undefined> = []
  const wanted: Array<{
    readonly key: Uint8Array
    readonly sequence: number
    readonly slot: number
  }> = []
  const ranged: Array<Promise<void>> = []
  let sequence = commit.firstSequence
  for (const run of commit.runs) {
    const from = Math.max(sequence, lower)
    const to = Math.min(sequence + run.count, upper)
    if (to - from >= RANGE_READ_MIN_RUN) {
      const offset = slots.length
      slots.length += to - from
      ranged.push(
        (async () => {
          const bounds = entryRange(run.key, from, to)
          for await (const pair of iterate(ctx.storage, bounds)) {
            const s = readU64(pair.key, pair.key.length - U64_BYTES)
            if (O.isNone(s)) throw toDeltalogError(corruption('entry key with a bad sequence'))
            slots[offset + s.value - from] = {
              key: copyBytes(run.key),
              sequence: s.value,
              value: pair.value,
            }
          }
        })(),
      )
    } else {
      for (let s = from; s < to; s++) {
        wanted.push({ key: run.key, sequence: s, slot: slots.length })
        slots.length++
      }
    }
    sequence += run.count
  }
  await Promise.all(ranged)
  if (wanted.length > 0) {
    const values = orThrow(
      await ctx.storage.getMany(wanted.map((w) => encodeEntryKey(w.key, w.sequence)))(),
    )
    wanted.forEach((w, i) => {
      const value = values[i]
      if (value !== undefined && O.isSome(value)) {
        slots[w.slot] = { key: copyBytes(w.key), sequence: w.sequence, value: value.value }
      }
    })
  }
  // A slot left empty is an entry the index names but storage lacks: fine only if a
  // truncation removed it since the index was read.
  const entries = slots.filter((e): e is LogEntry => e !== undefined)
  if (entries.length < slots.length) {
    const present = new Set(entries.map((e) => e.sequence))
    for (let s = Math.max(commit.firstSequence, lower); s < upper; s++) {
      if (s >= commit.firstSequence + entryCount(commit)) break
      if (!present.has(s) && s >= ctx.truncatedBefore()) {
        throw toDeltalogError(corruption(`the commit index names entry ${s}, which is missing`))
      }
    }
  }
  return entries
}

/** All keys' entries in `[lower, upper)`, in global sequence order (or its reverse). */
export async function* scanAll(
  ctx: ReadContext,
  range: SequenceRange,
  reverse: boolean,
  limit: number | undefined,
): AsyncGenerator<LogEntry> {
  const lower = Math.max(range.lower, ctx.truncatedBefore())
  const upper = range.upper ?? Number.MAX_SAFE_INTEGER
  let left = limit ?? Infinity
  if (lower >= upper || left <= 0) return
  for await (const commit of commits(ctx, lower, range.upper, reverse)) {
    const entries = await readCommit(ctx, commit, lower, upper)
    for (let i = 0; i < entries.length; i++) {
      const entry = entries[reverse ? entries.length - 1 - i : i]
      if (entry === undefined) continue
      yield entry
      if (--left <= 0) return
    }
  }
}

// -------------------------------------------------------------------------------------
// counts and keys
// -------------------------------------------------------------------------------------

/** The exact number of entries in `[lower, upper)`, of one key or of all. */
export const countEntries = async (
  ctx: ReadContext,
  key: Uint8Array | undefined,
  range: SequenceRange,
): Promise<number> => {
  const lower = Math.max(range.lower, ctx.truncatedBefore())
  const upper = range.upper ?? Number.MAX_SAFE_INTEGER
  if (lower >= upper) return 0
  let n = 0
  if (key !== undefined) {
    for await (const _ of scanKey(ctx, key, { lower, upper: range.upper }, false, undefined)) n++
    return n
  }
  for await (const commit of commits(ctx, lower, range.upper, false)) {
    const end = commit.firstSequence + entryCount(commit)
    n += Math.max(0, Math.min(end, upper) - Math.max(commit.firstSequence, lower))
  }
  return n
}

/** The distinct keys that have entries (starting with `prefix`), in byte order. */
export async function* listKeys(
  ctx: ReadContext,
  prefix: Uint8Array | undefined,
): AsyncGenerator<Uint8Array> {
  const bounds = prefix === undefined ? recordRange(RecordType.Entry) : entryPrefixRange(prefix)
  let gte = bounds.gte
  for (;;) {
    const pair = await first(ctx.storage, { gte, lt: bounds.lt })
    if (pair === undefined) return
    const { key, sequence } = orThrow(decodeEntryKey(pair.key))
    const truncated = ctx.truncatedBefore()
    // Entries below the truncation point may still be on disk; list the key only if it has
    // an entry at or above it.
    const visible =
      sequence >= truncated ||
      (await first(ctx.storage, {
        gte: encodeEntryKey(key, truncated),
        lt: entryRange(key).lt,
      })) !== undefined
    if (visible) yield key
    gte = entryRange(key).lt
  }
}
