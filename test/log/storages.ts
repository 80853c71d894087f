// Storage wrappers for engine tests: one that survives `close()` so a test can reopen a log on
// the same data, one that counts and fails chosen operations, and one that acts in the middle of a
// read.
import * as E from 'fp-ts/lib/Either.js'
import * as TE from 'fp-ts/lib/TaskEither.js'
import { ioError, type StorageError } from '../../src/errors.js'
import { makeMemoryStorage } from '../../src/storage/memory.js'
import type { Batch, Storage, StorageIterator, WriteOptions } from '../../src/storage/port.js'

/**
 * One memory store that can be "opened" many times: each `open()` returns a view whose
 * `close()` only closes the view, so data survives as it would on disk.
 */
export const reopenableMemory = (): { readonly open: () => Storage; readonly base: Storage } => {
  const base = makeMemoryStorage()
  const viewClosed: StorageError = { code: 'CLOSED', message: 'view is closed' }
  return {
    base,
    open: () => {
      let isClosed = false
      const guard =
        <Args extends unknown[], A>(f: (...args: Args) => TE.TaskEither<StorageError, A>) =>
        (...args: Args): TE.TaskEither<StorageError, A> =>
          isClosed ? TE.left(viewClosed) : f(...args)
      return {
        capabilities: { persistent: true, sync: false },
        get: guard(base.get),
        getMany: guard(base.getMany),
        write: guard(base.write),
        iterator: (options) => (isClosed ? E.left(viewClosed) : base.iterator(options)),
        ...(base.openIterators === undefined ? {} : { openIterators: base.openIterators }),
        close: () =>
          TE.fromIO(() => {
            isClosed = true
          }),
      }
    },
  }
}

/** A storage that records every write and can be told to fail the next ones. */
export interface Instrumented extends Storage {
  readonly writes: Array<{ readonly batch: Batch; readonly options: WriteOptions }>
  /** Fail every write from now on with IO_ERROR (the batch is not applied). */
  failWrites: boolean
  /** Delay each write by this many milliseconds. */
  writeDelayMs: number
}

export const instrument = (storage: Storage): Instrumented => {
  const self: Instrumented = {
    ...storage,
    writes: [],
    failWrites: false,
    writeDelayMs: 0,
    write: (batch, options) => async () => {
      if (self.writeDelayMs > 0) await new Promise((r) => setTimeout(r, self.writeDelayMs))
      if (self.failWrites) return E.left(ioError('injected write failure', new Error('injected')))
      self.writes.push({ batch, options })
      return storage.write(batch, options)()
    },
  }
  return self
}

/** A storage that can make something happen in the middle of a read; see `interrupting`. */
export type Interrupting<S extends Storage> = S & {
  /**
   * Runs `action` once, at the next step of any iteration, after that step read its pairs and
   * before it returns them: the iteration's view was taken before `action` changed anything.
   */
  readonly duringNextStep: (action: () => Promise<unknown>) => void
  /** Whether an action waits for its step. */
  readonly armed: () => boolean
}

export const interrupting = <S extends Storage>(storage: S): Interrupting<S> => {
  let action: (() => Promise<unknown>) | undefined
  return {
    ...storage,
    iterator: (options) =>
      E.map((it: StorageIterator): StorageIterator => ({
        ...it,
        next: () => async () => {
          const step = await it.next()()
          const run = action
          action = undefined
          await run?.()
          return step
        },
      }))(storage.iterator(options)),
    duringNextStep: (next) => {
      action = next
    },
    armed: () => action !== undefined,
  }
}

/** A storage that offers `watch` (see `Storage.watch`) and tells of a change when a test says so. */
export type Watchable<S extends Storage> = S & {
  /** Calls every listener, as a store does when another handle committed. */
  readonly notify: () => void
}

export const watchable = <S extends Storage>(storage: S): Watchable<S> => {
  const listeners = new Set<() => void>()
  return {
    ...storage,
    watch: (listener) =>
      TE.fromIO(() => {
        listeners.add(listener)
        return () => {
          listeners.delete(listener)
          return Promise.resolve()
        }
      }),
    notify: () => {
      for (const listener of listeners) listener()
    },
  }
}
