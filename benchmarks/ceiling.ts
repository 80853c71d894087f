// The ceiling model: what this machine's disk, RocksDB and PostgreSQL allow a durable figure at
// most, measured in the same run as the figures (cases/ceiling.ts), and each durable figure as a
// fraction of it. For group commit with P producers the ceiling is P appends per raw synced batch
// of the puts a commit of P appends writes: P ÷ that batch's mean latency, back to back, with no
// engine code between two batches.
import { percentile, type CaseResult, type Figure } from './measure.js'
import type { RawOp } from './raw.js'
import type { CommitShape } from './commitBatch.js'

/** The producer counts of the durable throughput curve. */
export const PRODUCER_COUNTS: ReadonlyArray<number> = [1, 4, 16, 64, 256, 1024]

/** The id of the case that measures the ceiling. */
export const CEILING_ID = 'ceiling'

/** A latency distribution, in milliseconds. */
export interface Latency {
  readonly p50: number
  readonly p99: number
  readonly samples: number
}

/** One producer count's raw batch: what a commit writes, and how long the addon takes to sync it. */
export interface BatchLimit {
  readonly producers: number
  readonly puts: number
  readonly bytes: number
  /** Every synced batch of every round. */
  readonly latency: Latency
}

/** The machine's limits, measured first in a run. */
export interface Limits {
  /** A 4 KiB append to a file, then fdatasync. */
  readonly fsync: Latency
  /** `SELECT 1` on one `pg` connection; absent without a server. */
  readonly postgres?: Latency
  readonly batches: ReadonlyArray<BatchLimit>
}

export const latencyOf = (samples: ReadonlyArray<number>): Latency => {
  const sorted = [...samples].sort((a, b) => a - b)
  return { p50: percentile(sorted, 0.5), p99: percentile(sorted, 0.99), samples: sorted.length }
}

/** Appends/s when `producers` appends are made durable by each batch of `ms` milliseconds. */
export const ceilingRate = (producers: number, ms: number): number => producers / (ms / 1000)

/** Bytes whose last (up to) six are a counter, so that no two replayed keys meet. */
const keyOf = (bytes: number, serial: number): Buffer => {
  const key = Buffer.alloc(bytes, 0x6b)
  const width = Math.min(6, bytes)
  key.writeUIntBE(serial % 2 ** (8 * width), bytes - width, width)
  return key
}

/**
 * A batch of the recorded commit's shape for the raw addon: puts of the same key and value
 * sizes, under keys no earlier batch of this `batch` number's run used. `values` are the values
 * to put, one per recorded put (sizes as recorded).
 */
export const replayBatch = (
  shape: CommitShape,
  values: ReadonlyArray<Buffer>,
  batch: number,
): ReadonlyArray<RawOp> =>
  shape.puts.map((put, i) => ({
    type: 'put',
    key: keyOf(put.keyBytes, batch * shape.puts.length + i),
    value: values[i] ?? Buffer.alloc(put.valueBytes),
  }))

/** The ceiling case's figure for `producers`, by its label. */
export const curveLabel = (producers: number): string =>
  `deltalog, ${producers} producer${producers === 1 ? '' : 's'}, sync`

export const ceilingLabel = (producers: number): string =>
  `ceiling: ${producers} ÷ the raw synced batch's latency`

/** A durable figure of another case, its ceiling and the model the ceiling follows. */
export interface Fraction {
  readonly caseId: string
  readonly title: string
  readonly label: string
  readonly value: number
  readonly ceiling: number
  readonly fraction: number
  readonly model: string
}

/** Where the suite's other durable figures are, and which ceiling each is held against. */
const DURABLE: ReadonlyArray<{
  readonly caseId: string
  readonly label: string
  readonly producers: number
  readonly on: 'rocksdb' | 'postgres'
  readonly model: string
}> = [
  {
    caseId: 'durable-group-commit',
    label: 'deltalog, 256 producers, sync',
    producers: 256,
    on: 'rocksdb',
    model: "the log's ceiling at 256 producers",
  },
  {
    caseId: 'event-store',
    label: 'deltalog event store, 256 producers, sync',
    producers: 256,
    on: 'rocksdb',
    model: "the log's ceiling at 256 producers (the store's commits also write its index)",
  },
  {
    caseId: 'dcb',
    label: 'deltalog, 256 producers, conditional appends, sync',
    producers: 256,
    on: 'rocksdb',
    model: "the log's ceiling at 256 producers (the store's commits also write its index)",
  },
  {
    caseId: 'postgres',
    label: 'deltalog on PostgreSQL, 256 producers, sync',
    producers: 256,
    on: 'postgres',
    model: '256 ÷ (a round trip + a synced write of the disk), p50s',
  },
  {
    caseId: 'dcb-postgres',
    label: 'deltalog on PostgreSQL, 256 producers, conditional appends, sync',
    producers: 256,
    on: 'postgres',
    model: '256 ÷ (a round trip + a synced write of the disk), p50s',
  },
]

const firstFigure = (c: CaseResult | undefined, label: string): Figure | undefined =>
  c?.figures.find((f) => f.label === label)

/**
 * The suite's durable figures as fractions of their ceilings: on RocksDB the ceiling case's
 * median ceiling at the same producer count, on PostgreSQL one commit per round trip and synced
 * write. Figures the run lacks, or whose ceiling it did not measure, are left out.
 */
export const durableFractions = (cases: ReadonlyArray<CaseResult>): ReadonlyArray<Fraction> => {
  const ceilingCase = cases.find((c) => c.id === CEILING_ID)
  const limits = ceilingCase?.limits
  return DURABLE.flatMap((d) => {
    const c = cases.find((x) => x.id === d.caseId)
    const f = firstFigure(c, d.label)
    if (c === undefined || f === undefined) return []
    const ceiling =
      d.on === 'rocksdb'
        ? firstFigure(ceilingCase, curveLabel(d.producers))?.baseline.median
        : limits?.postgres === undefined
          ? undefined
          : ceilingRate(d.producers, limits.postgres.p50 + limits.fsync.p50)
    if (ceiling === undefined || !(ceiling > 0)) return []
    return [
      {
        caseId: c.id,
        title: c.title,
        label: f.label,
        value: f.subject.median,
        ceiling,
        fraction: f.subject.median / ceiling,
        model: d.model,
      },
    ]
  })
}
