/**
 * Conversion of a format 1 log into format 2, in place, on any Storage. Format 1 keys start with
 * 0x01 and format 2 keys with 0x02, so both can sit in one store while the conversion runs; the
 * store holds format 2 exactly when the format 2 `format` record exists. Every step leaves
 * either the whole format 1 log or the whole format 2 log:
 *
 * 1. remove what an interrupted conversion left of format 2 (nothing reads it: no `format`
 *    record yet);
 * 2. write the entries that reads of the format 1 log return — at or above its truncation
 *    point — as format 2 commits, in sequence order, a new commit at every gap, linked from
 *    `GENESIS`, in unsynced batches of bounded size;
 * 3. switch, in ONE synced batch: the SeqBlock and the truncation point under their format 2
 *    keys, and the `format` record. The sync makes every batch before it durable too (a
 *    write-ahead log is durable in prefix order), so the switch can never be there without the
 *    commits it vouches for;
 * 4. delete the format 1 records, in batches, then sync. A crash here leaves format 1 records
 *    beside a format 2 log; nothing reads them, and running the conversion again removes them.
 */
import * as E from 'fp-ts/lib/Either.js'
import * as O from 'fp-ts/lib/Option.js'
import type * as TE from 'fp-ts/lib/TaskEither.js'
import { GENESIS, type ChainLink } from '../codec/commit.js'
import { FORMAT_VERSION, formatKey, seqBlockKey } from '../codec/records.js'
import { encodeTruncation, truncationKey } from '../codec/truncation.js'
import { readU64 } from '../codec/u64.js'
import { segmentsOf, toCommitBatch, type Entry } from '../delta/delta.js'
import {
  corruption,
  errorValueOf,
  invalidArgument,
  orThrow,
  toDeltalogError,
  toPromise,
  type DeltalogErrorValue,
  type InvalidArgumentError,
} from '../errors.js'
import { openLogDirectory } from '../storage/logDirectory.js'
import type { ReadContext } from '../log/read.js'
import { decodeSeqBlock } from '../sequence/seqBlock.js'
import { iterate, type Batch, type BatchOp, type Storage } from '../storage/port.js'
import { formatRange, storedFormat } from './detect.js'
import { V1_FORMAT_VERSION, v1SeqBlockKey, v1TruncatedBeforeKey } from './v1/keys.js'
import { scanAll } from './v1/read.js'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

export interface MigrationReport {
  /** Entries converted (those reads of the format 1 log returned). */
  readonly entries: number
  /** Format 2 commits written. */
  readonly commits: number
  /** Format 1 records deleted. */
  readonly deleted: number
  /** The chain's end after the conversion. */
  readonly head: ChainLink
}

export interface MigrationOptions {
  /** Entries per unsynced batch of step 2 and deletions per batch of step 4 (default 4096). */
  readonly batchEntries?: number
  /** Value bytes per batch of step 2 (default 4 MiB). */
  readonly batchBytes?: number
}

const V1 = formatRange(V1_FORMAT_VERSION)
const V2 = formatRange(FORMAT_VERSION)

// -------------------------------------------------------------------------------------
// the conversion
// -------------------------------------------------------------------------------------

/** Deletes every key in `range`, in batches of `size`, unsynced. Returns how many. */
const deleteRange = async (storage: Storage, range: typeof V1, size: number): Promise<number> => {
  let deleted = 0
  for (;;) {
    const ops: BatchOp[] = []
    for await (const pair of iterate(storage, { ...range, limit: size })) {
      ops.push({ type: 'del', key: pair.key })
    }
    if (ops.length === 0) return deleted
    orThrow(await storage.write(ops, { sync: false })())
    deleted += ops.length
  }
}

/** The format 1 SeqBlock and truncation point, checked. */
const readV1State = async (
  storage: Storage,
): Promise<{ readonly block: O.Option<Uint8Array>; readonly truncatedBefore: number }> => {
  const [block, truncated] = orThrow(await storage.getMany([v1SeqBlockKey, v1TruncatedBeforeKey])())
  const blockBytes = block ?? O.none
  if (O.isSome(blockBytes)) orThrow(decodeSeqBlock(blockBytes.value))
  const truncatedBytes = truncated ?? O.none
  const truncatedBefore = O.isNone(truncatedBytes)
    ? 0
    : truncatedBytes.value.length === 8
      ? O.getOrElse(() => -1)(readU64(truncatedBytes.value, 0))
      : -1
  if (truncatedBefore < 0) throw toDeltalogError(corruption('bad truncation watermark'))
  return { block: blockBytes, truncatedBefore }
}

/**
 * Converts a format 1 log in `storage` to format 2 (see the module comment for the steps and
 * why a crash at any moment leaves one whole log). A store already in format 2 only has its
 * leftovers removed; an empty store is left empty.
 */
