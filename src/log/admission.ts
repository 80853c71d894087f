/**
 * Backpressure for the writer: an append counts its bytes as pending from the moment it is
 * queued until its commit was written (or failed). One that would take the pending bytes past
 * `maxPendingBytes` waits for room, behind every append already waiting, and is refused with
 * `BACKPRESSURE` once it waited `appendTimeoutMs`. An append larger than the bound alone is
 * admitted when nothing is pending, so that it is never refused for good.
 */
import { backpressure, type DeltalogErrorValue } from '../errors.js'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/**
 * What an admission holds now, and how long appends waited for room since it was made: what
 * `log.metrics()` reports as pending and as backpressure.
 */
export interface AdmissionLoad {
  /** Appends admitted and not yet written (or failed), and appends waiting for room. */
  readonly pendingAppends: number
  /** Their bytes, as counted against `maxPendingBytes`. */
  readonly pendingBytes: number
  /** How many appends had to wait for room, including those waiting now. */
  readonly waits: number
  /** How long the appends that waited for room and no longer do waited, in total (ms). */
  readonly waitedMs: number
  /** How many appends wait for room now. */
  readonly waiting: number
}

/** The pending bytes and the appends waiting for room. */
export interface Admission {
  /**
   * Admits an append of `bytes`: calls `admit` at once (synchronously, so that the append is
   * queued the moment room is made for it) or once room frees up; calls `refuse` instead when
   * it waited too long or the writer stopped meanwhile.
   */
  readonly request: (
    bytes: number,
    admit: () => void,
    refuse: (error: DeltalogErrorValue) => void,
  ) => void
  /** Counts `bytes` of admitted appends as no longer pending. Admits no one: see `admitWaiting`. */
  readonly release: (bytes: number) => void
  /** Admits the waiting appends, in order, as long as they fit. */
  readonly admitWaiting: () => void
  /** Refuses every waiting append with `error`. */
  readonly refuseWaiting: (error: DeltalogErrorValue) => void
  /** How many appends wait for room. */
  readonly waiting: () => number
  readonly load: () => AdmissionLoad
}

interface Waiter {
  readonly bytes: number
  /** When it began to wait (`performance.now()`). */
  readonly since: number
  readonly admit: () => void
  readonly refuse: (error: DeltalogErrorValue) => void
}

// -------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------

/** An admission with nothing pending. */
export const makeAdmission = (
  maxPendingBytes: number,
  appendTimeoutMs: number | undefined,
): Admission => {
  let pendingBytes = 0
  let pendingAppends = 0
  // The bytes of the appends waiting for room, and the counts behind `load().waits`.
  let waitingBytes = 0
  let waits = 0
  let waitedMs = 0
  const waitingForRoom: Waiter[] = []

  /** Counts `waiter` as no longer waiting. REQUIRES: it was just taken off `waitingForRoom`. */
  const leave = (waiter: Waiter): void => {
    waitingBytes -= waiter.bytes
    waitedMs += performance.now() - waiter.since
  }

  // Nothing pending is always room enough: see the module comment.
  const mustWait = (bytes: number): boolean =>
    pendingBytes > 0 && pendingBytes + bytes > maxPendingBytes

  const admitWaiting = (): void => {
    while (waitingForRoom.length > 0) {
      const next = waitingForRoom[0]
      if (next === undefined || mustWait(next.bytes)) return
      waitingForRoom.shift()
      leave(next)
      next.admit()
    }
  }

  /** Gives up on `waiter` after `ms`, unless it was admitted or refused before. */
  const expire = (waiter: Waiter, ms: number): void => {
    setTimeout(() => {
      const at = waitingForRoom.indexOf(waiter)
      if (at < 0) return
      waitingForRoom.splice(at, 1)
      admitWaiting()
      leave(waiter)
      waiter.refuse(backpressure(ms))
    }, ms).unref()
  }

  return {
    request: (bytes, admit, refuse) => {
      const admitted = (): void => {
        pendingBytes += bytes
        pendingAppends++
        admit()
      }
      if (waitingForRoom.length === 0 && !mustWait(bytes)) return admitted()
      const waiter = { bytes, since: performance.now(), admit: admitted, refuse }
      waitingForRoom.push(waiter)
      waitingBytes += bytes
      waits++
      if (appendTimeoutMs !== undefined) expire(waiter, appendTimeoutMs)
    },
    release: (bytes) => {
      pendingBytes -= bytes
      pendingAppends--
    },
    admitWaiting,
    refuseWaiting: (error) => {
      for (const waiter of waitingForRoom.splice(0)) {
        leave(waiter)
        waiter.refuse(error)
      }
    },
    waiting: () => waitingForRoom.length,
    load: () => ({
      pendingAppends: pendingAppends + waitingForRoom.length,
      pendingBytes: pendingBytes + waitingBytes,
      waits,
      waitedMs,
      waiting: waitingForRoom.length,
    }),
  }
}
