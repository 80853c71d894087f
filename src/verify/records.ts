/**
 * Verification's second and third passes. The second reads the run records in key order: each
 * must decode, those at or above the anchor must be no more than the commits name, and the
 * entries of keys that a check registered by a layer above (checks.ts: the event store's) looks
 * at must pass it. The third reads the key space around the format 2 records, which may hold
 * at most what an unfinished conversion from format 1 left behind.
 */
import * as E from 'fp-ts/lib/Either.js'
import * as O from 'fp-ts/lib/Option.js'
import { sameBytes } from '../codec/bytes.js'
import { encodeCommitKey, valuesInCommit } from '../codec/commit.js'
import { prefixSuccessor } from '../codec/keys.js'
import { printable } from '../codec/printable.js'
import { FORMAT_VERSION, RecordType } from '../codec/records.js'
import { decodeRunRecord, runRange, type RunRecord } from '../codec/run.js'
import type { Truncation } from '../codec/truncation.js'
import type { StorageError } from '../errors.js'
import { isFormat1Key } from '../format/detect.js'
import type { KeyValue, Storage } from '../storage/port.js'
import { entryChecks, type EntryCheck, type EntryChecker } from './checks.js'
import { walk, type Findings, type Range } from './findings.js'

const RUNS = Uint8Array.of(FORMAT_VERSION, RecordType.Run)

// The key ranges around the format 2 records: below them, and above the metadata records.
const OUTSIDE: ReadonlyArray<Range> = [
  { lt: Uint8Array.of(FORMAT_VERSION, RecordType.SeqBlock) },
  {
    gte: Uint8Array.of(FORMAT_VERSION, RecordType.SeqBlock, 0),
    lt: Uint8Array.of(FORMAT_VERSION, RecordType.Run),
  },
  { gte: Uint8Array.of(FORMAT_VERSION, RecordType.Meta + 1) },
]

/**
 * The second pass. `found` is how many run records the first pass found named by a commit;
 * resolves with the number of distinct keys.
 */
export const checkRunRecords = async (
  storage: Storage,
  findings: Findings,
  truncation: Truncation,
  found: number,
): Promise<E.Either<StorageError, number>> => {
  const checks = await activeChecks(storage)
  if (E.isLeft(checks)) return checks
  let runRecords = 0
  let keys = 0
  let lastKey: Uint8Array | undefined
  const runs = checks.right.map((c) => c.start(truncation.before))
  let checkers: ReadonlyArray<EntryChecker> = []
  const visit = async (pair: KeyValue): Promise<E.Either<StorageError, void>> => {
    findings.progress()
    const decoded = decodeRunRecord(pair.key, pair.value)
    if (E.isLeft(decoded)) {
      findings.violate(`a run record does not decode: ${decoded.left.message}`)
      return E.right(undefined)
    }
    const run = decoded.right
    if (run.firstSequence >= truncation.anchor.end) runRecords++
    if (lastKey === undefined || !sameBytes(lastKey, run.key)) {
      keys++
      lastKey = run.key
      checkers = runs.flatMap((r) => r.forKey(run.key) ?? [])
    }
    return checkers.length === 0
      ? E.right(undefined)
      : checkEntries(storage, findings, truncation, run, checkers)
  }
  const walked = await walk(storage, { gte: RUNS, lt: prefixSuccessor(RUNS) }, visit)
  if (E.isLeft(walked)) return walked
  for (const problem of runs.flatMap((r) => r.end())) findings.violate(problem)
  // Every record the commits name was found or reported missing; any more belong to none.
  if (runRecords > found) findings.violate(`${runRecords - found} run records belong to no commit`)
  return E.right(keys)
}

/** Runs the registered checks of its key over the entries of one run, from the truncation point on. */
const checkEntries = async (
  storage: Storage,
  findings: Findings,
  truncation: Truncation,
  run: RunRecord,
  checkers: ReadonlyArray<EntryChecker>,
): Promise<E.Either<StorageError, void>> => {
  const values = await runValues(storage, run)
  if (E.isLeft(values)) return values
  values.right.forEach((value, i) => {
    const sequence = run.firstSequence + i
    if (sequence < truncation.before) return
    for (const check of checkers) {
      const problem = check(value, sequence)
      if (problem !== undefined) {
        findings.violate(`entry ${sequence} of key "${printable(run.key)}" ${problem}`)
      }
    }
  })
  return E.right(undefined)
}

/** The third pass: nothing outside the format 2 records but format 1 leftovers. */
export const checkOutside = async (
  storage: Storage,
  findings: Findings,
): Promise<E.Either<StorageError, void>> => {
  let leftovers = 0
  for (const range of OUTSIDE) {
    const done = await walk(storage, range, (pair) => {
      findings.progress()
      if (isFormat1Key(pair.key)) leftovers++
      else {
        findings.violate(
          `key ${Buffer.from(pair.key).toString('hex')} is no record deltalog writes`,
        )
      }
    })
    if (E.isLeft(done)) return done
  }
  if (leftovers > 0) {
    findings.violate(
      `${leftovers} format 1 records are left from an unfinished conversion: run deltalog migrate again`,
    )
  }
  return E.right(undefined)
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
