// Snapshot case (issue 23): loading an aggregate of a long stream that keeps a snapshot every
// `every` events, against folding a stream of `every` events from its start. The long stream is
// loaded where a load does the most work it ever does without writing a snapshot: its last
// snapshot lies `every - 1` events behind its end.
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { openEventStore, type EventStore, type ReadEvent } from '../../src/index.js'
import { figure, inDir, percentile, target, type CaseResult } from '../measure.js'

export interface SnapshotSizes {
  /** Events of the long stream. */
  readonly events: number
  /** A snapshot every this many events; the short stream has as many events. */
  readonly every: number
  /** Loads measured per side per round, after as many again to warm up. */
  readonly loads: number
  readonly rounds: number
}

type State = { readonly count: number; readonly total: number }

const initialState: State = { count: 0, total: 0 }
/** The fold, counting its calls: a load from the snapshot must fold `every - 1` events. */
let folded = 0
const evolve = (state: State, event: ReadEvent): State => {
  folded++
  return {
    count: state.count + 1,
    total: state.total + (event.data as { readonly amount: number }).amount,
  }
}

const LONG = 'account-long'
const SHORT = 'account-short'
/** Events per append, as commands append a few at a time. */
const APPEND = 10

/**
 * Writes `events` events to `streamId` in appends of APPEND after a first one of a single event,
 * so that the stream's last revision passes every multiple of APPEND. With `snapshot`, loads the
 * aggregate after each append that ends on a multiple of `every` (as a command handler that
 * loads before it appends would, every `every` events): the last snapshot is then at revision
 * `events - every`, the last multiple below the end.
 */
const write = async (
  store: EventStore,
  streamId: string,
  events: number,
  snapshot?: { readonly every: number; readonly version: number },
): Promise<void> => {
  for (let written = 0; written < events;) {
    const n = written === 0 ? 1 : Math.min(APPEND, events - written)
    const batch = Array.from({ length: n }, (_, i) => ({
      type: 'Deposited',
      data: { amount: ((written + i) % 100) + 1, note: 'x'.repeat(60) },
    }))
    const r = await store.appendToStream(streamId, batch)
    written += n
    if (snapshot !== undefined && r.nextExpectedRevision % snapshot.every === 0) {
      await store.aggregateStream(streamId, { initialState, evolve, snapshot })
    }
  }
}

/** Milliseconds of one call of `load`, checking that it folded `expected` events into `count`. */
const timed = async (
  load: () => Promise<State>,
  expected: number,
  count: number,
): Promise<number> => {
  folded = 0
  const start = performance.now()
  const state = await load()
  const ms = performance.now() - start
  if (folded !== expected || state.count !== count) {
    throw new Error(`folded ${folded} events to a count of ${state.count}`)
  }
  return ms
}

const p50 = (xs: ReadonlyArray<number>): number =>
  percentile(
    [...xs].sort((a, b) => a - b),
    0.5,
  )

/** The long stream's load from its snapshot against the short stream's fold, p50 of each. */
export const snapshotLoad = async (sizes: SnapshotSizes): Promise<CaseResult> =>
  inDir('snapshot-load', async (dir) => {
    const path = join(dir, 'events')
    const snapshot = { every: sizes.every, version: 1 }
    const writer = await openEventStore({ path, durability: 'buffered' })
    await write(writer, LONG, sizes.events, snapshot)
    await write(writer, SHORT, sizes.every)
    await writer.close()
    const store = await openEventStore({ path })
    const long = () => store.aggregateStream(LONG, { initialState, evolve, snapshot })
    const short = () => store.aggregateStream(SHORT, { initialState, evolve })
    const subject: number[] = []
    const baseline: number[] = []
    for (let round = 0; round < sizes.rounds; round++) {
      const ls: number[] = []
      const ss: number[] = []
      for (let i = 0; i < 2 * sizes.loads; i++) {
        // Each goes first every other time, so that neither always reads on a warmer cache.
        const first = i % 2 === 0
        const l = async () => ls.push(await timed(long, sizes.every - 1, sizes.events))
        const s = async () => ss.push(await timed(short, sizes.every, sizes.every))
        if (first) {
          await l()
          await s()
        } else {
          await s()
          await l()
        }
      }
      subject.push(p50(ls.slice(sizes.loads)))
      baseline.push(p50(ss.slice(sizes.loads)))
    }
    await store.close()
    const f = figure(
      `aggregateStream p50, ${sizes.events.toLocaleString('en-US')} events, snapshot every ${sizes.every.toLocaleString('en-US')}`,
      'ms',
      `aggregateStream p50, ${sizes.every.toLocaleString('en-US')} events, no snapshot`,
      { subject, baseline },
    )
    return {
      id: 'snapshot-load',
      title: 'Aggregate load with snapshots',
      setup:
        `one stream of ${sizes.events.toLocaleString('en-US')} events with a snapshot every ` +
        `${sizes.every.toLocaleString('en-US')} and one of ${sizes.every.toLocaleString('en-US')} ` +
        `events, both in appends of ${APPEND}, in one store (RocksDB); ` +
        `${sizes.loads.toLocaleString('en-US')} loads of each per round after as many to warm up`,
      rounds: sizes.rounds,
      figures: [f],
      targets: [target(f, 'ratio', '<=', 1.5)],
      notes: [
        'The long stream’s snapshots were written as a command handler that loads the ' +
          'aggregate before each command writes them: a load that has folded ' +
          `${sizes.every.toLocaleString('en-US')} events past the last snapshot stores a new ` +
          `one. Its last snapshot is ${(sizes.every - 1).toLocaleString('en-US')} events ` +
          'behind its end, so each timed load reads the snapshot, then folds ' +
          `${(sizes.every - 1).toLocaleString('en-US')} events: the most a load ever folds ` +
          'without writing a snapshot. The baseline folds the short stream from its start, ' +
          'with the same fold.',
      ],
    }
  })
