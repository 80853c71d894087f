/**
 * Where a command's log is and how a command opens it: a directory, or a table on a PostgreSQL
 * server. This is the one module of the command line that calls the library's openers,
 * `verifyStorage` and the migration, so that a change to how they are called is a change to
 * this file alone.
 */
import { readdir, rm, stat } from 'node:fs/promises'
import { join } from 'node:path'
import * as E from 'fp-ts/lib/Either.js'
import { errorValueOf, invalidArgument, type DeltalogErrorValue } from '../errors.js'
import { openLogDirectory } from '../storage/logDirectory.js'
import { refusesToWrite } from '../log/recover.js'
import { openLogTE, type LogTE } from '../openLog.js'
import { migrateStorage, type MigrationReport } from '../format/migrate.js'
import { dropLogTables } from '../postgres/drop.js'
import { openPostgresStorageTE, redact } from '../postgres/storage.js'
import { tableActivity, type TableActivity } from '../postgres/activity.js'
import type { Storage } from '../storage/port.js'
import { verifyStorageTE, type VerifyOptions, type VerifyReport } from '../verify/verify.js'
import type { Outcome } from './outcome.js'

// The log's TaskEither form, which the commands use: named here so that only this module says
// where it lives.
export type { LogTE }

// How long a command that writes waits for a directory that another process holds.
const LOCK_WAIT_MS = 2000

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/**
 * How a command opens a log: `create` makes one in a missing or empty directory (commands that
 * append), `update` writes to an existing one (`migrate`), `read` opens an existing one to read
 * only, without the writer's lock, so that any number of readers go with the process that writes
 * to the log, and that process can always open it. Readers change nothing in any directory.
 * `follow` reads as `read` does, and on PostgreSQL listens for commits; `verify` reads as `read`
 * does, and first reads every table file of a directory against its checksums, trusting no
 * earlier check.
 */
export type Access = 'create' | 'update' | 'read' | 'follow' | 'verify'

/**
 * Where a command's log is: a directory, or with a `postgres://` or `postgresql://` URL as `db`,
 * the table `table` on that server.
 */
export interface Location {
  readonly db: string
  readonly table?: string
}

/** Whether `--db` names a PostgreSQL server rather than a directory. */
export const isPostgresUrl = (db: string): boolean => /^postgres(ql)?:\/\//i.test(db)

/** The location as a message may name it: a URL's password hidden. */
export const shown = (location: Location): string =>
  isPostgresUrl(location.db)
    ? `table ${location.table ?? '?'} at ${redact(location.db)}`
    : location.db

const isReader = (access: Access): boolean => access !== 'create' && access !== 'update'

// -------------------------------------------------------------------------------------
// opening a store
// -------------------------------------------------------------------------------------

/**
 * Opens the store at `location` for `access`; a writer of a directory waits a moment for
 * another to let go. A PostgreSQL table is opened through `deltalog/postgres` (which loads
 * `pg` then): read-only for `read` and `follow`, and otherwise as its writer, which takes the
 * log over.
 */
export const openStore = async (
  location: Location,
  access: Access,
): Promise<E.Either<DeltalogErrorValue, Storage>> => {
  if (isPostgresUrl(location.db)) {
    if (location.table === undefined) {
      return E.left(invalidArgument('--table', 'is required with a PostgreSQL URL in --db'))
    }
    return openTable(location.db, location.table, access)
  }
  if (location.table !== undefined) {
    return E.left(invalidArgument('--table', 'is only for a PostgreSQL URL in --db'))
  }
  return openDirectory(location.db, access)
}

// REQUIRES: `url` is a PostgreSQL URL.
const openTable = (
  url: string,
  table: string,
  access: Access,
): Promise<E.Either<DeltalogErrorValue, Storage>> =>
  // A command that reads once reads one snapshot, as a read-only directory shows one, and
  // listens to nothing (so it also runs on a hot standby); `follow` listens for commits.
  openPostgresStorageTE({
    connection: { connectionString: url },
    table,
    readOnly: isReader(access),
    snapshot: access === 'read' || access === 'verify',
    listen: access === 'follow',
    ...connectTimeout(url),
  })()

