/**
 * The single writer: a queue of appends, flushes and truncations, and group commit. While one
 * commit is in flight, new requests queue; the next commit takes every queued append as ONE
 * Delta — one atomic batch, one fsync — and still gives each caller its own contiguous range.
 *
 * The allocator state advances only after a batch is written. When a write fails, its appends
 * are rejected with the cause and the writer stops (`WRITER_FAILED`): a number from a block
 * whose record was not persisted can never be handed out or persisted later.
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
import { backpressure, closed, readOnly, writerFailed, type DeltalogErrorValue } from '../errors.js'
import type { AllocatorState } from '../sequence/allocator.js'
import type { Storage } from '../storage/port.js'
import type { Durability } from './options.js'
import { markTruncation, removeTruncated } from './truncate.js'
import type { Truncation } from '../codec/truncation.js'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

type Settle<A> = (result: E.Either<DeltalogErrorValue, A>) => void

type Request =
  | {
      readonly kind: 'append'
      readonly records: Records
      readonly bytes: number
      readonly settle: Settle<AppendRange>
    }
  | { readonly kind: 'flush'; readonly settle: Settle<void> }
  | { readonly kind: 'truncate'; readonly before: number; readonly settle: Settle<number> }
  | {
      readonly kind: 'place'
      readonly entries: ReadonlyArray<Entry>
      readonly settle: Settle<void>
    }

export interface WriterConfig {
  readonly storage: Storage
  readonly durability: Durability
  readonly maxPendingBytes: number
  readonly appendTimeoutMs: number | undefined
  readonly syncIntervalMs: number | undefined
  /** Called after every commit, sync or truncation that changed what readers may see. */
  readonly onChange: () => void
  /**
   * Called with each commit's segments once its batch is written, before `onChange`: every
   * entry with a sequence below `end` and at or above the previous commit's `end` is in them.
   */
  readonly onCommit?: (segments: ReadonlyArray<Segment>, end: number) => void
  /** Called when a failed write stops the writer. */
  readonly onStop?: () => void
}

export interface WriterStart {
  readonly allocator: AllocatorState
  readonly truncation: Truncation
  /** The chain's end: the link of the last commit record. */
  readonly link: ChainLink
}

/** The writer's view for readers: watermarks and the truncation point. */
export interface Writer {
  /** The next sequence the allocator hands out. */
  readonly nextSequence: () => number
  /** Every sequence below this is durable. */
  readonly durableSequence: () => number
  /** Entries below this were removed by `truncateBefore`. */
  readonly truncatedBefore: () => number
  /** The link of the last durable commit: the chain's end as a power loss would leave it. */
  readonly head: () => ChainLink
  readonly append: (
    records: Records,
    bytes: number,
  ) => Promise<E.Either<DeltalogErrorValue, AppendRange>>
  readonly flush: () => Promise<E.Either<DeltalogErrorValue, void>>
  readonly truncateBefore: (before: number) => Promise<E.Either<DeltalogErrorValue, number>>
  /** Writes entries at the sequences they carry, ascending and above every one handed out. */
  readonly appendAt: (entries: ReadonlyArray<Entry>) => Promise<E.Either<DeltalogErrorValue, void>>
  /** Commits everything already queued, syncs, and refuses new requests with `CLOSED`. */
  readonly close: () => Promise<E.Either<DeltalogErrorValue, void>>
}

// Each pending record counts its bytes plus this, so that many empty records still add up.
export const RECORD_OVERHEAD_BYTES = 32

// -------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------

