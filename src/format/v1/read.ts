/**
 * Reads of on-disk format 1, as deltalog 0.1 wrote it: the global scan, which walks the commit
 * index — one record per commit naming the keys of its entries in order — and reads each
 * commit's values with one range read per long run of a key and one multi-get for the rest.
 * The conversion to format 2 (src/format/migrate.ts) is its one user.
 */
import * as O from 'fp-ts/lib/Option.js'
import {
  decodeCommitIndexKey,
  decodeRuns,
  encodeCommitIndexKey,
  entryCount,
  type Run,
} from './commitIndex.js'
import { copyBytes } from '../../codec/bytes.js'
import { readU64, U64_BYTES } from '../../codec/u64.js'
import { corruption, orThrow, toDeltalogError } from '../../errors.js'
import {
  first,
  readBounds,
  type LogEntry,
  type ReadContext,
  type SequenceRange,
} from '../../log/read.js'
import { iterate, type KeyValue } from '../../storage/port.js'
import { encodeEntryKey, entryRange, v1RecordRange, V1RecordType } from './keys.js'

// Runs at least this long are read with a range read; shorter ones through one multi-get.
const RANGE_READ_MIN_RUN = 8

const INDEX = v1RecordRange(V1RecordType.SequenceIndex)

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
  const bounds = readBounds(ctx, range, limit)
  if (bounds === undefined) return
  const { lower, upper } = bounds
  let left = bounds.left
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
