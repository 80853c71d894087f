// The four layouts compared for format v2, each as the records one commit writes and the reads
// a global scan, a key scan and a point read by sequence make of them. `layouts.ts` describes
// the records; `records.ts` holds their bytes.
import type { RawDb, RawOp } from '../raw.js'
import { chunks, eachPair, orderedGets, seekLast } from './reading.js'
import {
  COMMIT,
  commitKey,
  commitSequence,
  ENTRY,
  escape,
  INDEX,
  keyedRecord,
  keyRange,
  keySequence,
  pack,
  packedAt,
  packedLength,
  readU64,
  readVarint,
  RUN,
  skipField,
  typeRange,
  unpack,
  unpackAll,
  V1,
  V2,
  varintLength,
  writeU64,
  writeVarint,
  type UserKey,
  type Visit,
} from './records.js'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** Consecutive entries of one key inside one commit. */
export interface Run {
  readonly key: UserKey
  readonly count: number
}

/** One commit: its first sequence, its runs in sequence order, and its values in that order. */
export interface Commit {
  readonly first: number
  readonly runs: ReadonlyArray<Run>
  readonly values: ReadonlyArray<Buffer>
}

export type LayoutId = 'L0' | 'LS' | 'LK' | 'LH'

export interface Layout {
  readonly id: LayoutId
  readonly name: string
  /** The records one commit writes, for one `batch_do`. */
  readonly encode: (commit: Commit) => ReadonlyArray<RawOp>
  /** Every entry; in sequence order, except for L0, which has no sequence index. */
  readonly globalScan: (db: RawDb, visit: Visit) => Promise<void>
  /** One key's entries, in sequence order. */
  readonly keyScan: (db: RawDb, key: UserKey, visit: Visit) => Promise<void>
  /** The value of the entry at `sequence`; absent where the layout has no sequence index. */
  readonly pointRead?: (db: RawDb, sequence: number) => Promise<Buffer>
}

// -------------------------------------------------------------------------------------
// L0: one record per entry
// -------------------------------------------------------------------------------------

const l0: Layout = {
  id: 'L0',
  name: 'raw: one record per entry',
  // The values go to the addon as they came, one record each.
  encode: ({ first, runs, values }) => {
    const ops: RawOp[] = []
    let s = first
    for (const run of runs) {
      for (let i = 0; i < run.count; i++, s++) {
        const value = values[s - first] as Buffer
        ops.push({ type: 'put', key: keyedRecord(V1, ENTRY, run.key.escaped, s), value })
      }
    }
    return ops
  },
  globalScan: async (db, visit) => {
    for await (const chunk of chunks(db, typeRange(V1, ENTRY), false)) {
      eachPair(chunk, (key, value) => visit(keySequence(key), value))
    }
  },
  keyScan: async (db, key, visit) => {
    for await (const chunk of chunks(db, keyRange(V1, ENTRY, key), false)) {
      eachPair(chunk, (k, value) => visit(keySequence(k), value))
    }
  },
}

// -------------------------------------------------------------------------------------
// LS: sequence-primary; LH: LS with small runs also inline in their index record
// -------------------------------------------------------------------------------------

// Stands for a commit record's fixed header, the previous commit's end and a checksum: only its
// size is emulated, no checksum is computed.
const HEADER_BYTES = 40

/** A commit record's header: the end of the commit before, then zeros for the checksum. */
const writeHeader = (record: Buffer, first: number): void => {
  writeU64(record, 0, first - 1)
  record.fill(0, 8, HEADER_BYTES)
}

// LH tags its index records: values inline, or a pointer into the commit record. LS has only
// pointers and no tag.
const POINTER = 0
const INLINE = 1

