/**
 * The listeners of `watch`, on one connection that LISTENs to the log's channel while any are
 * registered: each commit that changed the log notifies the channel, and every listener is
 * called. A lost connection is made again (waiting longer after each failure, up to
 * MAX_RETRY_MS), and then every listener is called, since commits may have gone untold.
 */
import type { Pool, PoolClient } from 'pg'

/** What the storage's `watch` and `close` use. */
export interface Notifier {
  /**
   * Registers `listener` once the connection listens (or is being made again); resolves with
   * the function that removes it.
   */
  readonly add: (listener: () => void) => Promise<() => Promise<void>>
  /** Removes every listener and lets the connection go, for good. */
  readonly stop: () => Promise<void>
}

// How long a lost notification connection waits before it connects again, at most.
const MAX_RETRY_MS = 2000

/** A connection that LISTENs (or is about to), and whether it was let go. */
interface Listening {
  readonly client: PoolClient
  /** Calls every listener: the connection's `notification` handler. */
  readonly tell: () => void
  dropped: boolean
}

interface State {
  readonly pool: Pool
  readonly channel: string
  readonly listeners: Set<() => void>
  /** The connection that listens, once its LISTEN succeeded and until it is lost or let go. */
  current: Listening | undefined
  /** The connection being made, if one is. */
  connecting: Promise<void> | undefined
  retryMs: number
  retry: ReturnType<typeof setTimeout> | undefined
  stopped: boolean
}

export const makeNotifier = (pool: Pool, channel: string): Notifier => {
  const state: State = {
    pool,
    channel,
    listeners: new Set(),
    current: undefined,
    connecting: undefined,
    retryMs: 0,
    retry: undefined,
    stopped: false,
  }
  return { add: (listener) => add(state, listener), stop: () => stop(state) }
}

const add = async (state: State, listener: () => void): Promise<() => Promise<void>> => {
  if (state.current === undefined && state.retry === undefined) await connect(state)
  state.listeners.add(listener)
  return async () => {
    state.listeners.delete(listener)
    if (state.listeners.size === 0) {
      await state.connecting?.catch(() => undefined)
      if (state.listeners.size === 0) disconnect(state)
    }
  }
}

const stop = async (state: State): Promise<void> => {
  state.stopped = true
  state.listeners.clear()
  await state.connecting?.catch(() => undefined)
  disconnect(state)
}

/** Calls every listener; a listener's failure is its own, not the connection's. */
const tellAll = (state: State): void => {
  for (const listener of [...state.listeners]) {
    try {
      listener()
    } catch {
      // ignored
    }
  }
}

/** Makes the listening connection, or joins the attempt in progress. */
const connect = (state: State): Promise<void> => {
  state.connecting ??= listen(state).finally(() => (state.connecting = undefined))
  return state.connecting
}

/**
 * Takes a connection, LISTENs on it, and makes it the current one; a connection whose LISTEN
 * failed is let go and the failure thrown.
 * REQUIRES: called by `connect` alone, so that one connection at a time is being made.
 */
const listen = async (state: State): Promise<void> => {
  const client = await state.pool.connect()
  const listening: Listening = { client, tell: () => tellAll(state), dropped: false }
  client.on('error', (error) => lost(state, listening, error))
  client.on('end', () => lost(state, listening))
  client.on('notification', listening.tell)
  try {
    await client.query(`LISTEN "${state.channel}"`)
  } catch (error) {
    drop(listening, error)
    throw error
  }
  state.current = listening
}

/**
 * Lets a connection go, once. Released with an error, the pool ends the connection rather than
 * reuse it.
 */
const drop = (listening: Listening, error?: unknown): void => {
  if (listening.dropped) return
  listening.dropped = true
  listening.client.removeListener('notification', listening.tell)
  listening.client.release(error instanceof Error ? error : true)
}

/**
 * A connection ended or failed: it is let go, and made again later if it was the one
 * listening and listeners remain. One lost while it was being made fails its `connect()`,
 * whose caller decides.
 */
const lost = (state: State, listening: Listening, error?: unknown): void => {
  if (listening.dropped) return
  drop(listening, error)
  if (state.current !== listening) return
  state.current = undefined
  if (!state.stopped && state.listeners.size > 0) scheduleRetry(state)
}

/**
 * Connects again after a wait that doubles with each failure (from 50 ms up to MAX_RETRY_MS),
 * then tells every listener, since commits may have gone untold meanwhile.
 * REQUIRES: nothing listens; does nothing if a retry is already scheduled.
 */
const scheduleRetry = (state: State): void => {
  if (state.retry !== undefined || state.current !== undefined || state.stopped) return
  state.retryMs = Math.min(Math.max(state.retryMs * 2, 50), MAX_RETRY_MS)
  state.retry = setTimeout(() => {
    state.retry = undefined
    if (state.stopped || state.listeners.size === 0 || state.current !== undefined) return
    connect(state).then(
      () => {
        state.retryMs = 0
        tellAll(state)
      },
      () => scheduleRetry(state),
    )
  }, state.retryMs)
}

/** Cancels a scheduled retry and lets the listening connection go. */
const disconnect = (state: State): void => {
  if (state.retry !== undefined) clearTimeout(state.retry)
  state.retry = undefined
  if (state.current !== undefined) drop(state.current)
  state.current = undefined
}
