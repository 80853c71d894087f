/**
 * The log as users open it: the engine of src/log wired to the RocksDB directory opener of
 * src/storage. This is the one module that joins the two, so that src/log imports no storage
 * adapter (an ESLint rule keeps it so). `openLog` is the Promise API; `openLogTE` the same open
 * as a TaskEither. Everything a user of the log needs is exported from here.
 */
import type * as TE from 'fp-ts/lib/TaskEither.js'
import type { DeltalogErrorValue } from './errors.js'
import { toPromise } from './errors.js'
import { facade } from './log/facade.js'
import { openLogWith, type LogDependencies } from './log/open.js'
import type { OpenOptions } from './log/options.js'
import type { Log, LogTE } from './log/types.js'
import { openLogDirectory } from './storage/logDirectory.js'

export type {
  AppendRecord,
  CountOptions,
  FollowOptions,
  KeysOptions,
  OpenOptions,
  ScanOptions,
} from './log/options.js'
export type { LogEntry } from './log/read.js'
export {
  DEFAULTS,
  type AppendResult,
  type Log,
  type LogHead,
  type LogTE,
  type PlacedRecord,
} from './log/types.js'

const onRocksDB: LogDependencies = { openDirectory: openLogDirectory }

/** Opens a log as a TaskEither: the engine that the Promise facade wraps. */
export const openLogTE = (input: unknown): TE.TaskEither<DeltalogErrorValue, LogTE> =>
  openLogWith(input, onRocksDB)

/**
 * Opens a log: `{ path }` for a RocksDB directory (created when missing), or `{ storage }` for
 * any Storage adapter. Rejects with `DeltalogError`: `INVALID_ARGUMENT` for bad options,
 * `LOCKED` when the directory is open elsewhere, `CORRUPTION` for unreadable state.
 */
export const openLog = async (options: OpenOptions): Promise<Log> =>
  facade(await toPromise(openLogTE(options)))
