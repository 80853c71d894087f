/**
 * One life of the process `checkProjection` simulates: an event store opened on a
 * crash-simulating storage, and the subject under test started on it. It ends by a crash (the
 * storage crashes first, so nothing the dead process still tries lands) or by a graceful stop,
 * as a deploy ends it; either gives the storage the next life starts on. Every write to the
 * storage is reported as it lands, so that the checker can look at what a kill at that moment
 * would leave.
 */
import type { EventStore } from '../eventstore/store.js'
import { openEventStore } from '../eventstore/store.js'
import type { Durability } from '../log/options.js'
import type { DisposableStorage } from '../storage/port.js'
import type { CrashMode, CrashStorage } from './crashStorage.js'
import type { Handled } from './projectionChecks.js'
import type { Subject } from './projectionSubjects.js'

/** A running life: its store and storage, and how it ends. */
export interface Generation {
  readonly store: EventStore
  readonly storage: CrashStorage
  /** What went wrong with the subject so far (its run failed or ended by itself), if anything. */
  readonly failure: () => string | undefined
  /** Crashes the storage and lets the process go; resolves with what a restart finds. */
  readonly kill: (mode: CrashMode, seed: number) => Promise<CrashStorage>
  /** Stops the subject and closes the store; resolves with the storage to start again on. */
  readonly stop: () => Promise<CrashStorage>
}

/** How many turns a subject may take to stop once its signal aborts. */
const STOP_TURNS = 5_000

/** Resolves after `n` turns of the event loop (`setImmediate` hops). */
export const turns = async (n: number): Promise<void> => {
  for (let i = 0; i < n; i++) await new Promise((resolve) => setImmediate(resolve))
}

/** Waits up to `n` turns for `done()` to hold; resolves with whether it did. */
const turnsUntil = async (n: number, done: () => boolean): Promise<boolean> => {
  for (let i = 0; i < n && !done(); i++) await new Promise((resolve) => setImmediate(resolve))
  return done()
}

const messageOf = (error: unknown): string =>
  error instanceof Error ? error.message : String(error)

/**
 * Opens a store on `storage` and starts `subject` on it. `onWrite` is called, with the storage,
 * just after each non-empty write lands, while the life lasts.
 */
export const startGeneration = async (
  subject: Subject,
  storage: CrashStorage,
  durability: Durability,
  handled: Handled,
  onWrite: (storage: CrashStorage) => void,
): Promise<Generation> => {
  let alive = true
  let stopping = false
  let failure: string | undefined
  const hooked: DisposableStorage = {
    ...storage,
    write: (batch, options) => {
      const task = storage.write(batch, options)
      return () => {
        const written = task()
        if (alive && batch.length > 0) onWrite(storage)
        return written
      }
    },
  }
  const store = await openEventStore({ storage: hooked, durability })
  const controller = new AbortController()
  const running = await subject.start(store, controller.signal, (events) => {
    if (alive) handled.add(events)
  })
  running.done.then(
    () => {
      if (alive && !stopping) failure ??= 'its run ended before it was stopped'
    },
    (error: unknown) => {
      if (alive && !stopping) failure ??= `its run failed: ${messageOf(error)}`
    },
  )
  return {
    store,
    storage,
    failure: () => failure,
    kill: async (mode, seed) => {
      const crashed = storage.crash(mode, seed)
      alive = false
      controller.abort()
      // The dead process's store: everything it still tries fails on the crashed storage.
      await store.close().catch(() => undefined)
      return crashed
    },
    stop: async () => {
      stopping = true
      controller.abort()
      let ended = false
      void running.done.then(
        () => (ended = true),
        () => (ended = true),
      )
      const stopped = await turnsUntil(STOP_TURNS, () => ended)
      if (!stopped) {
        throw new Error(`it did not stop within ${STOP_TURNS} turns of its signal aborting`)
      }
      try {
        await store.close()
      } catch (error) {
        throw new Error(`the store did not close: ${messageOf(error)}`, { cause: error })
      }
      alive = false
      // The store closed and synced: a process kill now loses nothing, and gives a store to reopen.
      return storage.crash('process')
    },
  }
}
