/**
 * Opening a log: the open options checked, its store opened — a directory through the opener
 * the caller injects (the engine knows no storage adapter: src/openLog.ts gives it RocksDB's), or
 * the caller's Storage —, claimed for one writer, its state recovered and made durable, and the
 * engine started on it. A failed open lets go of what it took.
 */
import * as E from 'fp-ts/lib/Either.js'
import * as TE from 'fp-ts/lib/TaskEither.js'
import { pipe } from 'fp-ts/lib/function.js'
import { invalidArgument, locked, type DeltalogErrorValue } from '../errors.js'
import { load } from '../sequence/allocator.js'
import type { Storage } from '../storage/port.js'
import { makeLog } from './engine.js'
import { decodeStrict, OpenOptions } from './options.js'
import { readStoredState, refusesToWrite } from './recover.js'
import { watchStore } from './refresh.js'
import { DEFAULTS, type LogTE } from './types.js'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** How the engine asks for a log's directory to be opened. */
export interface OpenDirectoryOptions {
  /** Create a log when the directory is missing or empty. */
  readonly create: boolean
  /** Open an existing log to read only, without the writer's lock. */
  readonly readOnly: boolean
  /** The mode of a directory a new log is created in. */
  readonly directoryMode?: number
  /**
   * For a writable open of an existing store: run first on a read-only view of it, so that a
   * refusal leaves every file as it was.
   */
  readonly check?: (view: Storage) => TE.TaskEither<DeltalogErrorValue, void>
}

/** What the engine needs from outside src/log. */
export interface LogDependencies {
  /** Opens the store of the log in directory `path`, for `{ path }` in the open options. */
  readonly openDirectory: (
    path: string,
    options: OpenDirectoryOptions,
  ) => TE.TaskEither<DeltalogErrorValue, Storage>
}

// Storages in use by an open log, so that two logs never share one writer's store.
const inUse = new WeakSet<Storage>()

// -------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------

/** Opens a log as a TaskEither, with `deps` for what the engine does not know itself. */
export const openLogWith = (
  input: unknown,
  deps: LogDependencies,
): TE.TaskEither<DeltalogErrorValue, LogTE> =>
  pipe(
    TE.fromEither(checkOpenOptions(input)),
    TE.chainW((options) =>
      pipe(
        openStorage(options, deps),
        TE.chainW((storage) => claimAndStart(storage, options)),
      ),
    ),
  )

/** The open options, decoded and checked together. */
const checkOpenOptions = (input: unknown): E.Either<DeltalogErrorValue, OpenOptions> =>
  pipe(
    decodeStrict(OpenOptions, 'options', input),
    E.chainW((options) => {
      if ((options.path === undefined) === (options.storage === undefined)) {
        return E.left(invalidArgument('options.path', 'give exactly one of path and storage'))
      }
      if (options.directoryMode !== undefined && options.path === undefined) {
        return E.left(invalidArgument('options.directoryMode', 'is only for a path'))
      }
      if (options.directoryMode !== undefined && options.readOnly === true) {
        return E.left(
          invalidArgument('options.directoryMode', 'is for creating a log, not for reading one'),
        )
      }
      return E.right(options)
    }),
  )

/** The store the options name. REQUIRES: `options` passed `checkOpenOptions`. */
const openStorage = (
  options: OpenOptions,
  deps: LogDependencies,
): TE.TaskEither<DeltalogErrorValue, Storage> => {
  const readOnly = options.readOnly ?? false
  if (options.path !== undefined) {
    return deps.openDirectory(options.path, {
      create: !readOnly,
      readOnly,
      ...(readOnly ? {} : { check: refusesToWrite }),
      ...(options.directoryMode === undefined ? {} : { directoryMode: options.directoryMode }),
    })
  }
  return options.storage !== undefined
    ? TE.right(options.storage)
    : TE.left(invalidArgument('options.storage', 'is missing'))
}

/**
 * Claims the store for one writer (readers share a store with its writer and with one another)
 * and starts the log on it; if that fails, unclaims it, and closes it if this open opened it.
 */
const claimAndStart = (
  storage: Storage,
  options: OpenOptions,
): TE.TaskEither<DeltalogErrorValue, LogTE> => {
  const readOnly = options.readOnly ?? false
  if (!readOnly && inUse.has(storage)) {
    return TE.left(locked('the storage is already in use by an open log'))
  }
  if (!readOnly) inUse.add(storage)
  return pipe(
    start(storage, options),
    TE.orElseFirstW(() =>
      TE.fromTask(async () => {
        if (!readOnly) inUse.delete(storage)
        // A store this call opened is closed again; a caller's store stays theirs.
        if (options.path !== undefined) await storage.close()()
      }),
    ),
  )
}

/**
 * Recovers the log's state and starts the engine on it. A reader listens before it reads, so
 * that no commit falls between the two unseen; a writer makes whatever recovery found durable,
 * so that the durable watermark starts at the end.
 * REQUIRES: `storage` is claimed (see `claimAndStart`).
 */
const start = (storage: Storage, options: OpenOptions): TE.TaskEither<DeltalogErrorValue, LogTE> =>
  pipe(
    options.readOnly === true ? watchStore(storage) : TE.right(undefined),
    TE.chainW((watching) =>
      pipe(
        readStoredState(storage, options.readOnly ?? false),
        TE.chainW((stored) =>
          pipe(
            TE.fromEither(load(stored.block, options.blockSize ?? DEFAULTS.blockSize)),
            TE.chainFirstW(() =>
              options.readOnly === true ? TE.right(undefined) : storage.write([], { sync: true }),
            ),
            TE.map((allocator) =>
              makeLog({
                storage,
                options,
                allocator,
                stored,
                watching,
                release: releaseOnClose(storage, options),
              }),
            ),
          ),
        ),
        TE.orElseFirstW(() => TE.fromTask(async () => void (await watching?.stop()))),
      ),
    ),
  )

/**
 * How a closing log lets go of its store: a reader on a caller's store leaves it open (its
 * writer may be using it); any other log closes it, and a writer unclaims it.
 */
const releaseOnClose =
  (storage: Storage, options: OpenOptions) =>
  async (): Promise<E.Either<DeltalogErrorValue, void>> => {
    const readOnly = options.readOnly ?? false
    if (readOnly && options.path === undefined) return E.right(undefined)
    const released = await storage.close()()
    if (!readOnly) inUse.delete(storage)
    return released
  }
