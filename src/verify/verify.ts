/**
 * Verification of a format 2 store, in ordered passes and bounded memory:
 *
 * 1. the commit records from the truncation anchor on: the chain (chain.ts), every sequence
 *    below the SeqBlock's `nextBase`, and each run's record looked up and compared
 *    (commits.ts);
 * 2. the run records: each decodes, and those at or above the anchor are exactly the ones the
 *    commits name: there are no more of them than pass 1 found (records.ts);
 * 3. the key space around the format 2 records holds at most format 1 leftovers (records.ts).
 *
 * A store that checks its files (`checkFiles`, the RocksDB tables' checksums) checks them all
 * first: a damaged file is `CORRUPTION`, and nothing else is read.
 *
 * Everything wrong is a violation in the report; `verifyStorage` rejects (and
 * `verifyStorageTE` is `left`) only when the arguments are refused, the storage fails, or the
 * caller's `signal` aborts (`ABORTED`, thrown by the walk and turned into a `left` here).
 */
import * as E from 'fp-ts/lib/Either.js'
import * as O from 'fp-ts/lib/Option.js'
import type * as TE from 'fp-ts/lib/TaskEither.js'
import type { ChainLink } from '../codec/commit.js'
import { seqBlockKey } from '../codec/records.js'
import {
  errorValueOf,
  invalidArgument,
  stopIfAborted,
  toPromise,
  type DeltalogErrorValue,
  type InvalidArgumentError,
  type StorageError,
} from '../errors.js'
import {
  decodeTruncation,
  NO_TRUNCATION,
  truncationKey,
  type Truncation,
} from '../codec/truncation.js'
import { decodeSeqBlock, nextBase } from '../sequence/seqBlock.js'
import type { Storage } from '../storage/port.js'
import { describeProblem } from './chain.js'
import { checkCommits } from './commits.js'
import { makeFindings, type Findings } from './findings.js'
import { checkOutside, checkRunRecords } from './records.js'

export { MAX_LISTED_VIOLATIONS } from './findings.js'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

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

/** How to verify. */
export interface VerifyOptions {
  /** A head taken earlier (`log.head()`): the chain must still pass through it. */
  readonly head?: { readonly sequence: number; readonly checksum: string }
  /** Told how many records were checked so far, now and then. */
  readonly onProgress?: (records: number) => void
  /** Stops the verification, which then rejects with `ABORTED`; its reads are released. */
  readonly signal?: AbortSignal
}

// -------------------------------------------------------------------------------------
// verification
// -------------------------------------------------------------------------------------

/**
 * Verifies the format 2 log in `storage`, against a head recorded earlier if one is given, and
 * resolves with the report: what is wrong with the log is in its `violations`. Rejects with a
 * `DeltalogError` when the arguments are refused (`INVALID_ARGUMENT`) or the storage fails; a
 * RocksDB store first reads every table file against its checksums, trusting no earlier check,
 * and a damaged one is `CORRUPTION`.
 */
export const verifyStorage = (
  storage: Storage,
  options: VerifyOptions = {},
): Promise<VerifyReport> => toPromise(verifyStorageTE(storage, options))

/** {@link verifyStorage} as a TaskEither: the fp-ts form, which never rejects. */
export const verifyStorageTE =
  (
    storage: Storage,
    options: VerifyOptions = {},
  ): TE.TaskEither<DeltalogErrorValue, VerifyReport> =>
  async () => {
    const refused = checkArguments(storage, options)
    if (refused !== undefined) return E.left(refused)
    try {
      return await verify(storage, options)
    } catch (error) {
      // ABORTED is thrown by the walk; the port never throws, and a Storage written by hand
      // that does is reported, not thrown.
      return E.left(errorValueOf(error))
    }
  }