/** LS's records for a commit; with `inline`, LH's. */
const encodeSequencePrimary =
  (inline: number | undefined) =>
  ({ first, runs, values }: Commit): ReadonlyArray<RawOp> => {
    let size = HEADER_BYTES
    let s = first
    for (const run of runs) {
      const length = run.key.bytes.length
      size += varintLength(length) + length + varintLength(run.count)
      size += packedLength(values, s - first, run.count)
      s += run.count
    }
    const record = Buffer.allocUnsafe(size)
    writeHeader(record, first)
    const ops: RawOp[] = [{ type: 'put', key: commitKey(first), value: record }]
    const tagBytes = inline === undefined ? 0 : 1
    let at = HEADER_BYTES
    s = first
    for (const run of runs) {
      const offset = at
      at = writeVarint(record, at, run.key.bytes.length)
      run.key.bytes.copy(record, at)
      at = writeVarint(record, at + run.key.bytes.length, run.count)
      const valuesAt = at
      at = pack(record, at, values, s - first, run.count)
      let index: Buffer
      if (inline !== undefined && at - valuesAt <= inline) {
        index = Buffer.allocUnsafe(1 + varintLength(run.count) + (at - valuesAt))
        index[0] = INLINE
        record.copy(index, writeVarint(index, 1, run.count), valuesAt, at)
      } else {
        index = Buffer.allocUnsafe(tagBytes + varintLength(run.count) + 8 + varintLength(offset))
        if (tagBytes === 1) index[0] = POINTER
        const commitAt = writeVarint(index, tagBytes, run.count)
        writeU64(index, commitAt, first)
        writeVarint(index, commitAt + 8, offset)
      }
      ops.push({ type: 'put', key: keyedRecord(V2, INDEX, run.key.escaped, s), value: index })
      s += run.count
    }
    return ops
  }

/** Visits every entry of a commit record. */
const visitCommit = (first: number, record: Buffer, visit: Visit): void => {
  const cursor = { at: HEADER_BYTES }
  let s = first
  while (cursor.at < record.length) {
    skipField(record, cursor)
    const count = readVarint(record, cursor)
    unpack(record, cursor, s, count, visit)
    s += count
  }
}

const globalScanSequencePrimary = async (db: RawDb, visit: Visit): Promise<void> => {
  for await (const chunk of chunks(db, typeRange(V2, COMMIT), false)) {
    eachPair(chunk, (key, record) => visitCommit(commitSequence(key), record, visit))
  }
}

/** A run as its index record gives it: its values inline, or its offset in a commit record. */
interface IndexedRun {
  readonly first: number
  readonly count: number
  readonly inline: Buffer | undefined
  /** Where the run starts: its values in `inline`, or the run in its commit record. */
  readonly at: number
}

const keyScanSequencePrimary =
  (tagged: boolean) =>
  async (db: RawDb, key: UserKey, visit: Visit): Promise<void> => {
    const gets = orderedGets<IndexedRun>(db, (run, record) => {
      if (run.inline !== undefined) {
        unpack(run.inline, { at: run.at }, run.first, run.count, visit)
      } else if (record !== undefined) {
        const cursor = { at: run.at }
        skipField(record, cursor)
        readVarint(record, cursor)
        unpack(record, cursor, run.first, run.count, visit)
      }
    })
    let lastCommit = -1
    for await (const chunk of chunks(db, keyRange(V2, INDEX, key), true)) {
      for (let i = chunk.length - 1; i > 0; i -= 2) {
        const first = keySequence(chunk[i] as Buffer)
        const index = chunk[i - 1] as Buffer
        const cursor = { at: tagged ? 1 : 0 }
        const count = readVarint(index, cursor)
        let full: boolean
        if (tagged && index[0] === INLINE) {
          full = gets.add({ first, count, inline: index, at: cursor.at }, 'none')
        } else {
          const commit = readU64(index, cursor.at)
          cursor.at += 8
          const run = { first, count, inline: undefined, at: readVarint(index, cursor) }
          full = gets.add(run, commit === lastCommit ? 'previous' : commitKey(commit))
          lastCommit = commit
        }
        if (full) await gets.drain()
      }
    }
    await gets.finish()
  }

/** The entry at `sequence`, from the commit record that holds it. */
const pointReadSequencePrimary = async (db: RawDb, sequence: number): Promise<Buffer> => {
  const [key, record] = await seekLast(db, Buffer.of(V2, COMMIT), commitKey(sequence))
  const cursor = { at: HEADER_BYTES }
  let s = commitSequence(key)
  for (;;) {
    skipField(record, cursor)
    const count = readVarint(record, cursor)
    if (sequence < s + count) return packedAt(record, cursor, sequence - s)
    for (let i = 0; i < count; i++) skipField(record, cursor)
    s += count
  }
}

