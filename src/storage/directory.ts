/**
 * What a log directory holds, decided before anything in it is touched. RocksDB itself would
 * create a database in any directory it is pointed at, replace one whose `CURRENT` file is
 * missing (deleting its tables), and write into a database that belongs to another program; so
 * the RocksDB adapter first reads the directory listing, classifies it here, and opens the
 * database only when the directory is empty, missing, or marked as deltalog's.
 *
 * The mark is a small file, `DELTALOG`, written before the database is created. Its one codec is
 * `markerCodec` (JSON with a `format` field). Logs written before the mark existed (deltalog
 * 0.1) are recognised by their records and marked on their first writable open. Beside it,
 * deltalog keeps the record of checked tables (`DELTALOG-TABLES`, rocksdbTableRecord.ts) and
 * writes both through temporary files: these are deltalog's own files, never another program's,
 * and alone in a directory they hold nothing to lose.
 *
 * The registry of open directories lives here too: RocksDB's own lock tells processes apart,
 * but two spellings of one directory in one process (`dir` and `dir/`, a symlink, a relative
 * path) must also find each other, so every open claims the directory's real path first.
 */
import { constants } from 'node:fs'
import { chmod, mkdir, open, readdir, readFile, realpath, rename, stat } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import * as E from 'fp-ts/lib/Either.js'
import * as t from 'io-ts'
import { corruption, ioError, locked, notALog, readOnly, type StorageError } from '../errors.js'
import { TABLE_RECORD_FILE, TABLE_RECORD_TEMPORARY } from './rocksdbTableRecord.js'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** The file that marks a directory as a deltalog store. */
export const MARKER_FILE = 'DELTALOG'

/** The marker's contents: which store and which on-disk format the directory holds. */
export const markerCodec = t.type({ deltalog: t.literal('rocksdb'), format: t.literal(1) })
export type Marker = t.TypeOf<typeof markerCodec>

const MARKER: Marker = { deltalog: 'rocksdb', format: 1 }

/** What a directory holds, as far as opening a store in it is concerned. */
export type DirectoryState =
  /** Nothing at the path. */
  | { readonly kind: 'missing' }
  /** An empty directory, or one whose log creation stopped before the database held data. */
  | { readonly kind: 'empty' }
  /** A RocksDB database with deltalog's mark. */
  | { readonly kind: 'marked' }
  /** A RocksDB database without the mark: a log from before marks, or someone else's. */
  | { readonly kind: 'unmarked' }

/** The default mode of a directory deltalog creates a store in: its owner's alone. */
export const PRIVATE_MODE = 0o700

// Files RocksDB writes in a database directory; any of them without CURRENT is a damaged
// database, not an unrelated directory.
const ROCKSDB_FILE =
  /^(LOCK|IDENTITY|LOG(\.old\..*)?|MANIFEST-\d+|OPTIONS-\d+|\d+\.(sst|log|blob))$/
// deltalog's files besides the mark: the record of checked tables, and the temporary files the
// mark and the record are written to.
const OWN_FILES: ReadonlySet<string> = new Set([
  TABLE_RECORD_FILE,
  TABLE_RECORD_TEMPORARY,
  `${MARKER_FILE}.tmp`,
])
// The files that hold records: write-ahead logs, tables and blobs.
const DATA_FILE = /^\d+\.(sst|log|blob)$/

// -------------------------------------------------------------------------------------
// errors from the file system
// -------------------------------------------------------------------------------------

const codeOf = (error: unknown): string | undefined =>
  typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : undefined

/** A file-system failure as a storage error: read-only places are `READ_ONLY`. */
export const fromFileSystem = (message: string, error: unknown): StorageError => {
  const code = codeOf(error)
  return code === 'EROFS' || code === 'EACCES' || code === 'EPERM'
    ? readOnly(
        `${message}: ${code === 'EROFS' ? 'read-only file system' : 'permission denied'}`,
        error,
      )
    : ioError(`${message}: ${error instanceof Error ? error.message : String(error)}`, error)
}

// -------------------------------------------------------------------------------------
// destructors
// -------------------------------------------------------------------------------------

/**
 * Classifies a directory from its listing alone; pure. `names` are the entries of the
 * directory, `marker` the contents of its `DELTALOG` file if it has one.
 */
export const classify = (
  path: string,
  names: ReadonlyArray<string>,
  marker: string | undefined,
): E.Either<StorageError, DirectoryState> => {
  if (names.every((name) => OWN_FILES.has(name))) return E.right({ kind: 'empty' })
  const has = new Set(names)
  if (marker !== undefined) {
    const decoded = E.chain((json: unknown) => markerCodec.decode(json))(
      E.tryCatch(
        () => JSON.parse(marker) as unknown,
        () => [],
      ),
    )
    if (E.isLeft(decoded)) {
      return E.left(
        corruption(`${path}: the ${MARKER_FILE} file is not one this version of deltalog wrote`),
      )
    }
  }
  if (!has.has('CURRENT')) {
    if (marker !== undefined) {
      // The mark is written before the database is created, and records only ever reach the
      // write-ahead log once CURRENT exists: without data files this is a creation that was
      // cut short, and finishing it loses nothing.
      if (!names.some((name) => DATA_FILE.test(name))) return E.right({ kind: 'empty' })
      return E.left(
        corruption(
          `${path} holds a deltalog log whose CURRENT file is missing; nothing was changed — restore CURRENT or the directory from a backup`,
        ),
      )
    }
    const rocks = names.filter((name) => ROCKSDB_FILE.test(name))
    const others = names.filter((name) => !OWN_FILES.has(name))
    if (rocks.length > 0) {
      return E.left(
        corruption(
          `${path} holds RocksDB files (${listed(rocks)}) but no CURRENT file: a damaged database; nothing was changed`,
        ),
      )
    }
    return E.left(
      notALog(
        `${path} is not empty and holds no deltalog log (${listed(others)}); nothing was changed — use an empty or new directory`,
      ),
    )
  }
  return E.right({ kind: marker === undefined ? 'unmarked' : 'marked' })
}