/** Why the arguments are refused, or undefined when they are not. */
const checkArguments = (storage: unknown, options: unknown): InvalidArgumentError | undefined => {
  if (
    typeof storage !== 'object' ||
    storage === null ||
    !['get', 'getMany', 'iterator'].every(
      (m) => typeof (storage as Record<string, unknown>)[m] === 'function',
    )
  ) {
    return invalidArgument('storage', 'must be a Storage')
  }
  if (typeof options !== 'object' || options === null) {
    return invalidArgument('options', 'must be an object')
  }
  const { head, onProgress, signal } = options as VerifyOptions
  if (
    head !== undefined &&
    (typeof head !== 'object' ||
      head === null ||
      !Number.isSafeInteger(head.sequence) ||
      head.sequence < 0 ||
      typeof head.checksum !== 'string' ||
      !/^[0-9a-f]{64}$/.test(head.checksum))
  ) {
    return invalidArgument(
      'options.head',
      'must be { sequence, checksum } as log.head() gives it: a natural number and 64 lowercase hex digits',
    )
  }
  if (onProgress !== undefined && typeof onProgress !== 'function') {
    return invalidArgument('options.onProgress', 'must be a function')
  }
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    return invalidArgument('options.signal', 'must be an AbortSignal')
  }
  return undefined
}

/** The passes, in order. REQUIRES: the arguments passed `checkArguments`. */
const verify = async (
  storage: Storage,
  options: VerifyOptions,
): Promise<E.Either<StorageError, VerifyReport>> => {
  stopIfAborted(options.signal, 'verify')
  // Damage in a store's files is found by their checksums, before anything reads them.
  if (storage.checkFiles !== undefined) {
    const files = await storage.checkFiles(options.signal)()
    if (E.isLeft(files)) return files
    stopIfAborted(options.signal, 'verify')
  }
  const findings = makeFindings(options.onProgress, options.signal)
  const metadata = await readMetadata(storage, findings)
  if (E.isLeft(metadata)) return metadata
  const { limit, truncation } = metadata.right
  const head = options.head
  const commits = await checkCommits(
    storage,
    findings,
    truncation,
    limit,
    head === undefined
      ? undefined
      : { end: head.sequence, checksum: Buffer.from(head.checksum, 'hex') },
  )
  if (E.isLeft(commits)) return commits
  const { chain, runs, entries, found } = commits.right
  chain.problems.forEach((p) => findings.violate(describeProblem(p)))
  const keys = await checkRunRecords(storage, findings, truncation, found)
  if (E.isLeft(keys)) return keys
  const outside = await checkOutside(storage, findings)
  if (E.isLeft(outside)) return outside
  findings.done()
  return E.right({
    entries,
    keys: keys.right,
    commits: chain.commits,
    runs,
    head: chain.head,
    truncatedBefore: truncation.before,
    violationCount: findings.violationCount(),
    violations: findings.violations(),
  })
}

/**
 * The SeqBlock's `nextBase` (0 without one) and the truncation point; a record that does not
 * decode is a violation, and verification goes on as if it were absent.
 */
const readMetadata = async (
  storage: Storage,
  findings: Findings,
): Promise<E.Either<StorageError, { readonly limit: number; readonly truncation: Truncation }>> => {
  const stored = await storage.getMany([seqBlockKey, truncationKey])()
  if (E.isLeft(stored)) return stored
  const [blockBytes, truncationBytes] = stored.right
  let limit = 0
  if (blockBytes !== undefined && O.isSome(blockBytes)) {
    const block = decodeSeqBlock(blockBytes.value)
    if (E.isRight(block)) limit = nextBase(block.right)
    else findings.violate(`the SeqBlock does not decode: ${block.left.message}`)
  }
  let truncation = NO_TRUNCATION
  if (truncationBytes !== undefined && O.isSome(truncationBytes)) {
    const decoded = decodeTruncation(truncationBytes.value)
    if (E.isRight(decoded)) truncation = decoded.right
    else findings.violate(`the truncation record does not decode: ${decoded.left.message}`)
  }
  return E.right({ limit, truncation })
}
