/**
 * Reads of a store that others share and that reconnects (PostgreSQL) may fail while it has lost
 * its connection: followers and readers try them again, when the store tells of a change or a
 * second later, instead of failing.
 */
import type { DeltalogErrorValue } from '../errors.js'

/**
 * How long a follower waits to read again after a shared store failed a read, unless the store
 * tells of a change first.
 */
export const READ_RETRY_MS = 1000

/** A failure of a store on a server that lost its connection: worth trying again. */
export const lostConnection = (error: DeltalogErrorValue): boolean =>
  error.code === 'IO_ERROR' && error.lostConnection === true

/** Waits for `until`, or `ms` at most. */
export const pause = async (until: Promise<void>, ms: number): Promise<void> => {
  let timer: ReturnType<typeof setTimeout> | undefined
  await Promise.race([until, new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))])
  clearTimeout(timer)
}
