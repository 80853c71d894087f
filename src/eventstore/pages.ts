/**
 * The store's scans of its log, a page at a time: each page's scan is ended before any of its
 * entries is handed on. A read waiting on its caller, or reading a stream's state between two
 * entries, then holds nothing of the storage — on PostgreSQL an open scan holds a connection of
 * the pool, and reads that each held one while asking for another could take every connection
 * and wait for each other. Pages grow from `FIRST` to `LAST` entries, and end early past `BYTES`
 * of values, so a page of large events stays small in memory.
 */
import type { Log, LogEntry } from '../openLog.js'

const FIRST = 64
const LAST = 1024
const BYTES = 4 * 1024 * 1024

/** What a paged scan reads: a key's entries or all, in `[from, to)`, forwards or backwards. */
export interface PagedRange {
  readonly key?: string
  readonly from?: number
  readonly to?: number
  readonly reverse?: boolean
  /** The first page's size when the caller knows it wants about that many (between FIRST and LAST). */
  readonly first?: number
}

/** The entries of `range`, in order, read a page at a time (see above). */
export async function* paged(log: Log, range: PagedRange): AsyncGenerator<LogEntry> {
  let { from, to } = range
  const reverse = range.reverse ?? false
  const first = Math.min(LAST, Math.max(FIRST, range.first ?? FIRST))
  for (let size = first; ; size = Math.min(LAST, size * 2)) {
    const page: LogEntry[] = []
    let bytes = 0
    const scan = log.scan({
      reverse,
      limit: size,
      ...(range.key === undefined ? {} : { key: range.key }),
      ...(from === undefined ? {} : { from }),
      ...(to === undefined ? {} : { to }),
    })
    for await (const entry of scan) {
      page.push(entry)
      bytes += entry.value.length
      if (bytes > BYTES) break
    }
    yield* page
    const last = page[page.length - 1]
    if (last === undefined || (page.length < size && bytes <= BYTES)) return
    if (reverse) to = last.sequence
    else from = last.sequence + 1
  }
}
