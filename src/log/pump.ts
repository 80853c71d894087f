/**
 * The drain loop of a single-writer queue, shared by the log's writer and the event store's:
 * one step at a time while there is work, never two at once, and a tick between steps.
 *
 * The tick is what makes group commit work. The callers a step settled usually queue again at
 * once, each a few promise steps later; a tick runs only once the microtask queue is empty, so
 * after it the next step takes all of them, instead of a step (and an fsync) for the quickest.
 */

/** A queue's drain loop; see `makePump`. */
export interface Pump {
  /** Starts draining unless a drain is already running (which then sees the new work). */
  readonly kick: () => void
  /** True while a drain runs. */
  readonly running: () => boolean
}

/** What a pump drains. */
export interface PumpSteps {
  /** Whether there is a step to take now. Checked before each step. */
  readonly hasWork: () => boolean
  /** Takes one step: usually everything queued, as one batch. Never rejects. */
  readonly step: () => Promise<void>
  /** Runs when a drain ends, because `hasWork()` said no. */
  readonly onIdle?: () => void
}

/** The drain loop over `steps`. REQUIRES: `step` settles every request it takes. */
export const makePump = (steps: PumpSteps): Pump => {
  let draining = false
  const drain = async (): Promise<void> => {
    if (draining) return
    draining = true
    try {
      while (steps.hasWork()) {
        await steps.step()
        await new Promise<void>((resolve) => process.nextTick(resolve))
      }
    } finally {
      draining = false
      steps.onIdle?.()
    }
  }
  return {
    kick: () => void drain(),
    running: () => draining,
  }
}
