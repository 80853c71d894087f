/**
 * How a command ends on SIGINT or SIGTERM: within a second, whatever it is waiting for (a server
 * that does not answer included). A command that stops cleanly on a signal (`follow`, `stats
 * --watch`) takes `interruptSignal()` and ends as it says; any other command, or one still
 * running `GRACE_MS` after the signal, exits with 128 + the signal's number (130 for SIGINT, 143
 * for SIGTERM) after one line on stderr. A second signal exits at once.
 */
import { constants } from 'node:os'

/** How long a command that stops cleanly has to do so after a signal. */
export const GRACE_MS = 500

let interest: AbortController | undefined

/**
 * The signal that tells a command to stop: aborted by the first SIGINT or SIGTERM. A command
 * that takes it ends within `GRACE_MS`, or is ended.
 */
export const interruptSignal = (): AbortSignal => (interest ??= new AbortController()).signal

/** Installs the handlers of SIGINT and SIGTERM, once, for the life of the process. */
export const handleInterrupts = (): void => {
  process.on('SIGINT', () => interrupted('SIGINT'))
  process.on('SIGTERM', () => interrupted('SIGTERM'))
}

const interrupted = (name: 'SIGINT' | 'SIGTERM'): void => {
  if (interest === undefined || interest.signal.aborted) return exit(name)
  interest.abort()
  // Unreferenced: a command that ends in time exits as it would have.
  setTimeout(() => exit(name), GRACE_MS).unref()
}

const exit = (name: 'SIGINT' | 'SIGTERM'): never => {
  process.stderr.write(`deltalog: interrupted by ${name}\n`)
  process.exit(128 + constants.signals[name])
}

/** Resolves after `ms`, or at once when `signal` is aborted: a command's wait between two reads. */
export const pause = (ms: number, signal: AbortSignal): Promise<void> =>
  new Promise<void>((resolve) => {
    const done = (): void => {
      clearTimeout(timer)
      signal.removeEventListener('abort', done)
      resolve()
    }
    const timer = setTimeout(done, ms)
    signal.addEventListener('abort', done, { once: true })
  })
