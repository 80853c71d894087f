/**
 * What the planner (plan.ts) takes and gives: the requests queued at the store's writer, what it
 * knows of the store when it plans a batch, and the plan — the records of one commit and each
 * request's outcome.
 */
import type * as E from 'fp-ts/lib/Either.js'
import type {
  AppendConditionFailedError,
  EventIdConflictError,
  FencedError,
  ExpectedRevision,
  InvalidArgumentError,
  WrongExpectedRevisionError,
} from '../errors.js'
import type { EventInput, IdEntry } from './envelope.js'
import type { IndexedEvent } from './postings.js'
import type { Condition } from './query.js'
import type { Matched, StreamState } from './rules.js'

export type PlanError =
  | WrongExpectedRevisionError
  | EventIdConflictError
  | AppendConditionFailedError
  | InvalidArgumentError
  | FencedError

/** One stream's part of an append. */
export interface StreamWrite {
  readonly streamId: string
  readonly events: ReadonlyArray<EventInput>
  readonly expected: ExpectedRevision
}

/** A queued request. */
export type Request =
  | {
      readonly kind: 'append'
      readonly writes: ReadonlyArray<StreamWrite>
      readonly checkpoint?: { readonly name: string; readonly position: number }
      /** Whether the caller gave one stream's events (`appendToStream`), not `writes`. */
      readonly single?: boolean
      /** No event matching its query may exist above its `after`. */
      readonly condition?: Condition
    }
  | { readonly kind: 'delete'; readonly streamId: string }
  | { readonly kind: 'checkpoint'; readonly name: string; readonly position: number }
  /**
   * Records of the store's own (a projection's documents and state, a snapshot) written as one
   * commit: refused if `below` is not below the head, or if `guard`'s key no longer holds what
   * its writer last saw there.
   */
  | {
      readonly kind: 'records'
      readonly records: ReadonlyArray<Record>
      /** A position the records name (a checkpoint): it must be below the head. */
      readonly below?: number
      readonly guard?: Guard
    }

/**
 * A compare-and-set on one key: the newest value of `key` (as text; undefined for none) must be
 * `expected`, so that only the run that wrote it last writes it again; refused with `FENCED`
 * naming `what` otherwise.
 */
export interface Guard {
  readonly key: string
  readonly expected: string | undefined
  readonly what: string
}

/** A log record to write. */
export interface Record {
  readonly key: string
  readonly value: Uint8Array
}

/** How one stream's write ended. */
export type WriteOutcome =
  /** Written: its events are records `[first, first + count)` of the batch. */
  | {
      readonly kind: 'written'
      readonly lastRevision: number
      readonly first: number
      readonly count: number
    }
  /** A retry of events already stored, ending at `lastRevision`: nothing written. */
  | { readonly kind: 'duplicate'; readonly streamId: string; readonly lastRevision: number }

export type Outcome = E.Either<PlanError, ReadonlyArray<WriteOutcome>>

export interface Plan {
  /** The records of every accepted request, in order: one commit. */
  readonly records: ReadonlyArray<Record>
  /** Per request, in order. */
  readonly outcomes: ReadonlyArray<Outcome>
  /** The streams' states after the commit. */
  readonly states: ReadonlyMap<string, StreamState>
  /**
   * Per request refused by its condition because of an event of this batch: that event's record.
   * Its position is known only once the commit is: the request's error then says it.
   */
  readonly matchedInBatch: ReadonlyMap<number, number>
  /**
   * The requests to plan again in a later batch: the stored event that refused each one's
   * condition belongs to a stream that an earlier request of this batch deletes, and what the
   * condition then matches can only be read once that delete is written.
   */
  readonly again: ReadonlySet<number>
  /** The events the commit writes, by their records in it, for the writer's newest positions. */
  readonly events: ReadonlyArray<IndexedEvent>
}

/** What the planner may know of the store. */
export interface Known {
  /** The state of every stream a request names. */
  readonly streams: ReadonlyMap<string, StreamState>
  /** Every caller-given id of the batch that is already indexed. */
  readonly ids: ReadonlyMap<string, IdEntry>
  /**
   * Per request with a condition, the first stored event that matches it and that reads
   * return (its stream has not deleted it), if there is one.
   */
  readonly matched: ReadonlyMap<Request, Matched>
  /** The newest value, as text, of every guarded key a request names (absent: none). */
  readonly guarded: ReadonlyMap<string, string>
  /** Every checkpoint position must be below this. */
  readonly head: number
  readonly now: number
  /** The version of its type's schema an event of `type` is stored with: the current one. */
  readonly versionOf: (type: string) => number
  /** Makes an id for an event given none. */
  readonly newId: () => string
}