/**
 * libpq's connection limit, which `pg` does not read: `connect_timeout` in the URL, or else
 * `PGCONNECT_TIMEOUT`, in seconds (0 or none: the storage's default).
 */
const connectTimeout = (url: string): { readonly timeouts?: { readonly connectMs: number } } => {
  const given =
    /[?&]connect_timeout=(\d+)(?:&|$)/.exec(url)?.[1] ?? process.env['PGCONNECT_TIMEOUT']
  const seconds = given !== undefined && /^\d+$/.test(given) ? Number(given) : 0
  return seconds > 0 && seconds <= 2_000_000 ? { timeouts: { connectMs: seconds * 1000 } } : {}
}

// REQUIRES: `dir` is no PostgreSQL URL.
const openDirectory = async (
  dir: string,
  access: Access,
): Promise<E.Either<DeltalogErrorValue, Storage>> => {
  const create = access === 'create'
  if (!create) {
    const info = await stat(dir).catch(() => undefined)
    if (info === undefined) return E.left(invalidArgument('--db', `${dir} does not exist`))
    if (!info.isDirectory()) return E.left(invalidArgument('--db', `${dir} is not a directory`))
  }
  if (isReader(access)) {
    const checkEveryTable = access === 'verify'
    return openLogDirectory(dir, { create: false, readOnly: true, checkEveryTable })()
  }
  return openDirectoryWriter(dir, create)
}

/** Opens `dir` as its writer, trying again for `LOCK_WAIT_MS` while another process holds it. */
// REQUIRES: `dir` exists as a directory unless `create`.
const openDirectoryWriter = async (
  dir: string,
  create: boolean,
): Promise<E.Either<DeltalogErrorValue, Storage>> => {
  // Commands that append refuse a log that the log would refuse, before RocksDB writes a file;
  // `migrate` opens a format 1 log to convert it.
  const options = create ? { create, check: refusesToWrite } : { create }
  let opened = await openLogDirectory(dir, options)()
  for (
    const since = Date.now();
    E.isLeft(opened) && opened.left.code === 'LOCKED' && Date.now() - since < LOCK_WAIT_MS;
  ) {
    await new Promise((resolve) => setTimeout(resolve, 50))
    opened = await openLogDirectory(dir, options)()
  }
  return opened
}

// -------------------------------------------------------------------------------------
// using a store or a log
// -------------------------------------------------------------------------------------

/**
 * Runs `use` on the store at `location`, closing it whatever happens. A failure to close is not
 * reported: the store was only read, or `use` reported what it wrote.
 */
export const withStore = async <A>(
  location: Location,
  access: Access,
  use: (storage: Storage) => Promise<E.Either<DeltalogErrorValue, A>>,
): Promise<E.Either<DeltalogErrorValue, A>> => {
  const storage = await openStore(location, access)
  if (E.isLeft(storage)) return storage
  try {
    return await use(storage.right)
  } finally {
    await storage.right.close()()
  }
}

/**
 * Runs `use` on the log at `location`, closing it whatever happens; a writer reserves sequence
 * numbers in blocks of `blockSize` (the library's default when not given).
 */
export const withLog = async (
  location: Location,
  access: Access,
  use: (log: LogTE, storage: Storage) => Promise<Outcome>,
  blockSize?: number,
): Promise<Outcome> => {
  const storage = await openStore(location, access)
  if (E.isLeft(storage)) return storage
  const reading = isReader(access)
  const sized = blockSize === undefined ? {} : { blockSize }
  const log = await openLogTE({ storage: storage.right, readOnly: reading, ...sized })()
  if (E.isLeft(log)) {
    await storage.right.close()()
    return log
  }
  let outcome: Outcome
  try {
    outcome = await use(log.right, storage.right)
  } catch (error) {
    outcome = E.left(errorValueOf(error))
  }
  const closed = await log.right.close()()
  // A reader leaves a store it was given open: it is closed here.
  const released = reading ? await storage.right.close()() : E.right(undefined)
  return E.isLeft(closed) && E.isRight(outcome)
    ? closed
    : E.isLeft(released) && E.isRight(outcome)
      ? released
      : outcome
}

