/**
 * A walk through the pure core, run by `npm start`: three commits of appends go through the
 * allocator and become Deltas, the process "restarts" from the last persisted SeqBlock, and the
 * allocator resumes past every number it may have handed out.
 */
import * as E from 'fp-ts/lib/Either.js'
import * as O from 'fp-ts/lib/Option.js'
import { keyBytes } from '../codec/keys.js'
import { buildDelta, toBatch, type EntryRecord } from '../delta/delta.js'
import { load, peekNextSequence, type AllocatorState } from '../sequence/allocator.js'
import { encodeSeqBlock, nextBase, type SeqBlock } from '../sequence/seqBlock.js'

const BLOCK_SIZE = 4

const orThrow = <A>(result: E.Either<{ readonly message: string }, A>): A => {
  if (E.isLeft(result)) throw new Error(result.left.message)
  return result.right
}

const records = (key: string, ...values: ReadonlyArray<string>): ReadonlyArray<EntryRecord> =>
  values.map((value) => ({ key: keyBytes(key), value: keyBytes(value) }))

const showBlock = (block: SeqBlock): string =>
  `SeqBlock [${block.baseSequence}, ${nextBase(block)}) = ${Buffer.from(encodeSeqBlock(block)).toString('hex')}`

const commit = (
  state: AllocatorState,
  appends: ReadonlyArray<ReadonlyArray<EntryRecord>>,
  persisted: O.Option<SeqBlock>,
): { readonly state: AllocatorState; readonly persisted: O.Option<SeqBlock> } => {
  const built = orThrow(buildDelta(state, appends))
  const batch = toBatch(built.delta)
  for (const [i, range] of built.ranges.entries()) {
    const last = range.startSequence + range.count - 1
    console.log(
      `  append ${i + 1}: ${range.count} record(s) → sequences ${range.startSequence}..${last}`,
    )
  }
  console.log(
    `  one atomic batch of ${batch.length} put(s)` +
      (O.isSome(built.delta.seqBlock)
        ? `, including ${showBlock(built.delta.seqBlock.value)}`
        : ''),
  )
  return {
    state: built.state,
    persisted: O.isSome(built.delta.seqBlock) ? built.delta.seqBlock : persisted,
  }
}

const main = (): void => {
  console.log(`deltalog: the sequence allocator and Delta, block size ${BLOCK_SIZE}\n`)
  let state = orThrow(load(O.none, BLOCK_SIZE))
  let persisted: O.Option<SeqBlock> = O.none

  console.log('commit 1: two appends grouped into one Delta')
  ;({ state, persisted } = commit(
    state,
    [records('orders', 'order-1', 'order-2'), records('users', 'alice')],
    persisted,
  ))
  console.log('commit 2: an append that crosses the block boundary')
  ;({ state, persisted } = commit(state, [records('orders', 'order-3', 'order-4')], persisted))

  console.log(
    `\nrestart: the last persisted block is ${O.isSome(persisted) ? showBlock(persisted.value) : 'none'}`,
  )
  const before = peekNextSequence(state)
  state = orThrow(load(persisted, BLOCK_SIZE))
  const after = peekNextSequence(state)
  console.log(
    `  next sequence was ${before}, resumes at ${after}: ${after - before} number(s) skipped, none reused`,
  )

  console.log('commit 3: after the restart')
  ;({ state } = commit(state, [records('orders', 'order-5')], persisted))
  console.log(`\nnext sequence: ${peekNextSequence(state)}`)
}

main()
