/**
 * A reader's view of a log that another handle writes. A log opened read-only subscribes to its
 * store's changes (where the store offers them, see `Storage.watch`) before it reads the stored
 * state, so that no commit falls between the two unseen; on each change it reads the truncation
 * and the chain's end again, moves its watermarks and wakes its followers.
 */
import * as E from 'fp-ts/lib/Either.js'
import * as O from 'fp-ts/lib/Option.js'
import * as TE from 'fp-ts/lib/TaskEither.js'
import { pipe } from 'fp-ts/lib/function.js'
import type { DeltalogErrorValue } from '../errors.js'
import type { Storage } from '../storage/port.js'
import type { ChangeSignal } from './changes.js'
import type { ReadOnlyWriter } from './readOnlyWriter.js'
import { readState } from './recover.js'
import { lostConnection, READ_RETRY_MS } from './retry.js'
import { decodeTruncation, NO_TRUNCATION, truncationKey } from '../codec/truncation.js'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** A reader's subscription to a store's changes, taken before it reads the stored state. */
export interface StoreWatch {
  /** Sets what runs on a change; runs it at once if a change came before. */
  readonly listen: (listener: () => void) => void
  readonly stop: () => Promise<void>
}

/** A reader's refresh; see `makeRefresh`. */
export interface Refresh {
  /** Reads the stored state again (once more after the read in flight, if one is). */
  readonly refresh: () => void
  /** Cancels a retry that waits. */
  readonly cancel: () => void
}

// -------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------

/** Subscribes to the store's changes where it offers them (see `Storage.watch`). */
export const watchStore = (
  storage: Storage,
): TE.TaskEither<DeltalogErrorValue, StoreWatch | undefined> => {
  if (storage.watch === undefined) return TE.right(undefined)
  let listener: (() => void) | undefined
  let missed = false
  return pipe(
    storage.watch(() => (listener === undefined ? (missed = true) : listener())),
    TE.map((stop) => ({
      listen: (l) => {
        listener = l
        if (missed) l()
      },
      stop,
    })),
  )
}

/**
 * The refresh of a reader: on each change the store tells of, the truncation and the chain's end
 * are read again and followers woken. Changes that come during a read are taken by one more
 * read after it. A read that failed for a lost connection is tried again a second later (a store
 * that lost its connection tells of the change again when it has it back); any other failure
 * wakes the followers, whose own reads then meet it and report it.
 * REQUIRES: `reader` is the writer of a log opened read-only on `storage`; `isClosed` says when
 * that log closed.
 */
export const makeRefresh = (
  storage: Storage,
  reader: ReadOnlyWriter,
  changed: ChangeSignal,
  isClosed: () => boolean,
): Refresh => {
  let refreshing = false
  let again = false
  let retry: ReturnType<typeof setTimeout> | undefined
  const refresh = (): void => {
    if (refreshing) {
      again = true
      return
    }
    refreshing = true
    void (async () => {
      do {
        again = false
        const state = await readState(storage)()
        if (isClosed()) break
        if (E.isLeft(state)) {
          if (lostConnection(state.left)) {
            retry ??= setTimeout(() => {
              retry = undefined
              if (!isClosed()) refresh()
            }, READ_RETRY_MS)
          } else {
            changed.fire()
          }
          break
        }
        reader.update(state.right)
        changed.fire()
      } while (again)
      refreshing = false
    })()
  }
  return {
    refresh,
    cancel: () => {
      if (retry !== undefined) clearTimeout(retry)
    },
  }
}

/**
 * The truncation point as stored now, for reads of a reader whose own may lag behind its writer
 * (see `ReadContext.storedTruncation`); `fallback()` when it cannot be read.
 */
export const storedTruncation =
  (storage: Storage, fallback: () => number) => async (): Promise<number> => {
    const stored = await storage.get(truncationKey)()
    const truncation =
      E.isRight(stored) && O.isSome(stored.right)
        ? decodeTruncation(stored.right.value)
        : E.right(NO_TRUNCATION)
    return E.isRight(truncation) ? truncation.right.before : fallback()
  }
