/**
 * Which on-disk format a store holds: format 2, the one this code writes, which the format
 * record marks; format 1, deltalog 0.1's, which must be converted before a log opens it; or
 * nothing yet. The rest of deltalog asks here and never reads format 1's keys itself: with the
 * conversion (migrate.ts), this is the one way into src/format/v1/.
 */
import * as E from 'fp-ts/lib/Either.js'
import * as O from 'fp-ts/lib/Option.js'
import type * as TE from 'fp-ts/lib/TaskEither.js'
import { prefixSuccessor } from '../codec/keys.js'
import { formatKey, FORMAT_VERSION } from '../codec/records.js'
import { corruption, type DeltalogErrorValue, type StorageError } from '../errors.js'
import { decodeSeqBlock } from '../sequence/seqBlock.js'
import type { Storage } from '../storage/port.js'
import { V1_FORMAT_VERSION, V1RecordType, v1SeqBlockKey } from './v1/keys.js'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** What a store holds. */
export type StoredFormat =
  | { readonly format: 'empty' }
  | { readonly format: 1 }
  /** `leftovers`: format 1 records a conversion did not finish deleting. */
  | { readonly format: 2; readonly leftovers: boolean }

/** Every key of one format: those that start with its version byte. */
export const formatRange = (
  version: number,
): { readonly gte: Uint8Array; readonly lt: Uint8Array } => {
  const gte = Uint8Array.of(version)
  return { gte, lt: prefixSuccessor(gte) }
}

/** Whether a storage key is a format 1 key: one a conversion has not deleted yet. */
export const isFormat1Key = (key: Uint8Array): boolean => key[0] === V1_FORMAT_VERSION

const v1RecordTypes: ReadonlySet<number> = new Set(Object.values(V1RecordType))

// Whether a storage key has the two-byte header of a format 1 record.
const isV1RecordKey = (key: Uint8Array): boolean =>
  key.length >= 2 && key[0] === V1_FORMAT_VERSION && v1RecordTypes.has(key[1] ?? -1)

// -------------------------------------------------------------------------------------
// destructors
// -------------------------------------------------------------------------------------

// The first key at one end of `range` (of the whole store when omitted), if any.
const firstKey = async (
  storage: Storage,
  options: { readonly gte?: Uint8Array; readonly lt?: Uint8Array; readonly reverse?: boolean },
): Promise<E.Either<StorageError, O.Option<Uint8Array>>> => {
  const iterator = storage.iterator({ ...options, limit: 1 })
  if (E.isLeft(iterator)) return iterator
  try {
    const chunk = await iterator.right.next()()
    return E.map(
      O.chain((pairs: ReadonlyArray<{ key: Uint8Array }>) => O.fromNullable(pairs[0]?.key)),
    )(chunk)
  } finally {
    await iterator.right.close()
  }
}

/** Which format a store holds. */
export const storedFormat = async (
  storage: Storage,
): Promise<E.Either<DeltalogErrorValue, StoredFormat>> => {
  const format = await storage.get(formatKey)()
  if (E.isLeft(format)) return format
  const v1 = await firstKey(storage, formatRange(V1_FORMAT_VERSION))
  if (E.isLeft(v1)) return v1
  const leftovers = O.isSome(v1.right)
  if (O.isSome(format.right)) {
    const value = format.right.value
    if (value.length !== 1 || value[0] !== FORMAT_VERSION) {
      return E.left(corruption('the format record does not say format 2'))
    }
    return E.right({ format: 2, leftovers })
  }
  return E.right(leftovers ? { format: 1 } : { format: 'empty' })
}

/**
 * Whether a store in a directory that deltalog never marked holds a log that deltalog 0.1
 * wrote (format 1, from before directories were marked); reads only. It does when its SeqBlock
 * is there and decodes, and its first and last keys are format 1 keys of a known record type.
 * Any other database, an empty one included, is not a log.
 */
export const recogniseLog =
  (storage: Storage): TE.TaskEither<StorageError, boolean> =>
  async () => {
    const block = await storage.get(v1SeqBlockKey)()
    if (E.isLeft(block)) return block
    if (O.isNone(block.right) || E.isLeft(decodeSeqBlock(block.right.value))) return E.right(false)
    for (const reverse of [false, true]) {
      const key = await firstKey(storage, { reverse })
      if (E.isLeft(key)) return key
      if (O.isNone(key.right) || !isV1RecordKey(key.right.value)) return E.right(false)
    }
    return E.right(true)
  }