const ls: Layout = {
  id: 'LS',
  name: 'sequence-primary: commit records with the values, a run index',
  encode: encodeSequencePrimary(undefined),
  globalScan: globalScanSequencePrimary,
  keyScan: keyScanSequencePrimary(false),
  pointRead: pointReadSequencePrimary,
}

const lh = (inline: number): Layout => ({
  id: 'LH',
  name: `hybrid: LS, and runs of up to ${inline} packed bytes also inline in the run index`,
  encode: encodeSequencePrimary(inline),
  globalScan: globalScanSequencePrimary,
  keyScan: keyScanSequencePrimary(true),
  pointRead: pointReadSequencePrimary,
})

// -------------------------------------------------------------------------------------
// LK: key-primary
// -------------------------------------------------------------------------------------

const lk: Layout = {
  id: 'LK',
  name: 'key-primary: run records with the values, commit records listing the runs',
  encode: ({ first, runs, values }) => {
    let size = HEADER_BYTES
    for (const run of runs) {
      size += varintLength(run.key.bytes.length) + run.key.bytes.length + varintLength(run.count)
    }
    const record = Buffer.allocUnsafe(size)
    writeHeader(record, first)
    const ops: RawOp[] = [{ type: 'put', key: commitKey(first), value: record }]
    let at = HEADER_BYTES
    let s = first
    for (const run of runs) {
      at = writeVarint(record, at, run.key.bytes.length)
      run.key.bytes.copy(record, at)
      at = writeVarint(record, at + run.key.bytes.length, run.count)
      const packed = Buffer.allocUnsafe(packedLength(values, s - first, run.count))
      pack(packed, 0, values, s - first, run.count)
      ops.push({ type: 'put', key: keyedRecord(V2, RUN, run.key.escaped, s), value: packed })
      s += run.count
    }
    return ops
  },
  globalScan: async (db, visit) => {
    const gets = orderedGets<number>(db, (first, values) => {
      if (values !== undefined) unpackAll(values, { at: 0 }, first, visit)
    })
    for await (const chunk of chunks(db, typeRange(V2, COMMIT), true)) {
      for (let i = chunk.length - 1; i > 0; i -= 2) {
        const record = chunk[i - 1] as Buffer
        const cursor = { at: HEADER_BYTES }
        let s = commitSequence(chunk[i] as Buffer)
        while (cursor.at < record.length) {
          const length = readVarint(record, cursor)
          const escaped = escape(record.subarray(cursor.at, cursor.at + length))
          cursor.at += length
          const full = gets.add(s, keyedRecord(V2, RUN, escaped, s))
          s += readVarint(record, cursor)
          if (full) await gets.drain()
        }
      }
    }
    await gets.finish()
  },
  keyScan: async (db, key, visit) => {
    for await (const chunk of chunks(db, keyRange(V2, RUN, key), false)) {
      eachPair(chunk, (k, values) => unpackAll(values, { at: 0 }, keySequence(k), visit))
    }
  },
  pointRead: async (db, sequence) => {
    const [key, record] = await seekLast(db, Buffer.of(V2, COMMIT), commitKey(sequence))
    const cursor = { at: HEADER_BYTES }
    let s = commitSequence(key)
    for (;;) {
      const length = readVarint(record, cursor)
      const start = cursor.at
      cursor.at += length
      const count = readVarint(record, cursor)
      if (sequence < s + count) {
        const escaped = escape(record.subarray(start, start + length))
        const values = await db.get(keyedRecord(V2, RUN, escaped, s))
        return packedAt(values, { at: 0 }, sequence - s)
      }
      s += count
    }
  },
}

/** The four layouts, the baseline first; LH inlines runs of up to `inline` packed bytes. */
export const layouts = (inline: number): ReadonlyArray<Layout> => [l0, ls, lk, lh(inline)]
