// Format 1 logs, written the way deltalog 0.1 wrote them, for the tests of their conversion:
// commits of one batch each (entries, commit index, SeqBlock) through the allocator, restarts
// that skip the rest of a block, and the truncation watermark.
import * as E from 'fp-ts/lib/Either.js'
import * as O from 'fp-ts/lib/Option.js'
import { seqBlockKey, truncatedBeforeKey } from '../src/codec/keys.js'
import { writeU64 } from '../src/codec/u64.js'
import { buildDelta, recordsOf, toBatchV1 } from '../src/delta/delta.js'
import { load } from '../src/sequence/allocator.js'
import { decodeSeqBlock } from '../src/sequence/seqBlock.js'
import type { Storage } from '../src/storage/port.js'

const text = new TextEncoder()

const must = <A>(result: E.Either<{ readonly message: string }, A>): A => {
  if (E.isLeft(result)) throw new Error(result.left.message)
  return result.right
}

/**
 * Writes `rounds` of commits as format 1, each round as a restarted process would (resuming
 * past the stored block), and then, if given, the truncation watermark `truncateBefore`.
 */
export const writeV1Log = async (
  storage: Storage,
  rounds: ReadonlyArray<ReadonlyArray<ReadonlyArray<{ key: string; value: string }>>>,
  options: { readonly blockSize: number; readonly truncateBefore?: number },
): Promise<void> => {
  for (const commits of rounds) {
    const stored = must(await storage.get(seqBlockKey)())
    let state = must(
      load(
        O.isSome(stored) ? O.some(must(decodeSeqBlock(stored.value))) : O.none,
        options.blockSize,
      ),
    )
    for (const records of commits) {
      const appends = [
        recordsOf(records.map((r) => ({ key: text.encode(r.key), value: text.encode(r.value) }))),
      ]
      const built = must(buildDelta(state, appends))
      must(await storage.write(toBatchV1(built.delta), { sync: true })())
      state = built.state
    }
  }
  if (options.truncateBefore !== undefined) {
    const value = new Uint8Array(8)
    writeU64(value, 0, options.truncateBefore)
    must(await storage.write([{ type: 'put', key: truncatedBeforeKey, value }], { sync: true })())
  }
}
