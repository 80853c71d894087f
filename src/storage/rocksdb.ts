/**
 * Opening a RocksDB store. It opens a directory only after reading what it holds (see
 * directory.ts): a new store goes only into an empty or missing directory, which it makes
 * private to its owner; an existing one must carry deltalog's mark, or be recognised as a log
 * written before marks existed; anything else is refused before a file is touched, and so is a
 * database with a damaged table file (rocksdbTables.ts; a writer's open that succeeded records
 * which tables passed, rocksdbTableRecord.ts, so that the next open reads only new ones). The adapter
 * on the open database is rocksdbStore.ts; its iterations, rocksdbIterator.ts; how native
 * errors read, rocksdbErrors.ts.
 */
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import * as E from 'fp-ts/lib/Either.js'
import type * as TE from 'fp-ts/lib/TaskEither.js'
import {
  corruption,
  invalidArgument,
  ioError,
  notALog,
  toPromise,
  type InvalidArgumentError,
  type StorageError,
} from '../errors.js'
import { BINDING_PACKAGE, loadBinding, type NativeHandle, type RocksBinding } from './binding.js'
import {
  claim,
  inspect,
  type DirectoryState,
  type Release,
  MARKER_FILE,
  PRIVATE_MODE,
  prepareDirectory,
  writeMarker,
} from './directory.js'
import type { DisposableStorage, Storage } from './port.js'
import { asError, call, fromNative } from './rocksdbErrors.js'
import { makeRocksStore } from './rocksdbStore.js'
import { writeTableRecord, type TableRecord } from './rocksdbTableRecord.js'
import { checkTables, writtenSince, type CheckedTables } from './rocksdbTables.js'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** Options for opening a RocksDB store. */
export interface RocksStorageOptions {
  /** Create a store when the directory is missing or empty (default true). */
  readonly createIfMissing?: boolean
  /**
   * The mode of a directory this call creates a store in (default 0o700: its owner's alone),
   * applied whatever the umask. An existing store's directory keeps the mode it has.
   */
  readonly directoryMode?: number
  /**
   * Tells whether a RocksDB database without deltalog's mark is one of yours, given a read-only
   * view of it; a recognised one is marked and opened, any other is `NOT_A_LOG`. Without it,
   * every unmarked database is refused.
   */
  readonly recognise?: (view: Storage) => TE.TaskEither<StorageError, boolean>
  /**
   * Open an existing store to read only, without the writer's lock (default false): any number
   * of read-only opens, in this process or others, go with one writer. It sees the store as it
   * was when it opened (RocksDB's read-only open reads the write-ahead log once); writes are
   * `READ_ONLY`. Nothing in the directory is created or changed, a mark included.
   */
  readonly readOnly?: boolean
  /**
   * Read and check every table file before the database opens (default false): what `verify`
   * does, since a table that rots on the disk keeps the identity the directory's record lists
   * it with. By default an open reads only the tables that are new or changed since they last
   * passed.
   */
  readonly checkEveryTable?: boolean
}

// -------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------

/**
 * Opens the RocksDB store in directory `path`, which `await using` closes. A missing or empty
 * directory gets a new store (unless `createIfMissing` is false); a directory that holds
 * anything else than a deltalog store is refused with `NOT_A_LOG` or `CORRUPTION`, untouched.
 * A second open of the same directory while this one is open — in this process under any
 * spelling of the path, or in another process — fails with `LOCKED`. Rejects with a
 * `DeltalogError`.
 */
export const openRocksStorage = (
  path: string,
  options: RocksStorageOptions = {},
): Promise<DisposableStorage> => toPromise(openRocksStorageTE(path, options))

/** {@link openRocksStorage} as a TaskEither: the fp-ts form, which never rejects. */
export const openRocksStorageTE = (
  path: string,
  options: RocksStorageOptions = {},
): TE.TaskEither<StorageError, DisposableStorage> =>
  openRocksStorageWith(loadBinding, path, options)

/**
 * `openRocksStorageTE` on the binding `load` returns: how the adapter is built on the addon,
 * and how tests stand in for it.
 */
export const openRocksStorageWith =
  (
    load: () => RocksBinding,
    path: string,
    options: RocksStorageOptions = {},
  ): TE.TaskEither<StorageError, DisposableStorage> =>
  async () => {
    const refused = checkArguments(path, options)
    if (refused !== undefined) return E.left(refused)
    let binding: RocksBinding
    try {
      binding = load()
    } catch (error) {
      return E.left(
        ioError(
          `cannot load the RocksDB binding (${BINDING_PACKAGE}) for ${process.platform}-${process.arch}: ${asError(error).message}`,
          error,
        ),
      )
    }
    const before = await inspect(path)
    if (E.isLeft(before)) return before
    if (options.readOnly === true) return openReadOnly(binding, path, before.right.kind, options)
    return openWriter(binding, path, before.right.kind, options)
  }

