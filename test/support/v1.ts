// Format 1 logs, written the way deltalog 0.1 wrote them, for the tests of their conversion:
// commits of one batch each (entries, commit index, SeqBlock) through the allocator, restarts
// that skip the rest of a block, and the truncation watermark.
import * as E from 'fp-ts/lib/Either.js'
import * as O from 'fp-ts/lib/Option.js'
import { writeU64 } from '../../src/codec/u64.js'
import type { Batch, BatchOp } from '../../src/delta/batch.js'
import { buildDelta, entriesOf, recordsOf, type Delta, type Entry } from '../../src/delta/delta.js'
import { encodeCommitIndexKey, encodeRuns, toRuns } from '../../src/format/v1/commitIndex.js'
import { encodeEntryKey, v1SeqBlockKey, v1TruncatedBeforeKey } from '../../src/format/v1/keys.js'
import { load } from '../../src/sequence/allocator.js'
import { decodeSeqBlock, encodeSeqBlock } from '../../src/sequence/seqBlock.js'
import type { Storage } from '../../src/storage/port.js'

const text = new TextEncoder()

const must = <A>(result: E.Either<{ readonly message: string }, A>): A => {
  if (E.isLeft(result)) throw new Error(result.left.message)
  return result.right
}

/** Entries in sequence order, split where a sequence is skipped: one commit each. */
const commitsOf = (entries: ReadonlyArray<Entry>): ReadonlyArray<ReadonlyArray<Entry>> => {
  const commits: Entry[][] = []
  for (const entry of entries) {
    const current = commits[commits.length - 1]
    const last = current?.[current.length - 1]
    if (current !== undefined && last !== undefined && entry.sequence === last.sequence + 1) {
      current.push(entry)
    } else {
      commits.push([entry])
    }
  }
  return commits
}

/**
 * The batch of a Delta in on-disk format 1, as deltalog 0.1 wrote it: the SeqBlock record (when
 * there is one), a put per entry, and one commit index record for each run of consecutive
 * sequences. The engine writes format 2 (`toCommitBatch`).
 */
export const toBatchV1 = (delta: Delta): Batch => {
  const ops: BatchOp[] = []
  if (O.isSome(delta.seqBlock)) {
    ops.push({ type: 'put', key: v1SeqBlockKey, value: encodeSeqBlock(delta.seqBlock.value) })
  }
  for (const group of commitsOf(entriesOf(delta.segments))) {
    const first = group[0]
    if (first === undefined) continue
    for (const entry of group) {
      ops.push({ type: 'put', key: encodeEntryKey(entry.key, entry.sequence), value: entry.value })
    }
    ops.push({
      type: 'put',
      key: encodeCommitIndexKey(first.sequence),
      value: encodeRuns(toRuns(group.map((e) => e.key))),
    })
  }
  return ops
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
    const stored = must(await storage.get(v1SeqBlockKey)())
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
    must(await storage.write([{ type: 'put', key: v1TruncatedBeforeKey, value }], { sync: true })())
  }
}
