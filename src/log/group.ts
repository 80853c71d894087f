/**
 * Which queued requests the writer commits together. A group is every append and flush at the
 * head of the queue before the first truncation or placement, bounded like the hot tail, in
 * records and in bytes: appends join a group while it stays within `MAX_COMMIT_RECORDS` records
 * and `MAX_COMMIT_BYTES` of keys and values, and an append past either alone still makes a group
 * of its own, so that it is never refused for its size.
 *
 * The bound is what keeps a fast producer's memory flat. A commit is built and written whole:
 * while it is in flight its records live as JavaScript objects (several per record), as encoded
 * records, and in the RocksDB write batch the addon copies them into, a few times their own
 * bytes. Sixteen appends of 1000 records taken as one commit made write batches of about 4 MB,
 * which glibc then keeps, and kept every record's objects alive long enough for V8 to move them
 * to its old space. RocksDB bounds its own write groups the same way
 * (`max_write_batch_group_size_bytes`, 1 MiB). Single-record appends from many producers, the
 * case group commit is for, stay far below both bounds. Appends still resolve in order, each in
 * one atomic batch; a flush after a cut waits for the next commit, whose write covers every
 * earlier one.
 */
import type { Request } from './commit.js'

/** The bytes of records (keys and values) one commit takes, unless a single append is larger. */
export const MAX_COMMIT_BYTES = 1 << 20

/** The records one commit takes, unless a single append has more. */
export const MAX_COMMIT_RECORDS = 4096

/**
 * How many requests at the head of `queue` make the next group of appends and flushes: 0 when the
 * head is a truncation or a placement, which goes alone.
 */
export const groupLength = (
  queue: ReadonlyArray<Request>,
  maxBytes: number = MAX_COMMIT_BYTES,
  maxRecords: number = MAX_COMMIT_RECORDS,
): number => {
  let bytes = 0
  let records = 0
  let appends = 0
  for (let i = 0; i < queue.length; i++) {
    const request = queue[i] as Request
    if (request.kind === 'truncate' || request.kind === 'place') return i
    if (request.kind === 'append') {
      bytes += request.bytes
      records += request.records.keys.length
      // The first append always fits: a group is never empty for an append's size.
      if ((bytes > maxBytes || records > maxRecords) && appends > 0) return i
      appends++
    }
  }
  return queue.length
}
