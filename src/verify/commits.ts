/**
 * Verification's first pass: the commit records from the truncation anchor on. It folds them
 * into the chain (chain.ts), checks that every sequence is below the SeqBlock's `nextBase`, and
 * looks up each run's record, in multi-gets of bounded size, to compare it with the commit: an
 * inline run must hold the run's values, a pointer must point at the run's place in its commit.
 */
import * as E from 'fp-ts/lib/Either.js'
import * as O from 'fp-ts/lib/Option.js'
import { decodeCommit, encodeCommitKey, type ChainLink } from '../codec/commit.js'
import { prefixSuccessor } from '../codec/keys.js'
import { printable } from '../codec/printable.js'
import { FORMAT_VERSION, RecordType } from '../codec/records.js'
import { encodeRunRecord } from '../codec/run.js'
import type { Truncation } from '../codec/truncation.js'
import { sameBytes } from '../codec/bytes.js'
import type { StorageError } from '../errors.js'
import type { KeyValue, Storage } from '../storage/port.js'
import { checkCommit, finishChain, startChain, type ChainReport } from './chain.js'
import { walk, type Findings } from './findings.js'

// Run records looked up per multi-get.
const LOOKUP_BATCH = 1024

const COMMITS = Uint8Array.of(FORMAT_VERSION, RecordType.Commit)

/** What the first pass learnt. */
export interface CommitsChecked {
  readonly chain: ChainReport
  /** Runs the commits hold. */
  readonly runs: number
  /** Entries at or above the truncation point. */
  readonly entries: number
  /** Run records the commits name that exist. */
  readonly found: number
}

/** A run record a commit names, and the bytes it must hold. */
interface Lookup {
  readonly key: Uint8Array
  readonly expected: Uint8Array
  readonly what: string
}

/**
 * Walks the commits from `truncation.anchor` on; `limit` is the SeqBlock's `nextBase`, and
 * `head` a head recorded earlier, which the chain must pass through.
 */
export const checkCommits = async (
  storage: Storage,
  findings: Findings,
  truncation: Truncation,
  limit: number,
  head: ChainLink | undefined,
): Promise<E.Either<StorageError, CommitsChecked>> => {
  let chain = startChain(truncation.anchor, head)
  let runs = 0
  let entries = 0
  const lookups = makeLookups(storage, findings)
  const visit = (pair: KeyValue): Promise<E.Either<StorageError, void>> | undefined => {
    findings.progress()
    chain = checkCommit(chain, pair)
    const commit = decodeCommit(pair.key, pair.value)
    // An undecodable commit is already the chain's problem.
    if (E.isLeft(commit)) return undefined
    const c = commit.right
    entries += Math.max(0, c.end - Math.max(c.firstSequence, truncation.before))
    if (c.end > limit) {
      findings.violate(
        `the commit at ${c.firstSequence} holds sequences up to ${c.end - 1}, at or above the SeqBlock's nextBase ${limit}`,
      )
    }
    let sequence = c.firstSequence
    c.runs.forEach((run, i) => {
      const place = c.places[i] ?? { offset: 0, length: 0 }
      const record = encodeRunRecord(run, sequence, c.firstSequence, place)
      lookups.add({
        key: record.key,
        expected: record.value,
        what: `the run of key "${printable(run.key)}" at ${sequence}`,
      })
      sequence += run.values.length
      runs++
    })
    return lookups.pending() >= LOOKUP_BATCH ? lookups.flush() : undefined
  }
  const walked = await walk(
    storage,
    { gte: encodeCommitKey(truncation.anchor.end), lt: prefixSuccessor(COMMITS) },
    visit,
  )
  if (E.isLeft(walked)) return walked
  const flushed = await lookups.flush()
  if (E.isLeft(flushed)) return flushed
  return E.right({ chain: finishChain(chain), runs, entries, found: lookups.found() })
}

/** Run records to look up, gathered and then read in one multi-get. */
const makeLookups = (storage: Storage, findings: Findings) => {
  let pending: Lookup[] = []
  let found = 0
  return {
    add: (lookup: Lookup): void => {
      pending.push(lookup)
    },
    pending: (): number => pending.length,
    found: (): number => found,
    /** Reads every pending record and reports each missing or different one. */
    flush: async (): Promise<E.Either<StorageError, void>> => {
      if (pending.length === 0) return E.right(undefined)
      const lookups = pending
      pending = []
      const values = await storage.getMany(lookups.map((l) => l.key))()
      if (E.isLeft(values)) return values
      lookups.forEach((l, i) => {
        const value = values.right[i]
        if (value === undefined || O.isNone(value)) {
          findings.violate(`${l.what} has no run record`)
          return
        }
        found++
        if (!sameBytes(value.value, l.expected)) {
          findings.violate(`${l.what} has a run record that does not match it`)
        }
      })
      return E.right(undefined)
    },
  }
}
