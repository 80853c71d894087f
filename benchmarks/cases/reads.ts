// Case 4, reads: key scans and global scans through `openLog`, against the raw binding's plain
// iterator over its own copy of the same entries: a directory the raw binding writes alongside
// the log, one put per entry under the entry's format v1 key (`encodeEntryKey(key, sequence)`),
// with the same values, the same keys and the same sequences. The baseline so reads one record per
// entry, in key order, whatever layout the log itself stores its entries in.
import { join } from 'node:path'
import { keyBytes } from '../../src/core/index.js'
import { openLog } from '../../src/index.js'
import { encodeEntryKey, entryRange } from '../../src/format/v1/keys.js'
import { figure, paired, perSecond, target, time, valueOf, type CaseResult } from '../measure.js'
import { openRaw, type RawOp } from '../raw.js'

/** A log and the raw binding's copy of its entries. */
export interface Dataset {
  /** The log, written through `openLog`. */
  readonly path: string
  /** The raw copy: one record per entry, under its format v1 entry key. */
  readonly rawPath: string
  readonly entries: number
  readonly keys: number
}

const BATCH = 1000
const VALUE_BYTES = 100

/** The key of entry `i` of a log over `keys` keys (1: all in one key). */
const keyOf = (keys: number, i: number): string => `stream-${(i * 7919) % keys}`

/**
 * Writes a log of `entries` 100-byte entries over `keys` keys, in buffered appends of 1000, and
 * beside it the raw copy: each append's records as one raw batch of one put per record, under the
 * v1 entry keys of the sequences the append was given.
 */
export const writeDataset = async (
  dir: string,
  entries: number,
  keys: number,
): Promise<Dataset> => {
  const path = join(dir, `log-${entries}-${keys}`)
  const rawPath = join(dir, `raw-${entries}-${keys}`)
  const log = await openLog({ path, durability: 'buffered' })
  const raw = await openRaw(rawPath)
  const value = valueOf(VALUE_BYTES)
  try {
    for (let i = 0; i < entries; i += BATCH) {
      const batch = []
      for (let j = i; j < Math.min(entries, i + BATCH); j++) {
        batch.push({ key: keyOf(keys, j), value })
      }
      const { startSequence } = await log.append(batch)
      await raw.batch(
        batch.map((r, k): RawOp => ({
          type: 'put',
          key: Buffer.from(encodeEntryKey(keyBytes(r.key), startSequence + k)),
          value: r.value,
        })),
        false,
      )
    }
  } finally {
    await log.close()
    await raw.close()
  }
  return { path, rawPath, entries, keys }
}

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

/** The raw iterator over the raw copy: one key's records, or every record of the directory. */
const rawRate = async (
  data: Dataset,
  key: string | undefined,
  expected: number,
): Promise<number> => {
  const db = await openRaw(data.rawPath)
  let n = 0
  const ms = await time(async () => {
    n = await db.count(key === undefined ? {} : entryRange(keyBytes(key)))
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
  const baseline = 'rocksdb binding, iterator over one record per entry'
  const keyScan = figure(
    'deltalog key scan, one key',
    'entries/s',
    baseline,
    await paired(
      rounds,
      () => scanRate(oneKey, { key: keyOf(1, 0) }, oneKey.entries),
      () => rawRate(oneKey, keyOf(1, 0), oneKey.entries),
    ),
  )
  const globalOne = figure(
    'deltalog global scan, one key',
    'entries/s',
    baseline,
    await paired(
      rounds,
      () => scanRate(oneKey, {}, oneKey.entries),
      () => rawRate(oneKey, undefined, oneKey.entries),
    ),
  )
  const globalMany = figure(
    `deltalog global scan, ${manyKeys.keys.toLocaleString('en-US')} keys`,
    'entries/s',
    baseline,
    await paired(
      rounds,
      () => scanRate(manyKeys, {}, manyKeys.entries),
      () => rawRate(manyKeys, undefined, manyKeys.entries),
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
      target(keyScan, 'ratio', '>=', 3),
      target(globalOne, 'ratio', '>=', 3),
      target(globalMany, 'ratio', '>=', 1),
    ],
    notes: [
      'The baseline reads its own directory, written by the raw binding beside each log: one ' +
        'put per entry, under the format v1 entry key of that entry’s key and sequence, with ' +
        'the same 100-byte value, in the same order, in batches of the same 1000 records. Its ' +
        'iterator hands over every record’s key and value, one awaited pair at a time, in key ' +
        'order (for the key scan, the range of that key’s records; for the global scans, the ' +
        'whole directory); a global scan of the log returns entries in sequence order, which ' +
        'over many keys is not the order the baseline reads them in.',
    ],
  }
}
