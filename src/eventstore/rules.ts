/**
 * What the planner (plan.ts) decides by: a stream's state and whether an expectation holds of
 * it, and the errors of the requests it refuses.
 */
import {
  fenced,
  type AppendConditionFailedError,
  type EventIdConflictError,
  type ExpectedRevision,
  type FencedError,
  type InvalidArgumentError,
  type WrongExpectedRevisionError,
} from '../errors.js'

/** A stream's state: its last revision (−1 for none) and its soft-delete point. */
export interface StreamState {
  readonly lastRevision: number
  readonly deletedBefore: number
}

export const emptyStream: StreamState = { lastRevision: -1, deletedBefore: 0 }

/** Whether a stream has events that are not deleted. */
export const exists = (s: StreamState): boolean => s.lastRevision >= s.deletedBefore

/** The revision an expectation is compared with. */
export const actualRevision = (s: StreamState): number | 'no_stream' =>
  exists(s) ? s.lastRevision : 'no_stream'

/** Whether `expected` holds for a stream in state `s`. */
export const satisfies = (expected: ExpectedRevision, s: StreamState): boolean =>
  expected === 'any'
    ? true
    : expected === 'no_stream'
      ? !exists(s)
      : expected === 'stream_exists'
        ? exists(s)
        : exists(s) && s.lastRevision === expected

export const wrongRevision = (
  streamId: string,
  expected: ExpectedRevision,
  s: StreamState,
): WrongExpectedRevisionError => ({
  code: 'WRONG_EXPECTED_REVISION',
  message: `stream ${JSON.stringify(streamId)}: expected revision ${String(expected)}, actual ${String(actualRevision(s))}`,
  streamId,
  expected,
  actual: actualRevision(s),
})

export const idConflict = (id: string): EventIdConflictError => ({
  code: 'EVENT_ID_CONFLICT',
  message: `event id ${JSON.stringify(id)} is already used by another event`,
  id,
})

/**
 * An append refused by its condition: the event at `position` matches it (−1 while the event's
 * commit is not written: see `Plan.matchedInBatch`).
 */
export const conditionFailed = (
  position: number,
  after: number | undefined,
): AppendConditionFailedError => ({
  code: 'APPEND_CONDITION_FAILED',
  message: `the event at position ${position} matches the append's condition${after === undefined ? '' : ` above position ${after}`}`,
  position,
  after,
})

export const afterBeyondHead = (after: number, head: number): InvalidArgumentError => ({
  code: 'INVALID_ARGUMENT',
  field: 'condition.after',
  message: `condition.after: ${after} is past the head of the log (${head - 1})`,
})

export const beyondHead = (position: number, head: number): InvalidArgumentError => ({
  code: 'INVALID_ARGUMENT',
  field: 'checkpoint.position',
  message: `checkpoint.position: ${position} is past the head of the log (${head - 1})`,
})

/** A guarded write whose key another run wrote since this one read it. */
export const staleGuard = (what: string): FencedError =>
  fenced(`${what} was saved by another run since this one read it: only one run of it may write`)

/** A stored event that matches an append's condition: where it is, and which stream holds it. */
export interface Matched {
  readonly position: number
  readonly streamId: string
  readonly revision: number
}
