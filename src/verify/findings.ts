/**
 * What a verification gathers as it reads: the violations it finds (the first ones listed, all
 * counted), how many records it has checked (told to `onProgress` now and then), and the walk
 * over a key range that every pass reads through.
 */
import * as E from 'fp-ts/lib/Either.js'
import * as O from 'fp-ts/lib/Option.js'
import { stopIfAborted, type StorageError } from '../errors.js'
import type { KeyValue, Storage } from '../storage/port.js'

/** Violations listed in a report; the rest are only counted. */
export const MAX_LISTED_VIOLATIONS = 50

/** Records between two calls of `onProgress`. */
const PROGRESS_EVERY = 1024

/** The violations and the count of records checked, as a verification goes. */
export interface Findings {
  readonly violate: (message: string) => void
  /** Counts one record checked. */
  readonly progress: () => void
  /** Tells `onProgress` the final count. */
  readonly done: () => void
  readonly violationCount: () => number
  readonly violations: () => ReadonlyArray<string>
}

/**
 * The findings of one verification. Once `signal` aborts, the next record counted throws
 * `ABORTED` as a `DeltalogError`, which ends the walk (its iterator closed) and the verification.
 */
export const makeFindings = (
  onProgress?: (records: number) => void,
  signal?: AbortSignal,
): Findings => {
  let checked = 0
  let violationCount = 0
  const violations: string[] = []
  return {
    violate: (message) => {
      violationCount++
      if (violations.length < MAX_LISTED_VIOLATIONS) violations.push(message)
    },
    progress: () => {
      stopIfAborted(signal, 'verify')
      checked++
      if (checked % PROGRESS_EVERY === 0) onProgress?.(checked)
    },
    done: () => onProgress?.(checked),
    violationCount: () => violationCount,
    violations: () => [...violations],
  }
}

/** A key range of a pass. */
export interface Range {
  readonly gte?: Uint8Array
  readonly lt?: Uint8Array
}

/** Every pair of a range, chunk by chunk, through `visit`; `left` if the storage fails. */
export const walk = async (
  storage: Storage,
  range: Range,
  visit: (pair: KeyValue) => Promise<E.Either<StorageError, void>> | void,
): Promise<E.Either<StorageError, void>> => {
  const iterator = storage.iterator(range)
  if (E.isLeft(iterator)) return iterator
  try {
    for (;;) {
      const chunk = await iterator.right.next()()
      if (E.isLeft(chunk)) return chunk
      if (O.isNone(chunk.right)) return E.right(undefined)
      for (const pair of chunk.right.value) {
        const done = await visit(pair)
        if (done !== undefined && E.isLeft(done)) return done
      }
    }
  } finally {
    await iterator.right.close()
  }
}
