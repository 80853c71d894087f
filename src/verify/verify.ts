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
import { decodeCommit, encodeCommitKey, valuesInCommit, type ChainLink } from '../codec/commit.js'
import { decodeRunRecord, encodeRunRecord, runRange, type RunRecord } from '../codec/run.js'
import { FORMAT_VERSION, RecordType, seqBlockKey } from '../codec/records.js'
import { prefixSuccessor } from '../codec/keys.js'
import { isFormat1Key } from '../format/detect.js'
import { printable } from '../codec/printable.js'
import { invalidArgument, type StorageError } from '../errors.js'
import { decodeTruncation, NO_TRUNCATION, truncationKey } from '../codec/truncation.js'
import { decodeSeqBlock, nextBase } from '../sequence/seqBlock.js'
import type { KeyValue, Storage } from '../storage/port.js'
import { checkCommit, describeProblem, finishChain, startChain } from './chain.js'
import { entryChecks, type EntryCheck } from './checks.js'
import { sameBytes } from '../codec/bytes.js'

export interface VerifyReport {
  /** Entries at or above the truncation point. */
  readonly entries: number
  /** Distinct keys with run records. */
  readonly keys: number
  readonly commits: number
  readonly runs: number
  /** The chain's end. */
  readonly head: ChainLink
  readonly truncatedBefore: number
  readonly violationCount: number
  readonly violations: ReadonlyArray<string>
}

/** Violations listed in a report; the rest are only counted. */
export const MAX_LISTED_VIOLATIONS = 50

// Run records looked up per multi-get.
const LOOKUP_BATCH = 1024

const COMMITS = Uint8Array.of(FORMAT_VERSION, RecordType.Commit)

// The key ranges around the format 2 records: below them, and above the metadata records.
const OUTSIDE: ReadonlyArray<{ readonly gte?: Uint8Array; readonly lt?: Uint8Array }> = [
  { lt: Uint8Array.of(FORMAT_VERSION, RecordType.SeqBlock) },
  {
    gte: Uint8Array.of(FORMAT_VERSION, RecordType.SeqBlock, 0),
    lt: Uint8Array.of(FORMAT_VERSION, RecordType.Run),
  },
  { gte: Uint8Array.of(FORMAT_VERSION, RecordType.Meta + 1) },
]
const RUNS = Uint8Array.of(FORMAT_VERSION, RecordType.Run)

