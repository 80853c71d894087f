/**
 * Logs in directories: the RocksDB store of a log, opened so that only a deltalog log is ever
 * written to. Logs from before directories were marked (deltalog 0.1) are recognised by their
 * records: the first and last stored keys are deltalog keys of a known record type, and the
 * SeqBlock is there and decodes. Any other database — an empty one included — is refused.
 */
import * as E from 'fp-ts/lib/Either.js'
import * as O from 'fp-ts/lib/Option.js'
import type * as TE from 'fp-ts/lib/TaskEither.js'
import { FORMAT_VERSION, RecordType, seqBlockKey } from '../codec/keys.js'
import type { StorageError } from '../errors.js'
import { decodeSeqBlock } from '../sequence/seqBlock.js'
import type { Storage } from './port.js'
import { openRocksStorage } from './rocksdb.js'

const recordTypes: ReadonlySet<number> = new Set(Object.values(RecordType))

/** Whether a storage key has the two-byte header of a deltalog record. */
export const isLogKey = (key: Uint8Array): boolean =>
  key.length >= 2 && key[0] === FORMAT_VERSION && recordTypes.has(key[1] ?? -1)

// The first pair at one end of the store; keys sort by bytes, so both ends bound every key.
const end = async (
  storage: Storage,
  reverse: boolean,
): Promise<E.Either<StorageError, O.Option<Uint8Array>>> => {
  const iterator = storage.iterator({ reverse, limit: 1 })
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

/** Whether an unmarked store holds a deltalog log (see the module comment); reads only. */
export const recogniseLog =
  (storage: Storage): TE.TaskEither<StorageError, boolean> =>
  async () => {
    const block = await storage.get(seqBlockKey)()
    if (E.isLeft(block)) return block
    if (O.isNone(block.right) || E.isLeft(decodeSeqBlock(block.right.value))) return E.right(false)
    for (const reverse of [false, true]) {
      const key = await end(storage, reverse)
      if (E.isLeft(key)) return key
      if (O.isNone(key.right) || !isLogKey(key.right.value)) return E.right(false)
    }
    return E.right(true)
  }

/** How a log's directory is opened. */
export interface LogDirectoryOptions {
  /** Create a log when the directory is missing or empty. */
  readonly create: boolean
  /** The mode of a directory a new log is created in (default 0o700). */
  readonly directoryMode?: number
  /** Open an existing log to read only, without the writer's lock (see `openRocksStorage`). */
  readonly readOnly?: boolean
}

/** Opens the RocksDB store of the log in directory `path`. */
export const openLogDirectory = (
  path: string,
  options: LogDirectoryOptions,
): TE.TaskEither<StorageError, Storage> =>
  openRocksStorage(path, {
    createIfMissing: options.create,
    recognise: recogniseLog,
    readOnly: options.readOnly ?? false,
    ...(options.directoryMode === undefined ? {} : { directoryMode: options.directoryMode }),
  })
