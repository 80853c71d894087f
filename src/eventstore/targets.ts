/**
 * Where a store's consumers and projections keep what they write (their `Target`, runs.ts): the
 * store itself, or another open store named by a run's `into`. Each open store registers what it
 * offers as a target, so that a run of another store can write through its writer.
 */
import { closed, invalidArgument, readOnly as readOnlyError, toDeltalogError } from '../errors.js'
import type { Log } from '../openLog.js'
import type { Request } from './requests.js'
import type { RunContext, Target } from './runs.js'
import type { Run, Runs } from './running.js'

/** What a store tells its runs' targets about itself. */
export interface RunHost {
  readonly log: Log
  readonly runs: Runs
  readonly submit: (request: Request) => Promise<unknown>
  readonly readOnly: boolean
  /** The store's close, once it began. */
  readonly closing: () => Promise<void> | undefined
  /** A run's context over this store's events, writing to `target`. */
  readonly context: (target: Target) => RunContext
}

/** What each open store offers the runs of other stores that write to it (their `into`). */
const TARGETS = new WeakMap<object, { readonly target: Target; readonly host: RunHost }>()

/** Starting runs on a host's events; `register` makes the host's store a target for others. */
export const runsOn = (
  host: RunHost,
): {
  readonly start: <R extends Run>(
    options: unknown,
    start: (context: RunContext) => Promise<R>,
  ) => Promise<R>
  readonly register: (store: object) => void
} => {
  const own: Target = { log: host.log, runs: host.runs, submit: host.submit, sameLog: true }
  /** Where a run keeps what it writes: this store, or the open store its `into` names. */
  const targetOf = (options: unknown): Target => {
    const into = (options as { readonly into?: unknown } | undefined)?.into
    const found =
      into === undefined
        ? { target: own, host }
        : typeof into === 'object' && into !== null
          ? TARGETS.get(into)
          : undefined
    if (found === undefined) {
      throw toDeltalogError(invalidArgument('options.into', 'must be an open event store'))
    }
    if (found.host.readOnly) {
      throw toDeltalogError(
        readOnlyError(
          `the event store that would keep what the run writes is open read-only (readOnly: true)${found.target === own ? '; give options.into a writable one' : ''}`,
          undefined,
        ),
      )
    }
    if (found.host.closing() !== undefined) throw toDeltalogError(closed('event store'))
    return { ...found.target, sameLog: found.target.log === host.log }
  }
  return {
    /**
     * Starts a run on this store's events. One kept in another store (`into`) is registered
     * there, and adopted here too, so that this store's close also waits for the batch in hand.
     */
    start: async (options, start) => {
      const target = targetOf(options)
      const run = await start(host.context(target))
      if (target.runs !== host.runs) host.runs.adopt(run)
      return run
    },
    register: (store) => {
      TARGETS.set(store, { target: own, host })
    },
  }
}
