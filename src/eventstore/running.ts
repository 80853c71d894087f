/**
 * The runs of a store — consumers and projections: the registry that lets one run per name go
 * at once and stops them all when the store closes, the handle a caller stops and watches a run
 * with, and the meter of how far a run is behind the log.
 */
import { aborted, closed, errorValueOf, invalidArgument, toDeltalogError } from '../errors.js'
import type { Log } from '../openLog.js'
import type { ReadEvent } from './model.js'

/** How far a run is behind the log. */
export interface Lag {
  /** The last position the run has handled and saved; -1 before its first. */
  readonly position: number
  /** The log's next sequence: every position the run may yet handle lies below it. */
  readonly head: number
  /**
   * Log positions between what the run has handled or read past and the head — events it has
   * yet to handle, and the log's records that are no events (a checkpoint, a commit of
   * documents): 0 once it has caught up and the log is still.
   */
  readonly positions: number
  /** How long ago the oldest event read but not yet handled was recorded; 0 when none is. */
  readonly ms: number
}

/** A running consumer or projection. */
export interface Run {
  readonly name: string
  /**
   * Resolves when the run stops by `stop()`, its signal or the store's close; rejects with the
   * error that stopped it (`HANDLER_FAILED`, or the store's: `FENCED`, `CLOSED`, …).
   */
  readonly done: Promise<void>
  readonly lag: () => Lag
  /**
   * Resolves once the run has handled and saved every event of its source below the log's head
   * as it is now; rejects if the run stops first.
   */
  readonly caughtUp: () => Promise<void>
  /** Stops the run after the batch in hand is handled and saved; resolves when it has stopped. */
  readonly stop: () => Promise<void>
  readonly [Symbol.asyncDispose]: () => Promise<void>
}

/** The runs of one store, one per name and kind: a second run of a name is refused. */
export interface Runs {
  /** Starts `body` under `key`; its signal aborts on `stop()`, on `signal`, or on the store's close. */
  readonly start: (
    key: string,
    name: string,
    signal: AbortSignal | undefined,
    body: (signal: AbortSignal) => Promise<void>,
    meter: LagMeter,
  ) => Run
  /**
   * Counts `run`, registered in another store's runs (its `into`), among this store's for
   * `stopAll`: the run reads this store, whose close must wait for the batch in hand.
   */
  readonly adopt: (run: Run) => void
  /** Stops every run, and refuses new ones (`CLOSED`); resolves when they have stopped. */
  readonly stopAll: () => Promise<void>
}

export const makeRuns = (): Runs => {
  const running = new Map<string, Run>()
  const adopted = new Set<Run>()
  let stopping = false
  return {
    start: (key, name, signal, body, meter) => {
      // A run that finished starting after its store began to close would outlive the close.
      if (stopping) throw toDeltalogError(closed('event store'))
      if (running.has(key)) {
        throw toDeltalogError(
          invalidArgument('name', `${key} is already running in this store: one run at a time`),
        )
      }
      const stopper = new AbortController()
      const joined =
        signal === undefined ? stopper.signal : AbortSignal.any([signal, stopper.signal])
      const done = (async () => {
        try {
          await body(joined)
        } catch (error) {
          throw toDeltalogError(errorValueOf(error))
        } finally {
          running.delete(key)
        }
      })()
      // A caller that never looks at `done` must not crash the process when the run fails.
      done.catch(() => undefined)
      const stop = async (): Promise<void> => {
        stopper.abort()
        await done.catch(() => undefined)
      }
      const run: Run = {
        name,
        done,
        lag: meter.lag,
        caughtUp: () => meter.caughtUp(done),
        stop,
        [Symbol.asyncDispose]: stop,
      }
      running.set(key, run)
      return run
    },
    adopt: (run) => {
      if (stopping) {
        void run.stop()
        return
      }
      adopted.add(run)
      void run.done.catch(() => undefined).finally(() => adopted.delete(run))
    },
    stopAll: async () => {
      stopping = true
      await Promise.all([...running.values(), ...adopted].map((r) => r.stop()))
    },
  }
}

/** Tracks a run's lag: what it has saved, read past, and the oldest event it holds unhandled. */
export interface LagMeter {
  readonly lag: () => Lag
  /** The run saved events through `position`: none is in hand any more. */
  readonly saved: (position: number) => void
  /** A read found every event of the source below `to`; `first` is the first it returned, in hand. */
  readonly read: (to: number, first: ReadEvent | undefined) => void
  /** Resolves once nothing is in hand and every event below the log's present head was read. */
  readonly caughtUp: (ended: Promise<void>) => Promise<void>
}

export const makeLagMeter = (log: Log, start: number): LagMeter => {
  let position = start
  let readTo = start + 1
  let oldest: number | undefined
  let waiting: Array<{ readonly head: number; readonly resolve: () => void }> = []
  const check = (): void => {
    if (oldest !== undefined) return
    const [reached, rest] = [
      waiting.filter((w) => readTo >= w.head),
      waiting.filter((w) => readTo < w.head),
    ]
    waiting = rest
    for (const w of reached) w.resolve()
  }
  return {
    lag: () => {
      const head = log.nextSequence()
      return {
        position,
        head,
        positions: Math.max(0, head - Math.max(readTo, position + 1)),
        ms: oldest === undefined ? 0 : Math.max(0, Date.now() - oldest),
      }
    },
    saved: (p) => {
      position = Math.max(position, p)
      oldest = undefined
      check()
    },
    read: (to, first) => {
      readTo = Math.max(readTo, to)
      if (first !== undefined) oldest ??= first.recordedAt.getTime()
      check()
    },
    caughtUp: (ended) =>
      new Promise<void>((resolve, reject) => {
        waiting.push({ head: log.nextSequence(), resolve })
        check()
        const stopped = (): void =>
          reject(toDeltalogError(aborted('the run', 'it stopped before it caught up')))
        ended.then(stopped, reject)
      }),
  }
}