export const migrateStorage = async (
  storage: Storage,
  options: MigrationOptions = {},
): Promise<E.Either<DeltalogErrorValue, MigrationReport>> => {
  const batchEntries = options.batchEntries ?? 4096
  const batchBytes = options.batchBytes ?? 4 * 1024 * 1024
  try {
    const format = orThrow(await storedFormat(storage))
    if (format.format === 'empty') {
      return E.right({ entries: 0, commits: 0, deleted: 0, head: GENESIS })
    }
    if (format.format === 2) {
      const deleted = await deleteRange(storage, V1, batchEntries)
      orThrow(await storage.write([], { sync: true })())
      return E.right({ entries: 0, commits: 0, deleted, head: GENESIS })
    }
    // 1. What an interrupted conversion left.
    await deleteRange(storage, V2, batchEntries)
    // 2. The entries, as format 2 commits.
    const v1 = await readV1State(storage)
    const ctx: ReadContext = {
      storage,
      truncatedBefore: () => v1.truncatedBefore,
      isClosed: () => false,
    }
    let link = GENESIS
    let entries = 0
    let commits = 0
    let group: Entry[] = []
    let ops: BatchOp[] = []
    let bytes = 0
    const commitGroup = (): void => {
      if (group.length === 0) return
      const batch = toCommitBatch({ segments: segmentsOf(group), seqBlock: O.none }, link)
      ops.push(...batch.ops)
      link = batch.link
      commits++
      group = []
    }
    const flush = async (): Promise<void> => {
      commitGroup()
      if (ops.length > 0) orThrow(await storage.write(ops, { sync: false })())
      ops = []
      bytes = 0
    }
    for await (const entry of scanAll(ctx, { lower: 0, upper: undefined }, false, undefined)) {
      const last = group[group.length - 1]
      if (last !== undefined && entry.sequence !== last.sequence + 1) commitGroup()
      group.push({ key: entry.key, value: entry.value, sequence: entry.sequence })
      entries++
      bytes += entry.value.length
      if (group.length + ops.length >= batchEntries || bytes >= batchBytes) await flush()
    }
    await flush()
    // 3. The switch.
    const switchOps: Batch = [
      ...(O.isSome(v1.block)
        ? [{ type: 'put' as const, key: seqBlockKey, value: v1.block.value }]
        : []),
      ...(v1.truncatedBefore > 0
        ? [
            {
              type: 'put' as const,
              key: truncationKey,
              value: encodeTruncation({ before: v1.truncatedBefore, anchor: GENESIS }),
            },
          ]
        : []),
      { type: 'put', key: formatKey, value: Uint8Array.of(FORMAT_VERSION) },
    ]
    orThrow(await storage.write(switchOps, { sync: true })())
    // 4. The format 1 records.
    const deleted = await deleteRange(storage, V1, batchEntries)
    orThrow(await storage.write([], { sync: true })())
    return E.right({ entries, commits, deleted, head: link })
  } catch (error) {
    return E.left(errorValueOf(error))
  }
}

/** Where `migrateLog` finds the log: a directory, or a storage the caller opened. */
export type MigrationTarget = { readonly path: string } | { readonly storage: Storage }

/**
 * Converts the format 1 log at `path` (or in `storage`, which stays open) to format 2 — what
 * `deltalog migrate --db DIR` runs. Rejects with `DeltalogError`; a store already in format 2
 * only has leftovers of an earlier conversion removed.
 */
export const migrateLog = (
  target: MigrationTarget,
  options: MigrationOptions = {},
): Promise<MigrationReport> => toPromise(migrateLogTE(target, options))

/** {@link migrateLog} as a TaskEither: the fp-ts form, which never rejects. */
export const migrateLogTE =
  (
    target: MigrationTarget,
    options: MigrationOptions = {},
  ): TE.TaskEither<DeltalogErrorValue, MigrationReport> =>
  async () => {
    const refused = checkArguments(target, options)
    if (refused !== undefined) return E.left(refused)
    // Exactly one of the two is given, as checkArguments made sure.
    const { path, storage } = target as { readonly path?: string; readonly storage?: Storage }
    if (storage !== undefined) return migrateStorage(storage, options)
    const opened = await openLogDirectory(path ?? '', { create: false })()
    if (E.isLeft(opened)) return opened
    try {
      return await migrateStorage(opened.right, options)
    } finally {
      await opened.right.close()()
    }
  }

/** Why the arguments are refused, or undefined when they are not. */
const checkArguments = (target: unknown, options: unknown): InvalidArgumentError | undefined => {
  if (typeof target !== 'object' || target === null) {
    return invalidArgument('target', 'must be { path } or { storage }')
  }
  const { path, storage } = target as { path?: unknown; storage?: unknown }
  if ((path === undefined) === (storage === undefined)) {
    return invalidArgument('target', 'must be { path } or { storage }, one of the two')
  }
  if (path !== undefined && (typeof path !== 'string' || path.length === 0)) {
    return invalidArgument('target.path', 'must be a non-empty string')
  }
  if (
    storage !== undefined &&
    (typeof storage !== 'object' ||
      storage === null ||
      !['get', 'getMany', 'write', 'iterator'].every(
        (m) => typeof (storage as Record<string, unknown>)[m] === 'function',
      ))
  ) {
    return invalidArgument('target.storage', 'must be a Storage')
  }
  if (typeof options !== 'object' || options === null) {
    return invalidArgument('options', 'must be an object')
  }
  for (const field of ['batchEntries', 'batchBytes'] as const) {
    const value = (options as MigrationOptions)[field]
    if (value !== undefined && (!Number.isSafeInteger(value) || value <= 0)) {
      return invalidArgument(`options.${field}`, 'must be a positive integer')
    }
  }
  return undefined
}
