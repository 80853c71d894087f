/**
 * Truncation: `truncateBefore(s)` first writes, in one synced batch, the truncation
 * point and the chain's anchor — the link of the last commit wholly below `s`, the commit the
 * first kept one names as its predecessor — so that the chain stays verifiable from the cut
 * (src/verify/chain.ts walks from the anchor). Then it deletes the commit records wholly below
 * `s` and their run records, in bounded unsynced batches — all but those of the marker keys that
 * verify's registered checks look for (src/verify/checks.ts: `$eventstore`), which stay hidden
 * below the cut. A commit that straddles `s` stays whole, its entries below `s` hidden by the
 * truncation point. A crash before the deletions finish leaves hidden records that the next
 * truncation deletes. The record's codec is src/codec/truncation.ts.
 */
import * as E from 'fp-ts/lib/Either.js'
import { sameBytes } from '../codec/bytes.js'
import { decodeCommit, encodeCommitKey, type ChainLink } from '../codec/commit.js'
import { encodeRunKey } from '../codec/run.js'
import { FORMAT_VERSION, RecordType } from '../codec/records.js'
import { encodeTruncation, truncationKey, type Truncation } from '../codec/truncation.js'
import { errorValueOf, type DeltalogErrorValue } from '../errors.js'
import { iterate, type BatchOp, type Storage } from '../storage/port.js'
import { orThrow } from '../errors.js'
import { entryChecks } from '../verify/checks.js'
import { first } from './read.js'

const COMMITS = Uint8Array.of(FORMAT_VERSION, RecordType.Commit)

/**
 * The first step of a cut before `before`: the truncation record, written and synced. From the
 * moment it resolves, reads hide what is below the cut. A cut at or below `current` writes
 * nothing. Resolves with the truncation in force.
 */
export const markTruncation = async (
  storage: Storage,
  before: number,
  current: Truncation,
): Promise<E.Either<DeltalogErrorValue, Truncation>> => {
  if (before <= current.before) return E.right(current)
  try {
    // The last commit wholly below the cut: the one whose end is at most `before`.
    const holding = await first(storage, {
      gte: COMMITS,
      lte: encodeCommitKey(before),
      reverse: true,
    })
    let anchor = current.anchor
    if (holding !== undefined) {
      const commit = orThrow(decodeCommit(holding.key, holding.value))
      if (commit.end <= before) {
        anchor = { end: commit.end, checksum: commit.checksum.slice() }
      } else if (commit.firstSequence > 0) {
        // It straddles the cut: the anchor is the link it continues, which it names.
        anchor = (await linkBefore(storage, commit.firstSequence)) ?? current.anchor
      }
    }
    const truncation = { before, anchor }
    orThrow(
      await storage.write(
        [{ type: 'put', key: truncationKey, value: encodeTruncation(truncation) }],
        {
          sync: true,
        },
      )(),
    )
    return E.right(truncation)
  } catch (error) {
    return E.left(errorValueOf(error))
  }
}

/**
 * The second step: deletes every commit record wholly below the cut, with its run records, in
 * unsynced batches of at most `batchSize` commits.
 */
export const removeTruncated = async (
  storage: Storage,
  truncation: Truncation,
  options: { readonly batchSize?: number } = {},
): Promise<E.Either<DeltalogErrorValue, void>> => {
  const batchSize = options.batchSize ?? 4096
  // A check that verify runs over a layer's entries (the event store's) runs only where its
  // marker key has a run record: a cut keeps those, hidden below it like an unfinished cut's
  // leftovers, so that verify goes on checking what the cut left.
  const kept = entryChecks().map((check) => check.marker)
  try {
    for (;;) {
      const ops: BatchOp[] = []
      for await (const pair of iterate(storage, {
        gte: COMMITS,
        lt: encodeCommitKey(truncation.before),
        limit: batchSize,
      })) {
        const commit = orThrow(decodeCommit(pair.key, pair.value))
        if (commit.end > truncation.before) break
        let sequence = commit.firstSequence
        for (const run of commit.runs) {
          if (!kept.some((marker) => sameBytes(marker, run.key))) {
            ops.push({ type: 'del', key: encodeRunKey(run.key, sequence) })
          }
          sequence += run.values.length
        }
        ops.push({ type: 'del', key: pair.key })
      }
      if (ops.length === 0) return E.right(undefined)
      orThrow(await storage.write(ops, { sync: false })())
    }
  } catch (error) {
    return E.left(errorValueOf(error))
  }
}

/**
 * Cuts the log before `before`: both steps. `current` is the truncation in force; a cut at or
 * below it writes no record but still deletes what an interrupted cut left. Resolves with the
 * truncation in force afterwards.
 */
export const truncateStorage = async (
  storage: Storage,
  before: number,
  current: Truncation,
  options: { readonly batchSize?: number } = {},
): Promise<E.Either<DeltalogErrorValue, Truncation>> => {
  const marked = await markTruncation(storage, before, current)
  if (E.isLeft(marked)) return marked
  const removed = await removeTruncated(storage, marked.right, options)
  return E.isLeft(removed) ? removed : marked
}

/** The link of the commit that ends where the commit starting at `start` says its predecessor does. */
const linkBefore = async (storage: Storage, start: number): Promise<ChainLink | undefined> => {
  const previous = await first(storage, {
    gte: COMMITS,
    lt: encodeCommitKey(start),
    reverse: true,
  })
  if (previous === undefined) return undefined
  const commit = orThrow(decodeCommit(previous.key, previous.value))
  return { end: commit.end, checksum: commit.checksum.slice() }
}