// -------------------------------------------------------------------------------------
// a log a command creates
// -------------------------------------------------------------------------------------

/**
 * What was at a location before a command created a log there: nothing (`missing`: no
 * directory, or no table), an empty directory, or something that is kept whatever happens.
 */
export type Before = 'missing' | 'empty' | 'kept'

/**
 * Looks at `location` before a log is created there: a log there already is opened to read and
 * checked with `check`, and anything else that is not a log is refused as opening refuses it. A
 * table that cannot be read as a log is taken for `missing`: the writer's open then creates it,
 * or refuses what is not a log's.
 */
export const lookBefore = async (
  location: Location,
  check: (location: Location, log: LogTE) => Promise<Outcome>,
): Promise<E.Either<DeltalogErrorValue, Before>> => {
  if (!isPostgresUrl(location.db)) {
    const entries = await readdir(location.db).catch((error: NodeJS.ErrnoException) =>
      error.code === 'ENOENT' ? 'missing' : undefined,
    )
    if (entries === 'missing') return E.right('missing')
    // A file, or a directory that cannot be read: the writer's open says what is wrong.
    if (entries === undefined) return E.right('kept')
    if (entries.length === 0) return E.right('empty')
  }
  const looked = await withLog(location, 'read', (log) => check(location, log))
  if (E.isRight(looked)) return E.right('kept')
  return isPostgresUrl(location.db) && looked.left.code === 'NOT_A_LOG'
    ? E.right('missing')
    : looked
}

/**
 * Removes what a command created at `location`, which was `before` it ran: the directory it
 * made, everything in a directory that was empty, or the tables it made. Resolves with what was
 * removed, in words.
 */
// REQUIRES: `before` is not `kept`; no storage is open at `location`.
export const removeCreated = async (
  location: Location,
  before: Before,
): Promise<E.Either<DeltalogErrorValue, string>> => {
  if (isPostgresUrl(location.db)) {
    const dropped = await dropLogTables({
      connection: { connectionString: location.db },
      table: location.table ?? '',
    })
    return E.map(() => `the tables it created for ${shown(location)} were dropped`)(dropped)
  }
  const dir = location.db
  try {
    if (before === 'missing') {
      await rm(dir, { recursive: true, force: true })
      return E.right(`${dir}, which it created, was removed`)
    }
    for (const name of await readdir(dir)) await rm(join(dir, name), { recursive: true })
    return E.right(`what it wrote in ${dir} was removed`)
  } catch (error) {
    return E.left(errorValueOf(error))
  }
}

/** What the server shows of the writer and followers of a log on PostgreSQL (activity.ts). */
export type { TableActivity }

/** Reads what the server shows of the log's writer and followers. */
// REQUIRES: `location.db` is a PostgreSQL URL and `location.table` is given.
export const activityOf = (
  location: Location,
): Promise<E.Either<DeltalogErrorValue, TableActivity>> =>
  tableActivity({
    connection: { connectionString: location.db },
    table: location.table ?? '',
    ...connectTimeout(location.db),
  })

/** What `verifyStore` takes: the options of `verifyStorage`. */
export type { VerifyOptions }

/** Reads the whole of `storage` and checks it (see `verifyStorage`). */
export const verifyStore = (
  storage: Storage,
  options?: VerifyOptions,
): Promise<E.Either<DeltalogErrorValue, VerifyReport>> => verifyStorageTE(storage, options)()

/** Converts a format 1 log in `storage` to format 2 in place (see `migrateStorage`). */
export const migrateStore = (
  storage: Storage,
): Promise<E.Either<DeltalogErrorValue, MigrationReport>> => migrateStorage(storage)
