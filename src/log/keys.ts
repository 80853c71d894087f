/**
 * Key listings: the distinct keys that have entries, in byte order. They walk run records (one
 * per run of a key's entries in one commit, in key order) through bounded range reads, and skip
 * the rest of a key's runs once it is listed by seeking past them: a listing reads a few runs per
 * key, not every entry, and never loads a value except to see that a run's commit is there.
 */
import * as O from 'fp-ts/lib/Option.js'
import { encodeCommitKey } from '../codec/commit.js'
import { prefixSuccessor } from '../codec/keys.js'
import { FORMAT_VERSION, RecordType } from '../codec/records.js'
import { decodeRunRecord, encodeRunKey, runRange, type RunRecord } from '../codec/run.js'
import { corruption, orThrow, toDeltalogError } from '../errors.js'
import { iterate } from '../storage/port.js'
import { first, type ReadContext } from './read.js'

// Runs one range read takes at most: the keys it finds are yielded once it has ended, so that a
// caller who stops listing leaves no iterator open. A read after a seek takes only as many runs as
// come before the next seek, and each read that needs no seek takes twice as many as the last,
// since adapters fetch a read's runs ahead of their use.
const RUNS_PER_READ = 256
// Runs of one key read in a row before seeking past the rest (or to the truncation point).
const RUNS_BEFORE_SEEK = 4

/** Where the next range read starts: at a key, or just after one. */
type From = { readonly gte: Uint8Array } | { readonly gt: Uint8Array }

/** The key whose runs are being read, and what is known of it. */
interface Current {
  readonly key: Uint8Array
  readonly listed: boolean
  readonly runs: number
}

/** The distinct keys that have entries (starting with `prefix`), in byte order. */
export async function* listKeys(
  ctx: ReadContext,
  prefix: Uint8Array | undefined,
): AsyncGenerator<Uint8Array> {
  const all = Uint8Array.of(FORMAT_VERSION, RecordType.Run)
  const gte = prefix === undefined ? all : runPrefix(prefix)
  const lt = prefixSuccessor(gte)
  const listing: Listing = {
    ctx,
    lt,
    current: undefined,
    commits: new Set(),
    limit: RUNS_BEFORE_SEEK,
  }
  let from: From | undefined = { gte }
  while (from !== undefined) {
    const found: Uint8Array[] = []
    from = await readRuns(listing, from, found)
    yield* found
  }
}

/** A listing in progress. */
interface Listing {
  readonly ctx: ReadContext
  readonly lt: Uint8Array
  current: Current | undefined
  /** Commits seen to be there, so that runs in one commit fetch it once. */
  readonly commits: Set<number>
  /** Runs the next read takes. */
  limit: number
}

/**
 * Reads up to `RUNS_PER_READ` runs from `from`, pushing on `found` each key that has an entry at
 * or above the truncation point; resolves with where the next read starts, or undefined at the
 * end. A key's runs past the first few are skipped: past all of them once it is listed, else to
 * the run that holds the truncation point.
 */
const readRuns = async (
  listing: Listing,
  from: From,
  found: Uint8Array[],
): Promise<From | undefined> => {
  let read = 0
  let last: Uint8Array | undefined
  const limit = listing.limit
  for await (const pair of iterate(listing.ctx.storage, { ...from, lt: listing.lt, limit })) {
    read++
    last = pair.key
    const run = orThrow(decodeRunRecord(pair.key, pair.value))
    const current: Current =
      listing.current !== undefined && Buffer.from(listing.current.key).equals(run.key)
        ? { ...listing.current, runs: listing.current.runs + 1 }
        : { key: run.key, listed: false, runs: 1 }
    const listed = current.listed || (await isVisible(listing, run))
    if (listed && !current.listed) found.push(run.key)
    listing.current = { ...current, listed }
    if (current.runs >= RUNS_BEFORE_SEEK) {
      listing.limit = RUNS_BEFORE_SEEK
      return skip(listing, listing.current, pair.key)
    }
  }
  listing.limit = Math.min(2 * limit, RUNS_PER_READ)
  return last === undefined || read < limit ? undefined : { gt: last }
}

// Where to go on from a key with many runs, the last of them read at `at`.
const skip = async (listing: Listing, current: Current, at: Uint8Array): Promise<From> => {
  if (current.listed) return { gte: runRange(current.key).lt }
  // Not listed: every run read ends below the truncation point; the run that holds it may start
  // below it.
  const cut = encodeRunKey(current.key, listing.ctx.truncatedBefore())
  const holding = await first(listing.ctx.storage, { gt: at, lte: cut, reverse: true })
  // The runs from there on are read afresh: one of the next few is above the cut.
  listing.current = { ...current, runs: 0 }
  return holding === undefined ? { gt: at } : { gte: holding.key }
}

/**
 * Whether a run has an entry at or above the truncation point. A run whose values are in its
 * commit counts once the commit is seen to be there; one missing since a truncation removed it
 * does not, and one missing otherwise is corruption.
 */
const isVisible = async (listing: Listing, run: RunRecord): Promise<boolean> => {
  const { ctx, commits } = listing
  const end = run.firstSequence + (run.form === 'inline' ? run.values.length : run.count)
  if (end <= ctx.truncatedBefore()) return false
  if (run.form === 'inline' || commits.has(run.commitFirstSequence)) return true
  const stored = orThrow(await ctx.storage.get(encodeCommitKey(run.commitFirstSequence))())
  if (O.isSome(stored)) {
    // A listing over one large commit meets it again and again; a few are enough to remember.
    if (commits.size >= 64) commits.clear()
    commits.add(run.commitFirstSequence)
    return true
  }
  if (end <= ((await ctx.storedTruncation?.()) ?? 0)) return false
  throw toDeltalogError(
    corruption(
      `run ${run.firstSequence} points to commit ${run.commitFirstSequence}, which is missing`,
    ),
  )
}

/** The run keys of every user key that starts with `prefix`: the escape is a prefix code. */
const runPrefix = (prefix: Uint8Array): Uint8Array => {
  const full = encodeRunKey(prefix, 0)
  // Drop the terminator and the sequence.
  return full.subarray(0, full.length - 1 - 8)
}