/** Every pair of a range, chunk by chunk, through `visit`; `left` if the storage fails. */
const walk = async (
  storage: Storage,
  range: { readonly gte?: Uint8Array; readonly lt?: Uint8Array },
  visit: (pair: KeyValue) => Promise<E.Either<StorageError, void>> | void,
): Promise<E.Either<StorageError, void>> => {
  const iterator = storage.iterator(range)
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
export const verifyStorage = async (
  storage: Storage,
  options: {
    /** A head taken earlier (`log.head()`): the chain must still pass through it. */
    readonly head?: { readonly sequence: number; readonly checksum: string }
    /** Told how many records were checked so far, now and then. */
    readonly onProgress?: (records: number) => void
  } = {},
): Promise<E.Either<StorageError, VerifyReport>> => {
  const head = options.head
  if (
    head !== undefined &&
    (!Number.isSafeInteger(head.sequence) ||
      head.sequence < 0 ||
      typeof head.checksum !== 'string' ||
      !/^[0-9a-f]{64}$/.test(head.checksum))
  ) {
    return E.left(
      invalidArgument(
        'options.head',
        'must be { sequence, checksum } as log.head() gives it: a natural number and 64 lowercase hex digits',
      ),
    )
  }
  let checked = 0
  const progress = (): void => {
    checked++
    if (checked % 1024 === 0) options.onProgress?.(checked)
  }
  let violationCount = 0
  const violations: string[] = []
  const violate = (message: string): void => {
    violationCount++
    if (violations.length < MAX_LISTED_VIOLATIONS) violations.push(message)
  }

  const stored = await storage.getMany([seqBlockKey, truncationKey])()
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
  let chain = startChain(
    truncation.anchor,
    head === undefined
      ? undefined
      : { end: head.sequence, checksum: Buffer.from(head.checksum, 'hex') },
  )
  let runs = 0
  let entries = 0
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
    { gte: encodeCommitKey(truncation.anchor.end), lt: prefixSuccessor(COMMITS) },
    (pair) => {
      progress()
      chain = checkCommit(chain, pair)
      const commit = decodeCommit(pair.key, pair.value)
      // An undecodable commit is already the chain's problem.
      if (E.isLeft(commit)) return undefined
      const c = commit.right
      entries += Math.max(0, c.end - Math.max(c.firstSequence, truncation.before))
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

  // 2. The run records, in key order: their number, the keys, and the entries that a check
  // registered by a layer above (src/verify/checks.ts: the event store's) looks at.
  const checks = await activeChecks(storage)
  if (E.isLeft(checks)) return checks
  let runRecords = 0
  let keys = 0
  let lastKey: Uint8Array | undefined
  let checkEntry: ((value: Uint8Array) => string | undefined) | undefined
  const runsDone = await walk(storage, { gte: RUNS, lt: prefixSuccessor(RUNS) }, async (pair) => {
    progress()
    const decoded = decodeRunRecord(pair.key, pair.value)
    if (E.isLeft(decoded)) {
      violate(`a run record does not decode: ${decoded.left.message}`)
      return E.right(undefined)
    }
    const run = decoded.right
    if (run.firstSequence >= truncation.anchor.end) runRecords++
    const sameKey = lastKey !== undefined && sameBytes(lastKey, run.key)
    if (!sameKey) {
      keys++
      lastKey = run.key
      checkEntry = checks.right
        .find((c) => startsWith(run.key, c.prefix))
        ?.forKey(truncation.before)
    }
    if (checkEntry === undefined) return E.right(undefined)
    const check = checkEntry
    const values = await runValues(storage, run)
    if (E.isLeft(values)) return values
    values.right.forEach((value, i) => {
      const sequence = run.firstSequence + i
      if (sequence < truncation.before) return
      const problem = check(value)
      if (problem !== undefined) {
        violate(`entry ${sequence} of key "${printable(run.key)}" ${problem}`)
      }
    })
    return E.right(undefined)
  })
  if (E.isLeft(runsDone)) return runsDone
  // Every record the commits name was found or reported missing; any more belong to none.
  if (runRecords > found) violate(`${runRecords - found} run records belong to no commit`)

  // 3. Nothing else: the key space outside the format 2 records holds at most the format 1
  // records an unfinished conversion left behind.
  let leftovers = 0
  for (const range of OUTSIDE) {
    const done = await walk(storage, range, (pair) => {
      progress()
      if (isFormat1Key(pair.key)) leftovers++
      else violate(`key ${Buffer.from(pair.key).toString('hex')} is no record deltalog writes`)
    })
    if (E.isLeft(done)) return done
  }
  if (leftovers > 0) {
    violate(
      `${leftovers} format 1 records are left from an unfinished conversion: run deltalog migrate again`,
    )
  }

  options.onProgress?.(checked)
  return E.right({
    entries,
    keys,
    commits: chainReport.commits,
    runs,
    head: chainReport.head,
    truncatedBefore: truncation.before,
    violationCount,
    violations,
  })
}

/** The registered checks whose marker the store holds. */
const activeChecks = async (
  storage: Storage,
): Promise<E.Either<StorageError, ReadonlyArray<EntryCheck>>> => {
  const active: EntryCheck[] = []
  for (const check of entryChecks()) {
    const present = await hasKey(storage, check.marker)
    if (E.isLeft(present)) return present
    if (present.right) active.push(check)
  }
  return E.right(active)
}

const startsWith = (bytes: Uint8Array, prefix: Uint8Array): boolean =>
  bytes.length >= prefix.length && prefix.every((b, i) => bytes[i] === b)

/** Whether `key` has a run record. */
const hasKey = async (
  storage: Storage,
  key: Uint8Array,
): Promise<E.Either<StorageError, boolean>> => {
  const range = runRange(key)
  const iterator = storage.iterator({ ...range, limit: 1 })
  if (E.isLeft(iterator)) return iterator
  try {
    const chunk = await iterator.right.next()()
    return E.map(
      (found: O.Option<ReadonlyArray<KeyValue>>) => O.isSome(found) && found.value.length > 0,
    )(chunk)
  } finally {
    await iterator.right.close()
  }
}

/** A run's values: from its record, or from its commit record. */
const runValues = async (
  storage: Storage,
  run: RunRecord,
): Promise<E.Either<StorageError, ReadonlyArray<Uint8Array>>> => {
  if (run.form === 'inline') return E.right(run.values)
  const stored = await storage.get(encodeCommitKey(run.commitFirstSequence))()
  if (E.isLeft(stored)) return stored
  if (O.isNone(stored.right)) return E.right([])
  const values = valuesInCommit(stored.right.value, run.place, run.count)
  return E.right(E.isRight(values) ? values.right : [])
}
