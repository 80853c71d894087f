/**
 * Logs in directories: the RocksDB store of a log, opened so that only a deltalog log is ever
 * written to. Logs from before directories were marked (deltalog 0.1) are recognised by their
 * records (`recogniseLog`, src/format/detect.ts); any other database — an empty one included —
 * is refused.
 */
import type * as TE from 'fp-ts/lib/TaskEither.js'
import type { StorageError } from '../errors.js'
import { recogniseLog } from '../format/detect.js'
import type { DisposableStorage } from './port.js'
import { openRocksStorageTE } from './rocksdb.js'

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
): TE.TaskEither<StorageError, DisposableStorage> =>
  openRocksStorageTE(path, {
    createIfMissing: options.create,
    recognise: recogniseLog,
    readOnly: options.readOnly ?? false,
    ...(options.directoryMode === undefined ? {} : { directoryMode: options.directoryMode }),
  })