/** Why `path` and `options` are refused, or undefined when they are not. */
const checkArguments = (path: unknown, options: unknown): InvalidArgumentError | undefined => {
  if (typeof path !== 'string' || path.length === 0) {
    return invalidArgument('path', 'must be a non-empty string')
  }
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    return invalidArgument('options', 'must be an object')
  }
  const mode = (options as RocksStorageOptions).directoryMode ?? PRIVATE_MODE
  if (!Number.isInteger(mode) || mode < 0 || mode > 0o777) {
    return invalidArgument('directoryMode', 'must be a file mode from 0 to 0o777')
  }
  return undefined
}

/**
 * Opens the store to write: creates it if asked, claims the directory for this process, and
 * opens what the directory holds under the claim.
 * REQUIRES: the arguments passed `checkArguments`; `kind` is what `path` held just before.
 */
const openWriter = async (
  binding: RocksBinding,
  path: string,
  kind: DirectoryState['kind'],
  options: RocksStorageOptions,
): Promise<E.Either<StorageError, DisposableStorage>> => {
  const mode = options.directoryMode ?? PRIVATE_MODE
  const create = options.createIfMissing ?? true
  const every = options.checkEveryTable ?? false
  if (kind === 'missing') {
    if (!create) return E.left(notALog(`${path} does not exist`))
    const made = await prepareDirectory(path, mode)
    if (E.isLeft(made)) return made
  }
  const claimed = await claim(path)
  if (E.isLeft(claimed)) return claimed
  const release = claimed.right
  // Looked at again under the claim: another open in this process may have come first.
  const state = await inspect(path)
  const opened = E.isLeft(state)
    ? state
    : state.right.kind === 'marked'
      ? await openNative(binding, path, { create: false, release, every })
      : state.right.kind === 'unmarked'
        ? await adopt(binding, path, options, release)
        : !create
          ? E.left(notALog(`${path} holds no deltalog log`))
          : await createStore(binding, path, mode, release)
  if (E.isLeft(opened)) release()
  return opened
}

/** Opens an existing store to read only: no claim, no mark, no file created or changed. */
const openReadOnly = async (
  binding: RocksBinding,
  path: string,
  kind: DirectoryState['kind'],
  options: RocksStorageOptions,
): Promise<E.Either<StorageError, DisposableStorage>> => {
  const every = options.checkEveryTable ?? false
  if (kind === 'marked') return openNative(binding, path, { create: false, readOnly: true, every })
  if (kind === 'missing') return E.left(notALog(`${path} does not exist`))
  if (kind !== 'unmarked') return E.left(notALog(`${path} holds no deltalog log`))
  const refused = notALog(
    `${path} holds a RocksDB database that is not a deltalog log (it has no ${MARKER_FILE} mark and no deltalog records)`,
  )
  if (options.recognise === undefined) return E.left(refused)
  const view = await openNative(binding, path, { create: false, readOnly: true, every })
  if (E.isLeft(view)) return view
  const recognised = await options.recognise(view.right)()
  if (E.isRight(recognised) && recognised.right) return view
  await view.right.close()()
  return E.isLeft(recognised) ? recognised : E.left(refused)
}

/**
 * Makes a new store: the directory private, the mark, then the database.
 * REQUIRES: this process holds the claim on `path` (`release` frees it), which it found empty.
 */
const createStore = async (
  binding: RocksBinding,
  path: string,
  mode: number,
  release: Release,
): Promise<E.Either<StorageError, DisposableStorage>> => {
  const prepared = await prepareDirectory(path, mode)
  if (E.isLeft(prepared)) return prepared
  const marked = await writeMarker(path)
  if (E.isLeft(marked)) return marked
  return openNative(binding, path, { create: true, release })
}

/**
 * Opens an unmarked database only if `recognise` says it is a log, and marks it.
 * REQUIRES: this process holds the claim on `path` (`release` frees it).
 */
