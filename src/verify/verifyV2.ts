/**
 * Verification of a format 2 store, in two ordered passes and bounded memory:
 *
 * 1. the commit records from the truncation anchor on: the chain (src/verify/chain.ts), every
 *    sequence below the SeqBlock's `nextBase`, and each run's record looked up (in multi-gets of
 *    bounded size) and compared — an inline run must hold the run's values, a pointer must point
 *    at the run's place in its commit;
 * 2. the run records: each decodes, and those at or above the anchor are exactly the ones the
 *    commits name: there are no more of them than pass 1 found.
 *
 * Everything wrong is a violation in the report; the result is `left` only when the storage
 * fails.
 */
import * as E from 'fp-ts/lib/Either.js'
import * as O from 'fp-ts/lib/Option.js'
import {
  decodeCommit,
  decodeRunRecord,
  encodeCommitKey,
  encodeRunRecord,
  FORMAT_V2,
  RecordTypeV2,
  seqBlockKeyV2,
  type ChainLink,
} from '../codec/commit.js'
import { prefixSuccessor } from '../codec/keys.js'
import { printable } from '../codec/printable.js'
import type { StorageError } from '../errors.js'
import { decodeTruncation, NO_TRUNCATION, truncationKeyV2 } from '../log/truncateV2.js'
import { decodeSeqBlock, nextBase } from '../sequence/seqBlock.js'
import type { KeyValue, Storage } from '../storage/port.js'
import { checkCommit, describeProblem, finishChain, startChain } from './chain.js'
import { MAX_LISTED_VIOLATIONS } from './check.js'

export interface VerifyReportV2 {
  /** Entries in the commits from the anchor on (those below the cut included). */
  readonly entries: number
  readonly commits: number
  readonly runs: number
  /** The chain's end. */
  readonly head: ChainLink
  readonly truncatedBefore: number
  readonly violationCount: number
  readonly violations: ReadonlyArray<string>
}

// Run records looked up per multi-get.
const LOOKUP_BATCH = 1024

const COMMITS = Uint8Array.of(FORMAT_V2, RecordTypeV2.Commit)
const RUNS = Uint8Array.of(FORMAT_V2, RecordTypeV2.Run)

const sameBytes = (a: Uint8Array, b: Uint8Array): boolean =>
  a.length === b.length && a.every((x, i) => x === b[i])

/** Every pair of a range, chunk by chunk, through `visit`; `left` if the storage fails. */
const walk = async (
  storage: Storage,
  gte: Uint8Array,
  lt: Uint8Array,
  visit: (pair: KeyValue) => Promise<E.Either<StorageError, void>> | void,
): Promise<E.Either<StorageError, void>> => {
  const iterator = storage.iterator({ gte, lt })
  if (E.isLeft(iterator)) return iterator
  try {
    for (;;) {
      const chunk = await iterator.right.next()()
      if (E.isLeft(chunk)) return chunk
      if (O.isNone(chunk.right)) return E.right(undefined)
      for (const pair of chunk.right.value) {
        const done = await visit(pair)
        if (done !== undefined && E.isLeft(done)) return done
      }
    }
  } finally {
    await iterator.right.close()
  }
}

/** Verifies a format 2 store, against a head recorded earlier if one is given. */
export const verifyStorageV2 = async (
  storage: Storage,
  options: { readonly head?: ChainLink } = {},
): Promise<E.Either<StorageError, VerifyReportV2>> => {
  let violationCount = 0
  const violations: string[] = []
  const violate = (message: string): void => {
    violationCount++
    if (violations.length < MAX_LISTED_VIOLATIONS) violations.push(message)
  }

  const stored = await storage.getMany([seqBlockKeyV2, truncationKeyV2])()
  if (E.isLeft(stored)) return stored
  const [blockBytes, truncationBytes] = stored.right
  let limit = 0
  if (blockBytes !== undefined && O.isSome(blockBytes)) {
    const block = decodeSeqBlock(blockBytes.value)
    if (E.isRight(block)) limit = nextBase(block.right)
    else violate(`the SeqBlock does not decode: ${block.left.message}`)
  }
  let truncation = NO_TRUNCATION
  if (truncationBytes !== undefined && O.isSome(truncationBytes)) {
    const decoded = decodeTruncation(truncationBytes.value)
    if (E.isRight(decoded)) truncation = decoded.right
    else violate(`the truncation record does not decode: ${decoded.left.message}`)
  }

  // 1. The commits, the chain, and each run's record.
  let chain = startChain(truncation.anchor, options.head)
  let runs = 0
  // Run records the commits name that exist.
  let found = 0
  let pending: Array<{
    readonly key: Uint8Array
    readonly expected: Uint8Array
    readonly what: string
  }> = []
  const resolve = async (): Promise<E.Either<StorageError, void>> => {
    if (pending.length === 0) return E.right(undefined)
    const lookups = pending
    pending = []
    const values = await storage.getMany(lookups.map((l) => l.key))()
    if (E.isLeft(values)) return values
    lookups.forEach((l, i) => {
      const value = values.right[i]
      if (value === undefined || O.isNone(value)) {
        violate(`${l.what} has no run record`)
        return
      }
      found++
      if (!sameBytes(value.value, l.expected))
        violate(`${l.what} has a run record that does not match it`)
    })
    return E.right(undefined)
  }
  const commitsDone = await walk(
    storage,
    encodeCommitKey(truncation.anchor.end),
    prefixSuccessor(COMMITS),
    (pair) => {
      chain = checkCommit(chain, pair)
      const commit = decodeCommit(pair.key, pair.value)
      // An undecodable commit is already the chain's problem.
      if (E.isLeft(commit)) return undefined
      const c = commit.right
      if (c.end > limit) {
        violate(
          `the commit at ${c.firstSequence} holds sequences up to ${c.end - 1}, at or above the SeqBlock's nextBase ${limit}`,
        )
      }
      let sequence = c.firstSequence
      c.runs.forEach((run, i) => {
        const place = c.places[i] ?? { offset: 0, length: 0 }
        const record = encodeRunRecord(run, sequence, c.firstSequence, place)
        pending.push({
          key: record.key,
          expected: record.value,
          what: `the run of key "${printable(run.key)}" at ${sequence}`,
        })
        sequence += run.values.length
        runs++
      })
      return pending.length >= LOOKUP_BATCH ? resolve() : undefined
    },
  )
  if (E.isLeft(commitsDone)) return commitsDone
  const resolved = await resolve()
  if (E.isLeft(resolved)) return resolved
  const chainReport = finishChain(chain)
  chainReport.problems.forEach((p) => violate(describeProblem(p)))

  // 2. The run records.
  let runRecords = 0
  const runsDone = await walk(storage, RUNS, prefixSuccessor(RUNS), (pair) => {
    const run = decodeRunRecord(pair.key, pair.value)
    if (E.isLeft(run)) {
      violate(`a run record does not decode: ${run.left.message}`)
      return undefined
    }
    if (run.right.firstSequence >= truncation.anchor.end) runRecords++
    return undefined
  })
  if (E.isLeft(runsDone)) return runsDone
  // Every record the commits name was found or reported missing; any more belong to none.
  if (runRecords > found) violate(`${runRecords - found} run records belong to no commit`)

  return E.right({
    entries: chainReport.entries,
    commits: chainReport.commits,
    runs,
    head: chainReport.head,
    truncatedBefore: truncation.before,
    violationCount,
    violations,
  })
}
