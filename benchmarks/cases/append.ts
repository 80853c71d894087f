// Cases 1 and 2, bulk append: batches of 1000 records of 100-byte values in buffered mode,
// against the raw binding writing the same records, one put per record, 1000 per batch.
// Each round writes into fresh directories, so both sides start from an empty store.
import { join } from 'node:path'
import { openLog } from '../../src/index.js'
import { makeTempDir, removeDir } from '../../test/support/tmpdir.js'
import { figure, paired, perSecond, target, time, valuesOf, type CaseResult } from '../measure.js'
import { openRaw, type RawOp } from '../raw.js'

export interface AppendSizes {
  readonly records: number
  readonly rounds: number
}

const BATCH = 1000
const VALUE_BYTES = 100

/** The key of record `i` when records spread over `keys` keys (1: all to one key). */
const keyOf = (keys: number, i: number): string =>
  keys === 1 ? 'stream-0' : `stream-${(i * 7919) % keys}`

const deltalogRun = async (dir: string, keys: number, records: number): Promise<number> => {
  const log = await openLog({ path: join(dir, 'log'), durability: 'buffered' })
  const values = valuesOf(BATCH, VALUE_BYTES)
  const ms = await time(async () => {
    for (let i = 0; i < records; i += BATCH) {
      const batch = []
      for (let j = i; j < i + BATCH; j++) {
        batch.push({ key: keyOf(keys, j), value: values[j % BATCH] as Buffer })
      }
      await log.append(batch)
    }
  })
  await log.close()
  return perSecond(records, ms)
}

const rawRun = async (dir: string, keys: number, records: number): Promise<number> => {
  const db = await openRaw(join(dir, 'raw'))
  const values = valuesOf(BATCH, VALUE_BYTES)
  // The raw store has no sequence: each record gets a unique key of its stream and a counter.
  const ms = await time(async () => {
    for (let i = 0; i < records; i += BATCH) {
      const ops: RawOp[] = []
      for (let j = i; j < i + BATCH; j++) {
        const key = `${keyOf(keys, j)}/${String(j).padStart(12, '0')}`
        ops.push({ type: 'put', key, value: values[j % BATCH] as Buffer })
      }
      await db.batch(ops, false)
    }
  })
  await db.close()
  return perSecond(records, ms)
}

const bulkAppend = async (
  id: string,
  title: string,
  keys: number,
  threshold: number,
  sizes: AppendSizes,
): Promise<CaseResult> => {
  const inDir =
    (run: (dir: string, keys: number, records: number) => Promise<number>) =>
    async (): Promise<number> => {
      const dir = await makeTempDir(`bench-${id}`)
      try {
        return await run(dir, keys, sizes.records)
      } finally {
        await removeDir(dir)
      }
    }
  const pairs = await paired(sizes.rounds, inDir(deltalogRun), inDir(rawRun))
  const f = figure(
    'deltalog append, buffered',
    'records/s',
    'rocksdb binding, batch of one put per record',
    pairs,
  )
  return {
    id,
    title,
    setup:
      `${sizes.records.toLocaleString('en-US')} records per round in appends of ${BATCH}, ` +
      `${VALUE_BYTES}-byte values, ${keys === 1 ? 'one key' : `${keys.toLocaleString('en-US')} keys`}`,
    rounds: sizes.rounds,
    figures: [f],
    targets: [target(f, 'ratio', '>=', threshold)],
    notes: [
      'The baseline writes each batch of 1000 records as one `batch_do` of 1000 puts, one ' +
        'record per put under its own key (the key and a counter), without sync, into its ' +
        'own directory.',
    ],
  }
}

export const bulkAppendOneKey = (sizes: AppendSizes): Promise<CaseResult> =>
  bulkAppend('bulk-append-one-key', 'Bulk append, one key', 1, 3, sizes)

export const bulkAppendManyKeys = (sizes: AppendSizes): Promise<CaseResult> =>
  bulkAppend('bulk-append-many-keys', 'Bulk append, many keys', 10_000, 0.9, sizes)
