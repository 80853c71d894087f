// Case 7, bounded memory: the peak RSS of a process whose fast producer appends millions of
// records in buffered mode, against the same producer writing through the raw binding.
import { runTypeScript } from '../../test/support/child.js'
import { makeTempDir, removeDir } from '../../test/support/tmpdir.js'
import { figure, paired, target, type CaseResult } from '../measure.js'

export interface MemorySizes {
  readonly records: number
  readonly rounds: number
}

const CHILD = new URL('./memoryChild.ts', import.meta.url).pathname
const MB = 1024 * 1024

const peakRss = async (store: 'deltalog' | 'raw', records: number): Promise<number> => {
  const dir = await makeTempDir(`bench-memory-${store}`)
  try {
    const child = runTypeScript(CHILD, {
      timeoutMs: 20 * 60_000,
      args: [store, dir, String(records)],
    })
    if (child.status !== 0) {
      throw new Error(`memory child for ${store} failed: ${child.stderr || String(child.error)}`)
    }
    const reported = JSON.parse(child.stdout.trim().split('\n').pop() ?? '') as {
      readonly peakRssBytes: number
    }
    return reported.peakRssBytes / MB
  } finally {
    await removeDir(dir)
  }
}

export const boundedMemory = async (sizes: MemorySizes): Promise<CaseResult> => {
  const f = figure(
    'deltalog process, peak RSS',
    'MB',
    'rocksdb binding process, peak RSS',
    await paired(
      sizes.rounds,
      () => peakRss('deltalog', sizes.records),
      () => peakRss('raw', sizes.records),
    ),
  )
  return {
    id: 'bounded-memory',
    title: 'Bounded memory',
    setup:
      `a child process appends ${sizes.records.toLocaleString('en-US')} records of 100 bytes ` +
      'in buffered mode, in batches of 1000 with up to 16 batches in flight; peak RSS of the ' +
      'whole process (Node.js, tsx, RocksDB)',
    rounds: sizes.rounds,
    figures: [f],
    targets: [target(f, 'subject', '<=', 250)],
    notes: [],
  }
}
