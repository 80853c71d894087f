/**
 * Verification of a whole store: reads it through the Storage port in one ordered pass and runs
 * the pure checks of check.ts over it, looking up the entries that commit index records name in
 * multi-gets of bounded size. Memory stays bounded whatever the size of the log.
 */
import * as E from 'fp-ts/lib/Either.js'
import * as O from 'fp-ts/lib/Option.js'
import { encodeEntryKey, seqBlockKey, truncatedBeforeKey } from '../codec/keys.js'
import type { StorageError } from '../errors.js'
import type { Storage } from '../storage/port.js'
import {
  checkLookups,
  checkPair,
  finishCheck,
  startCheck,
  type CheckState,
  type Lookup,
  type VerifyReport,
} from './check.js'

export type { VerifyReport } from './check.js'

// Entries looked up per multi-get.
const LOOKUP_BATCH = 1024

/**
 * Reads every pair of `storage` and checks the log it holds. `onProgress` is told how many pairs
 * were checked so far, now and then. Fails only when the storage does; what is wrong with the
 * log itself is in the report.
 */
export const verifyStorage = async (
  storage: Storage,
  onProgress: (pairs: number) => void = () => undefined,
): Promise<E.Either<StorageError, VerifyReport>> => {
  const stored = await storage.getMany([seqBlockKey, truncatedBeforeKey])()
  if (E.isLeft(stored)) return stored
  const [block, watermark] = stored.right
  let state: CheckState = startCheck(block ?? O.none, watermark ?? O.none)
  let pending: Lookup[] = []

  const resolve = async (): Promise<E.Either<StorageError, void>> => {
    if (pending.length === 0) return E.right(undefined)
    const lookups = pending
    pending = []
    const found = await storage.getMany(lookups.map((l) => encodeEntryKey(l.key, l.sequence)))()
    if (E.isLeft(found)) return found
    state = checkLookups(
      state,
      lookups,
      found.right.map((v) => O.isSome(v)),
    )
    return E.right(undefined)
  }

  const iterator = storage.iterator({})
  if (E.isLeft(iterator)) return iterator
  try {
    for (;;) {
      const chunk = await iterator.right.next()()
      if (E.isLeft(chunk)) return chunk
      if (O.isNone(chunk.right)) break
      for (const pair of chunk.right.value) {
        const checked = checkPair(state, pair)
        state = checked.state
        pending.push(...checked.lookups)
        if (pending.length >= LOOKUP_BATCH) {
          const done = await resolve()
          if (E.isLeft(done)) return done
        }
      }
      onProgress(state.pairs)
    }
  } finally {
    await iterator.right.close()
  }
  const done = await resolve()
  if (E.isLeft(done)) return done
  return E.right(finishCheck(state))
}
