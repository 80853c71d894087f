/**
 * How followers learn that the log changed: a signal that the writer (or, in a log opened
 * read-only, the store's watch) fires after every commit, sync and truncation, and that a
 * closing log fires once more so that followers see the close.
 */

/** Fires every waiter once per `fire()`. */
export interface ChangeSignal {
  /** The promise the next `fire()` resolves: take it before looking, so no change is missed. */
  readonly wait: () => Promise<void>
  readonly fire: () => void
}

/** A signal nobody waits on yet. */
export const makeChangeSignal = (): ChangeSignal => {
  let release: () => void = () => undefined
  let next = new Promise<void>((resolve) => (release = resolve))
  return {
    wait: () => next,
    fire: () => {
      const done = release
      next = new Promise<void>((resolve) => (release = resolve))
      done()
    },
  }
}
