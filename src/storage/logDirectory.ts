/**
 * Logs in directories: the RocksDB store of a log, opened so that only a deltalog log is ever
 * written to. Logs from before directories were marked (deltalog 0.1) are recognised by their
 * records (`recogniseLog`, src/format/detect.ts); any other database — an empty one included —
 * is refused. A writable open of an existing store can be checked first on a read-only view
 * (`check`): RocksDB rewrites its MANIFEST, OPTIONS and write-ahead log as it opens a database to
 * write, and an unmarked log is marked, so a refusal decided after that would have changed files.
 */
import * as E from 'fp-ts/lib/Either.js'
import type * as TE from 'fp-ts/lib/TaskEither.js'
import type { DeltalogErrorValue } from '../errors.js'
import { recogniseLog } from '../format/detect.js'
import type { DisposableStorage, Storage } from './port.js'
import { openRocksStorageTE } from './rocksdb.js'

/** How a log's directory is opened. */
export interface LogDirectoryOptions {
  /** Create a log when the directory is missing or empty. */
  readonly create: boolean
  /** The mode of a directory a new log is created in (default 0o700). */
  readonly directoryMode?: number
  /** Open an existing log to read only, without the writer's lock (see `openRocksStorage`). */
  readonly readOnly?: boolean
  /** Read every table file before the database opens (see `openRocksStorage`). */
  readonly checkEveryTable?: boolean
  /**
   * For a writable open: what refuses the store, run first on a read-only view of it when the
   * directory holds one; a refusal leaves every file as it was.
   */
  readonly check?: (view: Storage) => TE.TaskEither<DeltalogErrorValue, void>
}

/** Opens the RocksDB store of the log in directory `path`. */
export const openLogDirectory =
  (
    path: string,
    options: LogDirectoryOptions,
  ): TE.TaskEither<DeltalogErrorValue, DisposableStorage> =>
  async () => {
    const readOnly = options.readOnly ?? false
    if (!readOnly && options.check !== undefined) {
      const checked = await checkFirst(path, options.check)
      if (E.isLeft(checked)) return checked
    }
    return openRocksStorageTE(path, {
      createIfMissing: options.create,
      recognise: recogniseLog,
      readOnly,
      checkEveryTable: options.checkEveryTable ?? false,
      ...(options.directoryMode === undefined ? {} : { directoryMode: options.directoryMode }),
    })()
  }

// Runs `check` on a read-only view of the log in `path`. A directory the view refuses as
// NOT_A_LOG — missing, empty, or not a log — is left to the writable open, which creates a log
// or refuses it the same way, untouched; any other refusal is the answer.
const checkFirst = async (
  path: string,
  check: (view: Storage) => TE.TaskEither<DeltalogErrorValue, void>,
): Promise<E.Either<DeltalogErrorValue, void>> => {
  const view = await openRocksStorageTE(path, { recognise: recogniseLog, readOnly: true })()
  if (E.isLeft(view)) return view.left.code === 'NOT_A_LOG' ? E.right(undefined) : view
  const checked = await check(view.right)()
  const closed = await view.right.close()()
  return E.isLeft(checked) ? checked : closed
}
