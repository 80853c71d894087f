/**
 * The writer's steps: what one turn of its drain loop does with the head of its queue — commit
 * every append and flush before the next truncation or placement as ONE batch, write placed
 * entries, or truncate — and the bookkeeping after a write, written once (`advance`,
 * `markDurable`, `stop`). The allocator state advances only after a batch is written; a failed
 * write stops the writer, so that a number from a block whose record was not persisted can never
 * be handed out or persisted later.
 */
import * as E from 'fp-ts/lib/Either.js'
import * as O from 'fp-ts/lib/Option.js'
import type { ChainLink } from '../codec/commit.js'
import {
  buildDelta,
  placeDelta,
  toCommitBatch,
  type AppendRange,
  type Entry,
  type Records,
  type Segment,
} from '../delta/delta.js'
import { writerFailed, type DeltalogErrorValue } from '../errors.js'
import type { AllocatorState } from '../sequence/allocator.js'
import type { Storage } from '../storage/port.js'
import type { Admission } from './admission.js'
import { groupLength } from './group.js'
import type { Durability } from './options.js'
import { observeCommit, type Observer } from './observe.js'
import { markTruncation, removeTruncated } from './truncate.js'
import type { Truncation } from '../codec/truncation.js'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

export type Settle<A> = (result: E.Either<DeltalogErrorValue, A>) => void

export interface AppendRequest {
  readonly kind: 'append'
  readonly records: Records
  readonly bytes: number
  readonly settle: Settle<AppendRange>
}
export interface FlushRequest {
  readonly kind: 'flush'
  readonly settle: Settle<void>
}
export interface TruncateRequest {
  readonly kind: 'truncate'
  readonly before: number
  readonly settle: Settle<number>
}
export interface PlaceRequest {
  readonly kind: 'place'
  readonly entries: ReadonlyArray<Entry>
  readonly settle: Settle<void>
}

/** What callers queue for the writer. */
export type Request = AppendRequest | FlushRequest | TruncateRequest | PlaceRequest

/** What the steps need of the writer's configuration. */
export interface StepConfig {
  readonly storage: Storage
  readonly durability: Durability
  /** Called after every commit, sync or truncation that changed what readers may see. */
  readonly onChange: () => void
  /**
   * Called with each commit's segments once its batch is written, before `onChange`: every
   * entry with a sequence below `end` and at or above the previous commit's `end` is in them.
   */
  readonly onCommit?: (segments: ReadonlyArray<Segment>, end: number) => void
  /** Called when a failed write stops the writer. */
  readonly onStop?: () => void
  /** Who sees each commit (tracing channels and `log.metrics()`): see observe.ts. */
  readonly observer?: Observer
}

/** The writer's state. Only the steps and the writer's close change it. */
export interface WriterState {
  allocator: AllocatorState
  /** The chain's end: the link of the last commit written. */
  link: ChainLink
  /** Exclusive: every sequence below it is durable. */
  durableEnd: number
  /** The link of the last durable commit: the chain's end as a power loss would leave it. */
  durableLink: ChainLink
  truncation: Truncation
  /** Set when a failed write stopped the writer. */
  failure: O.Option<DeltalogErrorValue>
}

/** What every step works on. */
export interface WriterCore {
  readonly config: StepConfig
  readonly state: WriterState
  readonly queue: Request[]
  readonly admission: Admission
}

// -------------------------------------------------------------------------------------
// after a write
// -------------------------------------------------------------------------------------

/**
 * Everything below `end` is durable now, and `link` is the chain's end as it stood at `end`.
 * REQUIRES: a synced write (or sync) covering every commit up to `link` resolved.
 */
export const markDurable = (state: WriterState, end: number, link: ChainLink): void => {
  state.durableEnd = Math.max(state.durableEnd, end)
  state.durableLink = link
}

/**
 * The bookkeeping after a commit's batch was written, for appends and placements alike: the
 * allocator and the chain move past it, the durable watermark too when it was synced, and the
 * hot tail gets its entries. The caller then settles its requests and calls `onChange`.
 * REQUIRES: the batch of a Delta built from `state.allocator` (giving `next`) and chained from
 * `state.link` (giving `link`) was written, with `sync` as given.
 */
const advance = (
  core: WriterCore,
  next: AllocatorState,
  link: ChainLink,
  sync: boolean,
  segments: ReadonlyArray<Segment>,
): void => {
  const { state } = core
  state.allocator = next
  state.link = link
  if (sync) markDurable(state, next.nextSequence, link)
  core.config.onCommit?.(segments, next.nextSequence)
}

/**
 * Stops the writer after a failed write: every queued request and every append waiting for room
 * is refused with `WRITER_FAILED`. REQUIRES: the requests of the failed step were settled.
 */
export const stop = (core: WriterCore, cause: DeltalogErrorValue): void => {
  const { config, state, queue, admission } = core
  state.failure = O.some(cause)
  config.onStop?.()
  const error = writerFailed(cause)
  for (const request of queue.splice(0)) {
    if (request.kind === 'append') admission.release(request.bytes)
    request.settle(E.left(error))
  }
  admission.refuseWaiting(error)
}

// -------------------------------------------------------------------------------------
// steps
// -------------------------------------------------------------------------------------

