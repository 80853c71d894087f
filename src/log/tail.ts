/**
 * The hot tail: the entries of the latest commits, kept in memory so that a follower that has
 * caught up gets a new commit's entries from the commit itself, without a storage read. A
 * follower that falls behind the tail reads from storage at its own pace, as before.
 *
 * The tail covers one interval of sequences, `[start, end)`: it holds every entry whose
 * sequence lies in it, so a reader positioned at or above `start` needs nothing else. Each
 * commit extends the interval to the allocator's new end (appends take a contiguous range;
 * `appendAt` leaves gaps no entry fills). It is bounded in entries and bytes: the oldest
 * commits' entries leave first and `start` moves past them. After a failed write the writer
 * stops and storage may hold a batch the tail never saw, so the tail is dropped for good.
 */
import type { Entry } from '../delta/delta.js'
import { compareBytes } from '../storage/range.js'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** How much the tail may hold. */
export interface TailLimits {
  readonly entries: number
  /** Bytes of keys and values. */
  readonly bytes: number
}

/** The default bound: enough for a burst of commits, small beside the pending-append bound. */
export const TAIL_LIMITS: TailLimits = { entries: 4096, bytes: 4 << 20 }

/** What a reader at some position gets from the tail. */
export interface TailRead {
  /** The entries it asked for, in sequence order; shared with other readers, never copied. */
  readonly entries: ReadonlyArray<Entry>
  /** Where the reader continues: every entry it asked for below this was returned. */
  readonly next: number
}

export interface HotTail {
  /** Every entry with a sequence in `[start(), end)` is held; Infinity once dropped. */
  readonly start: () => number
  /** Records a commit's entries, in sequence order, extending the interval to `end`. */
  readonly commit: (entries: ReadonlyArray<Entry>, end: number) => void
  /** Drops every entry for good: readers go to storage from now on. */
  readonly drop: () => void
  /**
   * The entries at or above `from` (and at or above `truncatedBefore`), below `upper`, of
   * `key` when given. Only for `from >= start()`.
   */
  readonly read: (
    from: number,
    upper: number,
    key: Uint8Array | undefined,
    truncatedBefore: number,
  ) => TailRead
}

// -------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------

/** An empty tail covering `[end, end)`: the log as it is when opened. */
export const makeHotTail = (end: number, limits: TailLimits = TAIL_LIMITS): HotTail => {
  let entries: Entry[] = []
  // Entries before `head` have left the tail; the array is compacted now and then.
  let head = 0
  let bytes = 0
  let start = end
  let last = end

  const trim = (): void => {
    const before = head
    while (
      entries.length - head > limits.entries ||
      (bytes > limits.bytes && head < entries.length)
    ) {
      const gone = entries[head++]
      if (gone !== undefined) bytes -= gone.key.length + gone.value.length
    }
    // What left was below the first entry kept: the interval now starts there.
    if (head > before) start = entries[head]?.sequence ?? last
    if (head > 1024 && head * 2 > entries.length) {
      entries = entries.slice(head)
      head = 0
    }
  }

  /** The index of the first held entry at or above `sequence`. */
  const seek = (sequence: number): number => {
    let lo = head
    let hi = entries.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if ((entries[mid]?.sequence ?? Infinity) < sequence) lo = mid + 1
      else hi = mid
    }
    return lo
  }

  return {
    start: () => start,
    commit: (committed, newEnd) => {
      if (start === Infinity) return
      for (const entry of committed) {
        entries.push(entry)
        bytes += entry.key.length + entry.value.length
      }
      last = Math.max(last, newEnd)
      trim()
    },
    drop: () => {
      entries = []
      head = 0
      bytes = 0
      start = Infinity
    },
    read: (from, upper, key, truncatedBefore) => {
      const until = Math.min(upper, last)
      const out: Entry[] = []
      for (let i = seek(Math.max(from, truncatedBefore)); i < entries.length; i++) {
        const entry = entries[i]
        if (entry === undefined || entry.sequence >= until) break
        if (key === undefined || compareBytes(entry.key, key) === 0) out.push(entry)
      }
      return { entries: out, next: Math.max(from, until) }
    },
  }
}
