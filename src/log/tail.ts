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
import type { Entry, Segment } from '../delta/delta.js'
import { compareBytes } from '../codec/bytes.js'

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
  /** The entries it asked for, in sequence order; their bytes are shared, never copied. */
  readonly entries: ReadonlyArray<Entry>
  /** Where the reader continues: every entry it asked for below this was returned. */
  readonly next: number
}

export interface HotTail {
  /** Every entry with a sequence in `[start(), end)` is held; Infinity once dropped. */
  readonly start: () => number
  /** Records a commit's segments, in sequence order, extending the interval to `end`. */
  readonly commit: (segments: ReadonlyArray<Segment>, end: number) => void
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

/** What stands in the array for a segment that has left. */
const GONE: Segment = { first: -1, keys: [], values: [] }

/**
 * The index of the first segment from `from` on that ends above `sequence`.
 * REQUIRES: the segments from `from` on are in sequence order.
 */
const seek = (segments: ReadonlyArray<Segment>, from: number, sequence: number): number => {
  let lo = from
  let hi = segments.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    const segment = segments[mid] as Segment
    if (segment.first + segment.keys.length <= sequence) lo = mid + 1
    else hi = mid
  }
  return lo
}

/**
 * The entries of `key` (of every key when undefined) in `[lower, until)`, from segment `at` on.
 * REQUIRES: the segments from `at` on are in sequence order and hold every entry of the range.
 */
const entriesIn = (
  segments: ReadonlyArray<Segment>,
  at: number,
  lower: number,
  until: number,
  key: Uint8Array | undefined,
): Entry[] => {
  const out: Entry[] = []
  for (let s = at; s < segments.length; s++) {
    const { first, keys, values } = segments[s] as Segment
    if (first >= until) break
    const to = Math.min(keys.length, until - first)
    for (let i = Math.max(0, lower - first); i < to; i++) {
      const k = keys[i] as Uint8Array
      if (key === undefined || compareBytes(k, key) === 0) {
        out.push({ key: k, value: values[i] as Uint8Array, sequence: first + i })
      }
    }
  }
  return out
}

/**
 * An empty tail covering `[end, end)`: the log as it is when opened. It keeps the commits'
 * segments as they are, so a commit costs the tail no object per entry; entries leave one at a
 * time from the front, and a segment whose first entries left is kept until its last one does.
 */
export const makeHotTail = (end: number, limits: TailLimits = TAIL_LIMITS): HotTail => {
  let segments: Segment[] = []
  // Segments before `head` have left the tail, and so have the first `skip` entries of
  // `segments[head]`; the array is compacted now and then.
  let head = 0
  let skip = 0
  let count = 0
  let bytes = 0
  let start = end
  let last = end

  const trim = (): void => {
    let left = false
    while (count > limits.entries || (bytes > limits.bytes && count > 0)) {
      const segment = segments[head] as Segment
      bytes -= (segment.keys[skip] as Uint8Array).length
      bytes -= (segment.values[skip] as Uint8Array).length
      count--
      left = true
      if (++skip === segment.keys.length) {
        // Let go of it now, not at the next compaction: it may hold a large append.
        segments[head++] = GONE
        skip = 0
      }
    }
    // What left was below the first entry kept: the interval now starts there.
    if (left) start = count > 0 ? (segments[head] as Segment).first + skip : last
    if (head > 1024 && head * 2 > segments.length) {
      segments = segments.slice(head)
      head = 0
    }
  }

  return {
    start: () => start,
    commit: (committed, newEnd) => {
      if (start === Infinity) return
      for (const segment of committed) {
        if (segment.keys.length === 0) continue
        segments.push(segment)
        count += segment.keys.length
        for (let i = 0; i < segment.keys.length; i++) {
          bytes += (segment.keys[i] as Uint8Array).length + (segment.values[i] as Uint8Array).length
        }
      }
      last = Math.max(last, newEnd)
      trim()
    },
    drop: () => {
      segments = []
      head = 0
      skip = 0
      count = 0
      bytes = 0
      start = Infinity
    },
    read: (from, upper, key, truncatedBefore) => {
      const until = Math.min(upper, last)
      const lower = Math.max(from, truncatedBefore, start)
      const entries = entriesIn(segments, seek(segments, head, lower), lower, until, key)
      return { entries, next: Math.max(from, until) }
    },
  }
}
