// Case 6, recovery is O(1): the time `openLog` takes on a large log divided by the time on a
// small one. The raw binding's own open time on its copies of the same two logs (one record per
// entry, written beside each log by `writeDataset`) is reported beside it.
import { openLog } from '../../src/index.js'
import { figure, paired, target, time, type CaseResult } from '../measure.js'
import { openRaw } from '../raw.js'
import type { Dataset } from './reads.js'

const openTime = async (data: Dataset): Promise<number> => {
  let close: () => Promise<void> = () => Promise.resolve()
  const ms = await time(async () => {
    const log = await openLog({ path: data.path })
    close = log.close
  })
  await close()
  return ms
}

const rawOpenTime = async (data: Dataset): Promise<number> => {
  let close: () => Promise<void> = () => Promise.resolve()
  const ms = await time(async () => {
    const db = await openRaw(data.rawPath)
    close = db.close
  })
  await close()
  return ms
}

export const recovery = async (
  large: Dataset,
  small: Dataset,
  rounds: number,
): Promise<CaseResult> => {
  const n = (d: Dataset): string => d.entries.toLocaleString('en-US')
  const deltalog = figure(
    `deltalog openLog, ${n(large)} entries`,
    'ms',
    `deltalog openLog, ${n(small)} entries`,
    await paired(
      rounds,
      () => openTime(large),
      () => openTime(small),
    ),
  )
  const raw = figure(
    `rocksdb binding open, ${n(large)} entries`,
    'ms',
    `rocksdb binding open, ${n(small)} entries`,
    await paired(
      rounds,
      () => rawOpenTime(large),
      () => rawOpenTime(small),
    ),
  )
  return {
    id: 'recovery',
    title: 'Recovery is O(1)',
    setup:
      `open time of a log of ${n(large)} entries against one of ${n(small)}, both closed ` +
      'cleanly and written the same way; the ratio is large / small',
    rounds,
    figures: [deltalog, raw],
    targets: [target(deltalog, 'ratio', '<=', 1.2)],
    notes: [
      'Opening reads the SeqBlock and the truncation watermark and syncs once; nothing scans ' +
        'the log. The raw open shows what RocksDB itself costs: it opens the raw binding’s own ' +
        'copies of the two logs, one record per entry, as the reads case reads them.',
    ],
  }
}