const listed = (names: ReadonlyArray<string>): string => {
  const sorted = [...names].sort()
  return sorted.length <= 4
    ? sorted.join(', ')
    : `${sorted.slice(0, 4).join(', ')} and ${sorted.length - 4} more`
}

/** Reads what `path` holds without changing anything there. */
export const inspect = async (path: string): Promise<E.Either<StorageError, DirectoryState>> => {
  let names: ReadonlyArray<string>
  try {
    const info = await stat(path)
    if (!info.isDirectory()) return E.left(notALog(`${path} is not a directory`))
    names = await readdir(path)
  } catch (error) {
    if (codeOf(error) === 'ENOENT') return E.right({ kind: 'missing' })
    if (codeOf(error) === 'ENOTDIR') return E.left(notALog(`${path} is not a directory`))
    return E.left(fromFileSystem(`cannot read ${path}`, error))
  }
  let marker: string | undefined
  if (names.includes(MARKER_FILE)) {
    try {
      marker = await readFile(join(path, MARKER_FILE), 'utf8')
    } catch (error) {
      return E.left(fromFileSystem(`cannot read ${join(path, MARKER_FILE)}`, error))
    }
  }
  return classify(path, names, marker)
}

// -------------------------------------------------------------------------------------
// effects
// -------------------------------------------------------------------------------------

/**
 * Makes `path` a directory with exactly `mode` (the umask does not apply), creating it and its
 * parents when missing.
 */
export const prepareDirectory = async (
  path: string,
  mode: number,
): Promise<E.Either<StorageError, void>> => {
  try {
    await makeDirectory(path, mode)
    await chmod(path, mode)
    return E.right(undefined)
  } catch (error) {
    return E.left(fromFileSystem(`cannot create a log in ${path}`, error))
  }
}

// Creates `path` and its missing parents one level at a time: Node's recursive mkdir reports a
// read-only file system as ENOENT, which would hide the real cause.
const makeDirectory = async (path: string, mode: number): Promise<void> => {
  try {
    await mkdir(path, { mode })
  } catch (error) {
    if (codeOf(error) === 'EEXIST') return
    if (codeOf(error) !== 'ENOENT' || dirname(path) === path) throw error
    await makeDirectory(dirname(path), mode)
    await mkdir(path, { mode })
  }
}

const fsyncPath = async (path: string, flags: number): Promise<void> => {
  const handle = await open(path, flags)
  try {
    await handle.sync()
  } finally {
    await handle.close()
  }
}

/**
 * Marks `path` as a deltalog store, durably: the mark is written to a temporary file, synced,
 * renamed into place, and the directory is synced, so a crash leaves either no mark or a whole
 * one.
 */
export const writeMarker = async (path: string): Promise<E.Either<StorageError, void>> => {
  const temporary = join(path, `${MARKER_FILE}.tmp`)
  try {
    const handle = await open(temporary, 'w', 0o600)
    try {
      await handle.writeFile(`${JSON.stringify(MARKER)}\n`)
      await handle.sync()
    } finally {
      await handle.close()
    }
    await rename(temporary, join(path, MARKER_FILE))
    await fsyncPath(path, constants.O_RDONLY)
    return E.right(undefined)
  } catch (error) {
    return E.left(fromFileSystem(`cannot mark ${path} as a deltalog log`, error))
  }
}

// The real paths of the directories that a store in this process has open, each with why it
// can never be opened again in this process, if it cannot (see `Release`).
const claimed = new Map<string, string | undefined>()

/**
 * Frees a claim. Given `stranded` — why the store's native handle stays open until the process
 * exits — it keeps the claim instead, and every later claim of the directory in this process is
 * `LOCKED` with that reason.
 */
export type Release = (stranded?: string) => void

/**
 * Claims the directory at `path` for one open store in this process, under its real path so
 * that every spelling of it is the same claim. Resolves with the function that releases it.
 */
export const claim = async (path: string): Promise<E.Either<StorageError, Release>> => {
  let real: string
  try {
    real = await realpath(path)
  } catch (error) {
    return E.left(fromFileSystem(`cannot resolve ${path}`, error))
  }
  if (claimed.has(real)) {
    const stranded = claimed.get(real)
    return E.left(
      locked(
        stranded === undefined
          ? `${path} is already open in this process (as ${real})`
          : `${path} cannot be opened to write again in this process: ${stranded}; restart the process`,
      ),
    )
  }
  claimed.set(real, undefined)
  let released = false
  return E.right((stranded?: string) => {
    if (released) return
    released = true
    if (stranded === undefined) claimed.delete(real)
    else claimed.set(real, stranded)
  })
}