export const makeWriter = (config: WriterConfig, start: WriterStart): Writer => {
  const { storage } = config
  let allocator = start.allocator
  let durableEnd = allocator.nextSequence
  let truncation = start.truncation
  let link = start.link
  let durableLink = link
  let failure: O.Option<DeltalogErrorValue> = O.none
  let isClosed = false
  let committing = false
  let pendingBytes = 0
  const queue: Request[] = []
  const waitingForRoom: Array<{
    readonly bytes: number
    readonly admit: () => void
    readonly refuse: (error: DeltalogErrorValue) => void
  }> = []
  const idle: Array<() => void> = []

  const refusal = (): O.Option<DeltalogErrorValue> =>
    isClosed ? O.some(closed('log')) : O.map(writerFailed)(failure)

  const admitWaiting = (): void => {
    while (waitingForRoom.length > 0) {
      const next = waitingForRoom[0]
      if (
        next === undefined ||
        (pendingBytes > 0 && pendingBytes + next.bytes > config.maxPendingBytes)
      ) {
        return
      }
      waitingForRoom.shift()
      next.admit()
    }
  }

  const stop = (cause: DeltalogErrorValue): void => {
    failure = O.some(cause)
    config.onStop?.()
    const error = writerFailed(cause)
    for (const request of queue.splice(0)) {
      if (request.kind === 'append') pendingBytes -= request.bytes
      request.settle(E.left(error))
    }
    for (const waiter of waitingForRoom.splice(0)) waiter.refuse(error)
  }

  /** Writes one group of appends and flushes as a single batch. */
  const commitGroup = async (group: ReadonlyArray<Request>): Promise<void> => {
    const appends = group.flatMap((r) => (r.kind === 'append' ? [r] : []))
    const flushes = group.flatMap((r) => (r.kind === 'flush' ? [r] : []))
    const built = buildDelta(
      allocator,
      appends.map((a) => a.records),
    )
    const release = (): void => {
      for (const a of appends) pendingBytes -= a.bytes
      admitWaiting()
    }
    if (E.isLeft(built)) {
      // Nothing was allocated: the allocator keeps its state and the appends fail alone.
      release()
      for (const a of appends) a.settle(built)
      if (flushes.length > 0) await syncOnly(flushes)
      return
    }
    const delta = built.right.delta
    const { ops: batch, link: nextLink } = toCommitBatch(delta, link)
    if (batch.length === 0) {
      release()
      for (const a of appends)
        a.settle(E.right({ startSequence: allocator.nextSequence, count: 0 }))
      if (flushes.length > 0) await syncOnly(flushes)
      return
    }
    // A batch that carries a new SeqBlock is always synced, in buffered mode too: a number
    // acknowledged from a block is then never handed out again, whatever a crash takes. It
    // costs one fsync per block of numbers.
    const sync = config.durability === 'sync' || flushes.length > 0 || O.isSome(delta.seqBlock)
    const written = await storage.write(batch, { sync })()
    release()
    if (E.isLeft(written)) {
      for (const r of group) r.settle(E.left(written.left))
      stop(written.left)
      return
    }
    allocator = built.right.state
    link = nextLink
    if (sync) {
      durableEnd = allocator.nextSequence
      durableLink = link
    }
    config.onCommit?.(delta.segments, allocator.nextSequence)
    built.right.ranges.forEach((range, i) => appends[i]?.settle(E.right(range)))
    for (const f of flushes) f.settle(E.right(undefined))
    config.onChange()
  }

  const syncOnly = async (flushes: ReadonlyArray<Request & { kind: 'flush' }>): Promise<void> => {
    if (durableEnd >= allocator.nextSequence) {
      for (const f of flushes) f.settle(E.right(undefined))
      return
    }
    const target = allocator.nextSequence
    const targetLink = link
    const synced = await storage.write([], { sync: true })()
    if (E.isLeft(synced)) {
      for (const f of flushes) f.settle(E.left(synced.left))
      stop(synced.left)
      return
    }
    durableEnd = Math.max(durableEnd, target)
    durableLink = targetLink
    for (const f of flushes) f.settle(E.right(undefined))
    config.onChange()
  }

  /** Writes one Delta of entries at given sequences: one atomic batch with its SeqBlock. */
  const place = async (request: Request & { kind: 'place' }): Promise<void> => {
    const built = placeDelta(allocator, request.entries)
    if (E.isLeft(built)) return request.settle(built)
    const { ops: batch, link: nextLink } = toCommitBatch(built.right.delta, link)
    if (batch.length === 0) return request.settle(E.right(undefined))
    // As for appends: a batch that carries a new SeqBlock is always synced.
    const sync = config.durability === 'sync' || O.isSome(built.right.delta.seqBlock)
    const written = await storage.write(batch, { sync })()
    if (E.isLeft(written)) {
      request.settle(written)
      stop(written.left)
      return
    }
    allocator = built.right.state
    link = nextLink
    if (sync) {
      durableEnd = allocator.nextSequence
      durableLink = link
    }
    config.onCommit?.(built.right.delta.segments, allocator.nextSequence)
    request.settle(E.right(undefined))
    config.onChange()
  }

  const truncate = async (request: Request & { kind: 'truncate' }): Promise<void> => {
    // Numbers not yet handed out cannot be truncated: later appends must stay visible.
    const before = Math.min(request.before, allocator.nextSequence)
    if (before <= truncation.before) return request.settle(E.right(truncation.before))
    // The truncation record is the atomic, durable point: one synced put. Readers hide entries
    // below it from now on; the deletions after it only reclaim space.
    const marked = await markTruncation(storage, before, truncation)
    if (E.isLeft(marked)) {
      request.settle(E.left(marked.left))
      stop(marked.left)
      return
    }
    truncation = marked.right
    durableEnd = Math.max(durableEnd, allocator.nextSequence)
    durableLink = link
    config.onChange()
    const removed = await removeTruncated(storage, truncation)
    request.settle(E.isLeft(removed) ? removed : E.right(before))
  }

  const pump = async (): Promise<void> => {
    if (committing) return
    committing = true
    try {
      while (queue.length > 0 && O.isNone(failure)) {
        // Appends and flushes up to the next truncation or placement form one group, one batch.
        const cut = queue.findIndex((r) => r.kind === 'truncate' || r.kind === 'place')
        const head = queue[0]
        if (cut === 0 && head?.kind === 'truncate') {
          queue.shift()
          await truncate(head)
        } else if (cut === 0 && head?.kind === 'place') {
          queue.shift()
          await place(head)
        } else {
          await commitGroup(queue.splice(0, cut === -1 ? queue.length : cut))
        }
        // The callers a commit settled usually append again at once, each a few promise steps
        // later. A tick runs only once the microtask queue is empty, so after it the next group
        // takes all of them, instead of a commit (and an fsync) for the first alone.
        await new Promise<void>((resolve) => process.nextTick(resolve))
      }
    } finally {
      committing = false
      if (queue.length === 0 && waitingForRoom.length === 0) {
        for (const done of idle.splice(0)) done()
      }
    }
  }

  const enqueue = <A>(
    make: (settle: Settle<A>) => Request,
  ): Promise<E.Either<DeltalogErrorValue, A>> =>
    new Promise((resolve) => {
      queue.push(make(resolve))
      void pump()
    })

  const timer =
    config.syncIntervalMs === undefined
      ? undefined
      : setInterval(() => {
          if (O.isNone(refusal()) && durableEnd < allocator.nextSequence) {
            void enqueue<void>((settle) => ({ kind: 'flush', settle }))
          }
        }, config.syncIntervalMs)
  timer?.unref()

  return {
    nextSequence: () => allocator.nextSequence,
    durableSequence: () => durableEnd,
    truncatedBefore: () => truncation.before,
    head: () => durableLink,
    append: (records, bytes) =>
      new Promise((resolve) => {
        const refused = refusal()
        if (O.isSome(refused)) return resolve(E.left(refused.value))
        // Admission is synchronous, so a request is queued the moment room is made for it.
        const admit = (): void => {
          pendingBytes += bytes
          queue.push({ kind: 'append', records, bytes, settle: resolve })
          void pump()
        }
        const mustWait =
          waitingForRoom.length > 0 ||
          (pendingBytes > 0 && pendingBytes + bytes > config.maxPendingBytes)
        if (!mustWait) return admit()
        const waiter = {
          bytes,
          admit,
          refuse: (error: DeltalogErrorValue) => resolve(E.left(error)),
        }
        waitingForRoom.push(waiter)
        if (config.appendTimeoutMs !== undefined) {
          const waitedMs = config.appendTimeoutMs
          setTimeout(() => {
            const at = waitingForRoom.indexOf(waiter)
            if (at < 0) return
            waitingForRoom.splice(at, 1)
            admitWaiting()
            resolve(E.left(backpressure(waitedMs)))
          }, waitedMs).unref()
        }
      }),
    flush: () => {
      const refused = refusal()
      return O.isSome(refused)
        ? Promise.resolve(E.left(refused.value))
        : enqueue<void>((settle) => ({ kind: 'flush', settle }))
    },
    truncateBefore: (before) => {
      const refused = refusal()
      return O.isSome(refused)
        ? Promise.resolve(E.left(refused.value))
        : enqueue<number>((settle) => ({ kind: 'truncate', before, settle }))
    },
    appendAt: (entries) => {
      const refused = refusal()
      return O.isSome(refused)
        ? Promise.resolve(E.left(refused.value))
        : enqueue<void>((settle) => ({ kind: 'place', entries, settle }))
    },
    close: async () => {
      if (timer !== undefined) clearInterval(timer)
      if (!isClosed) {
        isClosed = true
        if (committing || queue.length > 0 || waitingForRoom.length > 0) {
          await new Promise<void>((resolve) => idle.push(resolve))
        }
        if (O.isNone(failure) && durableEnd < allocator.nextSequence) {
          const synced = await storage.write([], { sync: true })()
          if (E.isLeft(synced)) return synced
          durableEnd = allocator.nextSequence
          durableLink = link
        }
      }
      return E.right(undefined)
    },
  }
}

