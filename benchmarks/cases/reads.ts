// Case 4, reads: key scans and global scans through `openLog`, against the raw binding's plain
// iterator over the same entries of the same directory (the entry records, in key order). The log
// and the raw handle take turns on the directory: one writer process at a time.
import { join } from 'node:path'
import { openLog, recordRange, RecordType } from '../../src/index.js'
import { figure, paired, perSecond, target, time, valueOf, type CaseResult } from '../measure.js'
import { openRaw } from '../raw.js'

export interface Dataset {
  readonly path: string
  readonly entries: number
  readonly keys: number
}

const BATCH = 1000
const VALUE_BYTES = 100

/** Writes a log of `entries` 100-byte entries over `keys` keys, in buffered appends of 1000. */
export const writeDataset = async (
  dir: string,
  entries: number,
  keys: number,
): Promise<Dataset> => {
  const path = join(dir, `log-${entries}-${keys}`)
  const log = await openLog({ path, durability: 'buffered' })
  const value = valueOf(VALUE_BYTES)
  for (let i = 0; i < entries; i += BATCH) {
    const batch = []
    for (let j = i; j < Math.min(entries, i + BATCH); j++) {
      batch.push({ key: `stream-${(j * 7919) % keys}`, value })
    }
    await log.append(batch)
  }
  await log.close()
  return { path, entries, keys }
}

const ENTRIES = recordRange(RecordType.Entry)

const scanRate = async (
  data: Dataset,
  options: { readonly key?: string },
  expected: number,
): Promise<number> => {
  const log = await openLog({ path: data.path })
  let n = 0
  const ms = await time(async () => {
    for await (const _ of log.scan(options)) n++
  })
  await log.close()
  if (n !== expected) throw new Error(`scan read ${n} entries, expected ${expected}`)
  return perSecond(n, ms)
}

const rawRate = async (data: Dataset, expected: number): Promise<number> => {
  const db = await openRaw(data.path)
  let n = 0
  const ms = await time(async () => {
    n = await db.count(ENTRIES)
  })
  await db.close()
  if (n !== expected) throw new Error(`raw iterator read ${n} entries, expected ${expected}`)
  return perSecond(n, ms)
}

export const reads = async (
  oneKey: Dataset,
  manyKeys: Dataset,
  rounds: number,
): Promise<CaseResult> => {
  const baseline = 'rocksdb binding, plain iterator over the entries'
  const keyScan = figure(
    'deltalog key scan, one key',
    'entries/s',
    baseline,
    await paired(
      rounds,
      () => scanRate(oneKey, { key: 'stream-0' }, oneKey.entries),
      () => rawRate(oneKey, oneKey.entries),
    ),
  )
  const globalOne = figure(
    'deltalog global scan, one key',
    'entries/s',
    baseline,
    await paired(
      rounds,
      () => scanRate(oneKey, {}, oneKey.entries),
      () => rawRate(oneKey, oneKey.entries),
    ),
  )
  const globalMany = figure(
    `deltalog global scan, ${manyKeys.keys.toLocaleString('en-US')} keys`,
    'entries/s',
    baseline,
    await paired(
      rounds,
      () => scanRate(manyKeys, {}, manyKeys.entries),
      () => rawRate(manyKeys, manyKeys.entries),
    ),
  )
  return {
    id: 'reads',
    title: 'Reads',
    setup:
      `logs of ${oneKey.entries.toLocaleString('en-US')} entries of ${VALUE_BYTES} bytes, ` +
      `written in appends of ${BATCH}: one with every entry in one key, one over ` +
      `${manyKeys.keys.toLocaleString('en-US')} keys; each scan reads every entry`,
    rounds,
    figures: [keyScan, globalOne, globalMany],
    targets: [
      target(keyScan, 'ratio', '>=', 0.8),
      target(globalOne, 'ratio', '>=', 0.8),
      target(globalMany, 'ratio', '>=', 0.8),
    ],
    notes: [
      'The baseline reads the same entry records in key order; a global scan returns them in ' +
        'sequence order, which over many keys is not the order they are stored in.',
    ],
  }
}