/**
 * One turn of the drain loop: the truncation or placement at the head of the queue alone, or
 * the appends and flushes before the next one, within `MAX_COMMIT_BYTES` (group.ts), as one
 * group, one batch.
 * REQUIRES: the queue is not empty, the writer has not failed, and no other step runs.
 */
export const takeStep = async (core: WriterCore): Promise<void> => {
  const { queue } = core
  const cut = queue.findIndex((r) => r.kind === 'truncate' || r.kind === 'place')
  const head = queue[0]
  if (cut === 0 && head?.kind === 'truncate') {
    queue.shift()
    await truncate(core, head)
  } else if (cut === 0 && head?.kind === 'place') {
    queue.shift()
    await place(core, head)
  } else {
    await observeCommit(core, queue.splice(0, groupLength(queue)), commitGroup)
  }
}

/**
 * Writes one group of appends and flushes as a single batch.
 * REQUIRES: `group` holds appends and flushes only, taken off the queue; the appends' bytes are
 * counted pending.
 */
const commitGroup = async (core: WriterCore, group: ReadonlyArray<Request>): Promise<void> => {
  const { config, state, admission } = core
  const appends = group.flatMap((r) => (r.kind === 'append' ? [r] : []))
  const flushes = group.flatMap((r) => (r.kind === 'flush' ? [r] : []))
  const built = buildDelta(
    state.allocator,
    appends.map((a) => a.records),
  )
  const release = (): void => {
    for (const a of appends) admission.release(a.bytes)
    admission.admitWaiting()
  }
  if (E.isLeft(built)) {
    // Nothing was allocated: the allocator keeps its state and the appends fail alone.
    release()
    for (const a of appends) a.settle(built)
    if (flushes.length > 0) await syncOnly(core, flushes)
    return
  }
  const delta = built.right.delta
  const { ops: batch, link: nextLink } = toCommitBatch(delta, state.link)
  if (batch.length === 0) {
    release()
    for (const a of appends)
      a.settle(E.right({ startSequence: state.allocator.nextSequence, count: 0 }))
    if (flushes.length > 0) await syncOnly(core, flushes)
    return
  }
  // A batch that carries a new SeqBlock is always synced, in buffered mode too: a number
  // acknowledged from a block is then never handed out again, whatever a crash takes. It
  // costs one fsync per block of numbers.
  const sync = config.durability === 'sync' || flushes.length > 0 || O.isSome(delta.seqBlock)
  const written = await config.storage.write(batch, { sync })()
  release()
  if (E.isLeft(written)) {
    for (const r of group) r.settle(E.left(written.left))
    stop(core, written.left)
    return
  }
  advance(core, built.right.state, nextLink, sync, delta.segments)
  built.right.ranges.forEach((range, i) => appends[i]?.settle(E.right(range)))
  for (const f of flushes) f.settle(E.right(undefined))
  config.onChange()
}

/** Makes every commit so far durable for flushes that came without appends. */
const syncOnly = async (core: WriterCore, flushes: ReadonlyArray<FlushRequest>): Promise<void> => {
  const { state } = core
  if (state.durableEnd >= state.allocator.nextSequence) {
    for (const f of flushes) f.settle(E.right(undefined))
    return
  }
  const target = state.allocator.nextSequence
  const targetLink = state.link
  const synced = await core.config.storage.write([], { sync: true })()
  if (E.isLeft(synced)) {
    for (const f of flushes) f.settle(E.left(synced.left))
    stop(core, synced.left)
    return
  }
  markDurable(state, target, targetLink)
  for (const f of flushes) f.settle(E.right(undefined))
  core.config.onChange()
}

/** Writes one Delta of entries at given sequences: one atomic batch with its SeqBlock. */
const place = async (core: WriterCore, request: PlaceRequest): Promise<void> => {
  const { config, state } = core
  const built = placeDelta(state.allocator, request.entries)
  if (E.isLeft(built)) return request.settle(built)
  const { ops: batch, link: nextLink } = toCommitBatch(built.right.delta, state.link)
  if (batch.length === 0) return request.settle(E.right(undefined))
  // As for appends: a batch that carries a new SeqBlock is always synced.
  const sync = config.durability === 'sync' || O.isSome(built.right.delta.seqBlock)
  const written = await config.storage.write(batch, { sync })()
  if (E.isLeft(written)) {
    request.settle(written)
    stop(core, written.left)
    return
  }
  advance(core, built.right.state, nextLink, sync, built.right.delta.segments)
  request.settle(E.right(undefined))
  config.onChange()
}

/** Removes every entry below `request.before` (never a number not yet handed out). */
const truncate = async (core: WriterCore, request: TruncateRequest): Promise<void> => {
  const { config, state } = core
  // Numbers not yet handed out cannot be truncated: later appends must stay visible.
  const before = Math.min(request.before, state.allocator.nextSequence)
  if (before <= state.truncation.before) return request.settle(E.right(state.truncation.before))
  // The truncation record is the atomic, durable point: one synced put. Readers hide entries
  // below it from now on; the deletions after it only reclaim space.
  const marked = await markTruncation(config.storage, before, state.truncation)
  if (E.isLeft(marked)) {
    request.settle(E.left(marked.left))
    stop(core, marked.left)
    return
  }
  state.truncation = marked.right
  markDurable(state, state.allocator.nextSequence, state.link)
  config.onChange()
  const removed = await removeTruncated(config.storage, state.truncation)
  request.settle(E.isLeft(removed) ? removed : E.right(before))
}
