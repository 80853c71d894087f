// What tracing costs: append throughput with one subscriber on every tracing channel against the
// same appends with none, in the same process, rounds alternating which runs first. Two loads:
// 256 producers of one-record appends in sync mode (group commit, on RocksDB), and one producer
// of buffered one-record appends (where a per-append cost shows most). Medians are reported, and
// the traced median as a fraction of the untraced one.
//
//   npm run bench:tracing [-- --quick] [-- --ms MS --rounds R]
import dc from 'node:diagnostics_channel'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { CHANNEL_NAMES, openLog, type OpenOptions } from '../src/index.js'
import { inDir, paired, producers, valueOf } from './measure.js'

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    ms: { type: 'string' },
    rounds: { type: 'string' },
  },
})
const MS = Number(values.ms ?? (values.quick ? 200 : 3000))
const ROUNDS = Number(values.rounds ?? (values.quick ? 2 : 6))
const VALUE = valueOf(100)

// A subscriber that does what any must: look at the context on every event.
let seen = 0
const look = (context: unknown): void => {
  if (context !== undefined) seen++
}
const handlers = { start: look, end: look, asyncStart: look, asyncEnd: look, error: look }
const channels = Object.values(CHANNEL_NAMES).map((name) => dc.tracingChannel(name))

/** Runs `run` with the subscriber on every channel, or with none. */
const withTracing = async <A>(traced: boolean, run: () => Promise<A>): Promise<A> => {
  if (!traced) return run()
  for (const channel of channels) channel.subscribe(handlers)
  try {
    return await run()
  } finally {
    for (const channel of channels) channel.unsubscribe(handlers)
  }
}

/** Appends per second of `count` producers on a new log opened with `options`. */
const appendRate =
  (name: string, count: number, options: Omit<OpenOptions, 'path'>) =>
  (traced: boolean) =>
  (): Promise<number> =>
    inDir(`tracing-${name}`, async (dir) => {
      const log = await openLog({ ...options, path: join(dir, 'log') })
      const rate = await withTracing(traced, () =>
        producers(count, MS, (p) => log.append([{ key: `producer-${p}`, value: VALUE }])),
      )
      await log.close()
      return rate
    })

const median = (xs: ReadonlyArray<number>): number => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)] ?? NaN
}

const main = async (): Promise<void> => {
  const loads = [
    { label: 'group commit, 256 producers, sync', rate: appendRate('sync', 256, {}) },
    {
      label: 'one producer, buffered',
      rate: appendRate('buffered', 1, { durability: 'buffered' }),
    },
  ]
  for (const load of loads) {
    const { subject, baseline } = await paired(ROUNDS, load.rate(true), load.rate(false))
    const traced = median(subject)
    const plain = median(baseline)
    console.log(
      `${load.label}: ${Math.round(plain)} appends/s untraced, ${Math.round(traced)} traced ` +
        `(${((traced / plain) * 100).toFixed(1)}%, ${ROUNDS} rounds of ${MS} ms)`,
    )
  }
  console.log(`(${seen} events seen by the subscriber)`)
}

await main()
