// Case 5, follow latency: the time from calling `append` to a follower receiving the entry, in
// both durability modes, paired with the time the same append takes to resolve. One append is
// in flight at a time, so the figures are latencies, not queueing. The target: a follower gets an
// entry at most 20% later than its append resolves (p50, in each mode).
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { openLog } from '../../src/index.js'
import { makeTempDir, removeDir } from '../../test/support/tmpdir.js'
import { figure, percentile, target, valueOf, type CaseResult, type Figure } from '../measure.js'

export interface FollowSizes {
  readonly appends: number
  readonly rounds: number
}

interface Latencies {
  readonly delivered: ReadonlyArray<number>
  readonly acknowledged: ReadonlyArray<number>
}

const measure = async (durability: 'sync' | 'buffered', appends: number): Promise<Latencies> => {
  const dir = await makeTempDir('bench-follow')
  try {
    const log = await openLog({ path: join(dir, 'log'), durability })
    const value = valueOf(100)
    const stop = new AbortController()
    let received: (at: number) => void = () => undefined
    const follower = (async () => {
      for await (const _ of log.follow({ signal: stop.signal })) received(performance.now())
    })()
    const delivered: number[] = []
    const acknowledged: number[] = []
    for (let i = 0; i < appends; i++) {
      const arrived = new Promise<number>((resolve) => (received = resolve))
      const start = performance.now()
      await log.append([{ key: 'stream-0', value }])
      acknowledged.push(performance.now() - start)
      delivered.push((await arrived) - start)
    }
    stop.abort()
    await follower
    await log.close()
    return { delivered, acknowledged }
  } finally {
    await removeDir(dir)
  }
}

/** The `p` quantile of each round's deliveries beside that of its acknowledgements. */
const quantile = (
  durability: 'sync' | 'buffered',
  rounds: ReadonlyArray<Latencies>,
  p: 0.5 | 0.99,
): Figure => {
  const at = (xs: ReadonlyArray<number>): number =>
    percentile(
      [...xs].sort((a, b) => a - b),
      p,
    )
  return figure(
    `follow delivery p${p * 100}, ${durability}`,
    'ms',
    `append resolved p${p * 100}, ${durability}`,
    {
      subject: rounds.map((r) => at(r.delivered)),
      baseline: rounds.map((r) => at(r.acknowledged)),
    },
  )
}

/** The p50 delivery may take at most this many times the p50 append, in either mode. */
const DELIVERY_RATIO = 1.2

export const followLatency = async (sizes: FollowSizes): Promise<CaseResult> => {
  const sync: Latencies[] = []
  const buffered: Latencies[] = []
  for (let round = 0; round < sizes.rounds; round++) {
    sync.push(await measure('sync', sizes.appends))
    buffered.push(await measure('buffered', sizes.appends))
  }
  const syncP50 = quantile('sync', sync, 0.5)
  const bufferedP50 = quantile('buffered', buffered, 0.5)
  return {
    id: 'follow-latency',
    title: 'Follow latency',
    setup:
      `${sizes.appends.toLocaleString('en-US')} appends of one 100-byte record per round, ` +
      'one at a time, to a log with one follower of all keys',
    rounds: sizes.rounds,
    figures: [
      syncP50,
      quantile('sync', sync, 0.99),
      bufferedP50,
      quantile('buffered', buffered, 0.99),
    ],
    targets: [
      target(syncP50, 'ratio', '<=', DELIVERY_RATIO),
      target(bufferedP50, 'ratio', '<=', DELIVERY_RATIO),
    ],
    notes: [
      'The baseline is the append itself: a follower is woken after the commit that resolves ' +
        'the append, so the ratio shows what delivery adds on top of the acknowledgement.',
    ],
  }
}
