/**
 * The faults a crash-simulating store injects: a test asks for the next operation of a kind to
 * fail (after letting some pass), and the store asks, operation by operation, whether this one
 * is it. Faults of one kind are taken in the order they were asked for.
 */
import { ioError, type StorageError } from '../errors.js'

/** What a fault fails. */
export type FaultKind =
  /** A write fails and applies nothing. */
  | 'write'
  /** A write asked to sync is applied but not made durable, and fails. */
  | 'sync'
  /** A `get`, `getMany` or iteration step fails. */
  | 'read'
  /** A write is applied (and synced when asked) but reports failure: the acknowledgement is lost. */
  | 'ack'

/** Every fault kind, for validation and messages. */
export const FAULT_KINDS: ReadonlyArray<FaultKind> = ['write', 'sync', 'read', 'ack']

/** The faults asked for and not yet injected. */
export interface Faults {
  /** Fails the next operation of `kind` after `skip` of them. REQUIRES: `skip` is a natural. */
  readonly add: (kind: FaultKind, skip: number) => void
  /** Whether this operation is the one a pending fault of `kind` fails; if so, it is spent. */
  readonly take: (kind: FaultKind) => boolean
}

export const makeFaults = (): Faults => {
  const pending: Array<{ kind: FaultKind; skip: number }> = []
  return {
    add: (kind, skip) => {
      pending.push({ kind, skip })
    },
    take: (kind) => {
      const at = pending.findIndex((f) => f.kind === kind)
      const fault = pending[at]
      if (fault === undefined) return false
      if (fault.skip > 0) {
        fault.skip--
        return false
      }
      pending.splice(at, 1)
      return true
    },
  }
}

/** The error an injected fault fails with. */
export const injected = (what: string): StorageError =>
  ioError(`injected ${what} fault`, new Error(what))