const adopt = async (
  binding: RocksBinding,
  path: string,
  options: RocksStorageOptions,
  release: Release,
): Promise<E.Either<StorageError, DisposableStorage>> => {
  const refused = notALog(
    `${path} holds a RocksDB database that is not a deltalog log (it has no ${MARKER_FILE} mark and no deltalog records); nothing was changed`,
  )
  if (options.recognise === undefined) return E.left(refused)
  const every = options.checkEveryTable ?? false
  const view = await openNative(binding, path, { create: false, readOnly: true, every })
  if (E.isLeft(view)) return view
  const recognised = await options.recognise(view.right)()
  const closedView = await view.right.close()()
  if (E.isLeft(recognised)) return recognised
  if (E.isLeft(closedView)) return closedView
  if (!recognised.right) return E.left(refused)
  const opened = await openNative(binding, path, { create: false, release })
  if (E.isLeft(opened)) return opened
  const marked = await writeMarker(path)
  if (E.isLeft(marked)) {
    await opened.right.close()()
    return marked
  }
  return opened
}

/** How `openNative` opens a database. */
interface NativeOpen {
  /** Create the database (in an empty directory: it has no tables to check). */
  readonly create: boolean
  readonly readOnly?: boolean
  /** Read every table, trusting no earlier check. */
  readonly every?: boolean
  /** Called when the adapter closes (frees the claim). */
  readonly release?: Release
}

/**
 * Opens the database in `path` through the addon, and the adapter on it; its tables are checked
 * first, and a writer's open that succeeded records which passed.
 * REQUIRES: `path` was inspected, and is claimed unless `how.readOnly`.
 */
const openNative = async (
  binding: RocksBinding,
  path: string,
  how: NativeOpen,
): Promise<E.Either<StorageError, DisposableStorage>> => {
  const readOnlyOpen = how.readOnly ?? false
  // RocksDB reads table properties as it opens, and data blocks later, without checksums.
  const tables: E.Either<StorageError, CheckedTables | undefined> = how.create
    ? E.right(undefined)
    : await checkTables(path, how.every === true ? new Map() : 'recorded')
  if (E.isLeft(tables)) return tables
  let db: NativeHandle
  try {
    db = binding.db_init()
  } catch (error) {
    return E.left(fromNative(`open ${path}`, asError(error)))
  }
  const opened = await call(`open ${path}`, (cb) =>
    binding.db_open(
      db,
      path,
      { createIfMissing: how.create, errorIfExists: false, readOnly: readOnlyOpen },
      cb,
    ),
  )
  if (E.isLeft(opened)) return E.left(missingOwnFile(path, opened.left))
  // Only now, with the open a success: a refused open changes no file. A record that cannot be
  // written costs the next open a check of these tables, no more.
  const checked = tables.right
  if (!readOnlyOpen && checked !== undefined && checked.stale) {
    await writeTableRecord(path, checked.tables)
  }
  const atOpen = checked?.tables ?? new Map<string, string>()
  return E.right(
    makeRocksStore(binding, db, path, how.release ?? (() => undefined), readOnlyOpen, {
      checkFiles: checkFilesOf(path, how.every === true ? checked : undefined),
      ...(readOnlyOpen ? {} : { closed: () => recordWritten(path, atOpen) }),
    }),
  )
}

// A writer's close records the tables RocksDB wrote while it was open, so that the next open,
// in any process, reads none of them: a restart after a day of writes costs no day of reading.
const recordWritten = async (path: string, atOpen: TableRecord): Promise<void> => {
  const record = await writtenSince(path, atOpen)
  const same =
    record !== undefined &&
    record.size === atOpen.size &&
    [...record].every(([name, identity]) => atOpen.get(name) === identity)
  if (record !== undefined && !same) await writeTableRecord(path, record)
}

// RocksDB says NotFound when a database misses a file of its own: a MANIFEST that CURRENT names
// (CURRENT damaged, or the MANIFEST lost), a table the MANIFEST lists. Damage, not a missing log.
const missingOwnFile = (path: string, error: StorageError): StorageError =>
  error.code === 'IO_ERROR' &&
  / NotFound: /.test(error.message) &&
  existsSync(join(path, 'CURRENT'))
    ? {
        ...corruption(
          `${error.message}: the database misses a file of its own, or its CURRENT file is damaged; nothing was changed — restore it from a backup`,
        ),
        cause: error.cause,
      }
    : error

// The adapter's `checkFiles`: reads every table, except, the first time, those an open that
// checked every table has just read.
const checkFilesOf = (
  path: string,
  readAtOpen: CheckedTables | undefined,
): ((signal?: AbortSignal) => Promise<E.Either<StorageError, void>>) => {
  let fresh = readAtOpen?.tables
  return async (signal) => {
    const justRead = fresh
    fresh = undefined
    const checked = await checkTables(path, justRead ?? new Map(), signal)
    return E.map(() => undefined)(checked)
  }
}
