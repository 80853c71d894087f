/**
 * What the crash-simulating store remembers and what a crash keeps of it. Every written batch
 * is recorded in order with whether it is durable; a `sync` write makes it and every batch
 * before it durable, so the durable batches are always a prefix of the record, as on RocksDB's
 * write-ahead log. A crash keeps a prefix of the record too: all of it when the process is
 * killed, the durable batches and some of the others when the machine loses power.
 */
import { copyBytes } from '../codec/bytes.js'
import { applyBatch, type Table } from '../storage/memory.js'
import type { Batch } from '../storage/port.js'
import { makeRandom } from './random.js'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** `'process'`: a killed process. `'power'`: a lost machine. */
export type CrashMode = 'process' | 'power'

/** Every crash mode, for validation and messages. */
export const CRASH_MODES: ReadonlyArray<CrashMode> = ['process', 'power']

/** One written batch and whether it is durable. */
export interface WrittenBatch {
  readonly batch: Batch
  readonly synced: boolean
}

/** The batches written to one store, in order, applied to its table as they are recorded. */
export interface BatchRecord {
  /** Applies a batch to the table and records it unsynced; returns how many are recorded. */
  readonly record: (batch: Batch) => number
  /** Makes the first `end` batches durable (prefix order). */
  readonly markSynced: (end: number) => void
  /** Every batch so far, in order. */
  readonly batches: () => ReadonlyArray<WrittenBatch>
  /** How many batches are durable: always a prefix of `batches()`. */
  readonly durableCount: () => number
}

// -------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------

/**
 * A record that starts with `history` (which a restart found), applied to `table`.
 * REQUIRES: `table` is empty; every batch of `history` is valid.
 */
export const makeBatchRecord = (
  table: Table,
  history: ReadonlyArray<WrittenBatch>,
): BatchRecord => {
  const written: WrittenBatch[] = []
  for (const entry of history) {
    applyBatch(table, entry.batch)
    written.push(entry)
  }
  return {
    record: (batch) => {
      if (batch.length > 0) {
        const copy = copyBatch(batch)
        applyBatch(table, copy)
        written.push({ batch: copy, synced: false })
      }
      return written.length
    },
    markSynced: (end) => {
      for (let i = end - 1; i >= 0; i--) {
        const entry = written[i]
        if (entry === undefined || entry.synced) break
        written[i] = { batch: entry.batch, synced: true }
      }
    },
    batches: () => [...written],
    durableCount: () => {
      let n = written.length
      while (n > 0 && written[n - 1]?.synced !== true) n--
      return n
    },
  }
}

/** A copy, so that later changes to the caller's arrays cannot rewrite history. */
const copyBatch = (batch: Batch): Batch =>
  batch.map((op) =>
    op.type === 'put'
      ? { type: 'put' as const, key: copyBytes(op.key), value: copyBytes(op.value) }
      : { type: 'del' as const, key: copyBytes(op.key) },
  )

// -------------------------------------------------------------------------------------
// crashes
// -------------------------------------------------------------------------------------

/**
 * The batches a restart finds after a crash of `mode`. A killed process loses nothing the OS
 * has, and what was unsynced stays unsynced. A power loss keeps the durable batches and a
 * prefix of the others, as many as `seed` picks; what reached the disk is durable afterwards.
 */
export const survivors = (
  record: BatchRecord,
  mode: CrashMode,
  seed: number,
): ReadonlyArray<WrittenBatch> => {
  const written = record.batches()
  if (mode === 'process') return written
  const durable = record.durableCount()
  const kept = makeRandom(seed).int(written.length - durable + 1)
  return written.slice(0, durable + kept).map((entry) => ({ batch: entry.batch, synced: true }))
}

/**
 * The seed of a restarted store's delays: drawn from the crashed store's seed, how much it
 * had written, the crash's seed and its mode, so that each restart interleaves differently and
 * the same run replays exactly.
 */
export const restartSeed = (
  storeSeed: number,
  written: number,
  mode: CrashMode,
  seed: number,
): number =>
  makeRandom(
    (storeSeed ^ Math.imul(written + 1, 0x9e3779b1) ^ seed ^ (mode === 'power' ? 1 : 0)) >>> 0,
  ).int(0x1_0000_0000)