/** The writer of a log opened read-only, and how it learns of commits made elsewhere. */
export interface ReadOnlyWriter extends Writer {
  /** Moves the watermarks to a later state of the log, as read from storage; never back. */
  readonly update: (state: Pick<WriterStart, 'truncation' | 'link'>) => void
}

/**
 * The writer of a log opened read-only: the watermarks of the log as it was last read — its next
 * sequence is one past its last commit, as no allocator hands out more — and every write
 * refused with `READ_ONLY` before anything is queued.
 */
export const makeReadOnlyWriter = (start: WriterStart): ReadOnlyWriter => {
  let truncation = start.truncation
  let link = start.link
  const end = (): number => Math.max(link.end, truncation.before)
  const refuse = <A>(): Promise<E.Either<DeltalogErrorValue, A>> =>
    Promise.resolve(E.left(readOnly('the log is open read-only (readOnly: true)', undefined)))
  return {
    nextSequence: end,
    durableSequence: end,
    truncatedBefore: () => truncation.before,
    head: () => link,
    append: refuse,
    flush: refuse,
    truncateBefore: refuse,
    appendAt: refuse,
    close: () => Promise.resolve(E.right(undefined)),
    update: (state) => {
      if (state.link.end >= link.end) link = state.link
      if (state.truncation.before >= truncation.before) truncation = state.truncation
    },
  }
}
