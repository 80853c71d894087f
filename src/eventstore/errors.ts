/**
 * The event store's errors: what its appends, reads and runs refuse or stop with. The catalogue
 * of every code (../errors.ts) counts them and hands them on; docs/errors.md describes each.
 */

/** What an event-store append expected of its stream. */
export type ExpectedRevision = 'any' | 'no_stream' | 'stream_exists' | number

/** An event-store append's expectation did not hold; nothing was written. */
export interface WrongExpectedRevisionError {
  readonly code: 'WRONG_EXPECTED_REVISION'
  readonly message: string
  readonly streamId: string
  readonly expected: ExpectedRevision
  readonly actual: number | 'no_stream'
}

/** An event id is already used by another event; nothing was written. */
export interface EventIdConflictError {
  readonly code: 'EVENT_ID_CONFLICT'
  readonly message: string
  readonly id: string
}

/**
 * An append's condition did not hold: an event matching its query exists above `after` (or at
 * all, without `after`); nothing was written. `position` is the first such event's.
 */
export interface AppendConditionFailedError {
  readonly code: 'APPEND_CONDITION_FAILED'
  readonly message: string
  readonly position: number
  readonly after: number | undefined
}

/**
 * A stored event could not be read in its type's current shape: its data did not pass the codec
 * given for its type, its stored version is newer than the code knows, or an upcaster failed.
 */
export interface DecodeFailedError {
  readonly code: 'DECODE_FAILED'
  readonly message: string
  readonly streamId: string
  readonly revision: number
  readonly position?: number
  /** The event's type as stored. */
  readonly type?: string
  /** The version of its type's schema it was stored in. */
  readonly storedVersion?: number
  /** The newest version of that type the code knows (its upcasters' chain length + 1). */
  readonly knownVersion?: number
  /** What an upcaster threw. */
  readonly cause?: unknown
}

/**
 * A consumer's handler (or a projection's `evolve` or `key`) kept failing on a batch of events:
 * the consumer stopped there, its checkpoint before the batch, so nothing was skipped.
 * `position` is the batch's first event's, `through` its last's; `cause` is what the last
 * attempt threw.
 */
export interface HandlerFailedError {
  readonly code: 'HANDLER_FAILED'
  readonly message: string
  /** The consumer's or projection's name. */
  readonly name: string
  readonly position: number
  readonly through: number
  readonly attempts: number
  readonly cause: unknown
}

export const handlerFailed = (
  name: string,
  position: number,
  through: number,
  attempts: number,
  cause: unknown,
): HandlerFailedError => ({
  code: 'HANDLER_FAILED',
  message: `${name} failed on the events at positions ${position}..${through} after ${attempts} attempt${attempts === 1 ? '' : 's'}: ${cause instanceof Error ? cause.message : String(cause)}`,
  name,
  position,
  through,
  attempts,
  cause,
})
