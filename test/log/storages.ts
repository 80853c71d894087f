// Storage wrappers for engine tests: one that survives `close()` so a test can reopen a log on
// the same data, and one that counts and fails chosen operations.
import * as E from 'fp-ts/lib/Either.js'
import * as TE from 'fp-ts/lib/TaskEither.js'
import { ioError, type StorageError } from '../../src/errors.js'
import { makeMemoryStorage } from '../../src/storage/memory.js'
import type { Batch, Storage, WriteOptions } from '../../src/storage/port.js'

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
