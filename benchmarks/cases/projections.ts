// Projection cases (issue 23). Catch-up: an inline projection of one document per stream folds a
// large log from the start, against the same fold written by hand with readAll and
// appendToStream, each on its own copy of the same store. Lag: one append at a time to a store
// with a live projection, the time from the append's acknowledgement to the commit of the
// projection's batch that holds it, against the append's own latency.
import { cp } from 'node:fs/promises'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { orThrow } from '../../src/errors.js'
import { decodeState, stateKey } from '../../src/eventstore/documents.js'
import { openEventStore, type EventStore, type ReadEvent } from '../../src/index.js'
import { removeDir } from '../../test/support/tmpdir.js'
import { random } from '../layouts/workloads.js'
import {
  figure,
  inDir,
  paired,
  percentile,
  perSecond,
  target,
  type CaseResult,
  type Figure,
} from '../measure.js'

export interface CatchUpSizes {
  /** Events in the log the projection folds. */
  readonly events: number
  /** Streams they are spread over: one document each. */
  readonly streams: number
  readonly rounds: number
}

export interface LagSizes {
  /** Appends measured per round, one at a time. */
  readonly appends: number
  readonly rounds: number
}

// -------------------------------------------------------------------------------------
// the fold both sides do
// -------------------------------------------------------------------------------------

/** A stream's document: how many events it has and the sum of their amounts. */
type Doc = { readonly count: number; readonly total: number }

const init = (): Doc => ({ count: 0, total: 0 })
const evolve = (doc: Doc, event: ReadEvent): Doc => ({
  count: doc.count + 1,
  total: doc.total + (event.data as { readonly amount: number }).amount,
})

const stream = (s: number): string => `account-${s}`
const eventOf = (i: number) =>
  ({ type: 'Deposited', data: { amount: (i % 100) + 1, note: 'x'.repeat(60) } }) as const

/** Events per commit while preloading, and what each side folds into one commit. */
const BATCH = 1000

/**
 * Resolves `committed(position)` when the projection `name` commits its state through
 * `position`: a follower of the state's key, woken by the commit itself, so the time is that of
 * the commit, with no polling.
 */
const watchCommits = (store: EventStore, name: string) => {
  const stop = new AbortController()
  let through = -1
  let throughAt = 0
  let waiting: { readonly position: number; readonly resolve: (at: number) => void } | undefined
  const follower = (async () => {
    try {
      const follow = store.log.follow({
        key: stateKey(name),
        from: store.log.nextSequence(),
        signal: stop.signal,
      })
      for await (const entry of follow) {
        const at = performance.now()
        through = orThrow(decodeState(entry.value)).active.position
        throughAt = at
        if (waiting !== undefined && through >= waiting.position) {
          waiting.resolve(at)
          waiting = undefined
        }
      }
    } catch (error) {
      if (!stop.signal.aborted) throw error
    }
  })()
  return {
    /** When the commit through `position` was seen (performance.now()). */
    committed: (position: number): Promise<number> =>
      through >= position
        ? Promise.resolve(throughAt)
        : new Promise<number>((resolve) => (waiting = { position, resolve })),
    close: async (): Promise<void> => {
      stop.abort()
      await follower
    },
  }
}

// -------------------------------------------------------------------------------------
// catch-up
// -------------------------------------------------------------------------------------

/** What the preloaded store holds: the last event's position, and how many streams have events. */
interface Preloaded {
  readonly last: number
  readonly streams: number
}

/**
 * Writes `events` events over `streams` streams, drawn at random, in commits of BATCH (each
 * stream's events of a commit together), and closes the store.
 */
const preload = async (path: string, sizes: CatchUpSizes): Promise<Preloaded> => {
  const store = await openEventStore({ path, durability: 'buffered' })
  const next = random(23)
  const used = new Set<string>()
  let last = -1
  for (let from = 0; from < sizes.events; from += BATCH) {
    const byStream = new Map<string, ReturnType<typeof eventOf>[]>()
    for (let i = from; i < Math.min(sizes.events, from + BATCH); i++) {
      const id = stream(Math.floor(next() * sizes.streams))
      const events = byStream.get(id) ?? []
      events.push(eventOf(i))
      byStream.set(id, events)
      used.add(id)
    }
    const results = await store.appendMulti(
      [...byStream].map(([streamId, events]) => ({ streamId, events })),
    )
    last = Math.max(last, ...results.map((r) => r.position))
  }
  await store.close()
  return { last, streams: used.size }
}

/** The projection from the start, until it has committed the last preloaded event. */
const byProjection = async (
  path: string,
  { last, streams }: Preloaded,
  events: number,
): Promise<number> => {
  const store = await openEventStore({ path })
  const commits = watchCommits(store, 'documents')
  const start = performance.now()
  const projection = await store.projection<Doc>('documents', {
    init,
    evolve,
    key: (e) => e.streamId,
  })
  const end = await commits.committed(last)
  await projection.stop()
  await commits.close()
  await projection.done
  // One document per stream, and every event counted once in them.
  let documents = 0
  let counted = 0
  for await (const { document } of projection.scan()) {
    documents++
    counted += document.count
  }
  if (documents !== streams || counted !== events) {
    throw new Error(
      `${documents} documents count ${counted} events; expected ${streams}, ${events}`,
    )
  }
  await store.close()
  return perSecond(events, end - start)
}

/**
 * The same fold by hand: one readAll to the head, the documents in memory, and after every
 * BATCH events each changed document appended as an event to its own stream, all at once (the
 * store's writer groups them into few commits), then the checkpoint saved.
 */
const byHand = async (path: string, events: number): Promise<number> => {
  const store = await openEventStore({ path })
  const start = performance.now()
  const docs = new Map<string, Doc>()
  const changed = new Set<string>()
  let folded = 0
  let last = -1
  const flush = async (): Promise<void> => {
    await Promise.all(
      [...changed].map((id) =>
        store.appendToStream(`document-${id}`, [{ type: 'Document', data: docs.get(id) ?? null }]),
      ),
    )
    await store.checkpoints.save('documents', last)
    changed.clear()
  }
  for await (const event of store.readAll({ to: store.log.nextSequence() })) {
    docs.set(event.streamId, evolve(docs.get(event.streamId) ?? init(), event))
    changed.add(event.streamId)
    last = event.position
    if (++folded % BATCH === 0) await flush()
  }
  if (changed.size > 0) await flush()
  const end = performance.now()
  if (folded !== events) throw new Error(`folded ${folded} events by hand, expected ${events}`)
  await store.close()
  return perSecond(events, end - start)
}

/** Projection catch-up against the fold by hand: events folded per second. */
export const projectionCatchUp = async (sizes: CatchUpSizes): Promise<CaseResult> =>
  inDir('catch-up', async (dir) => {
    const original = join(dir, 'preloaded')
    const preloaded = await preload(original, sizes)
    /** A side on a fresh copy of the preloaded store, so that no side reads another's writes. */
    const onCopy =
      (name: string, side: (path: string) => Promise<number>) =>
      async (round: number): Promise<number> => {
        const path = join(dir, `${name}-${round}`)
        await cp(original, path, { recursive: true })
        try {
          return await side(path)
        } finally {
          await removeDir(path)
        }
      }
    const f = figure(
      'inline projection, one document per stream',
      'events/s',
      'by hand: readAll, each changed document appended to its own stream, then a checkpoint',
      await paired(
        sizes.rounds,
        onCopy('projection', (path) => byProjection(path, preloaded, sizes.events)),
        onCopy('by-hand', (path) => byHand(path, sizes.events)),
      ),
    )
    return {
      id: 'projection-catch-up',
      title: 'Projection catch-up',
      setup:
        `${sizes.events.toLocaleString('en-US')} events of ${sizes.streams.toLocaleString('en-US')} ` +
        'streams, folded from the start into one document per stream, on a copy of the same ' +
        'store (RocksDB, sync) for each side',
      rounds: sizes.rounds,
      figures: [f],
      targets: [target(f, 'ratio', '>=', 2)],
      notes: [
        `The store is written in commits of ${BATCH} events drawn at random among the streams ` +
          '(each commit holds each stream’s events together), then copied for each side; the ' +
          'store on the copy is opened with its defaults. The fold counts each stream’s events ' +
          'and sums their amounts.',
        `The projection (\`store.projection\`, key the stream id, ${BATCH} events per batch) ` +
          'commits each batch’s changed documents with its position in one commit; the time ' +
          'runs from the call to the commit that holds the last event, seen by a follower of ' +
          'the projection’s state key.',
        'The fold by hand is what a user would write without projections: one `readAll` to ' +
          `the head, the documents kept in memory, and after every ${BATCH} events each changed ` +
          'document appended as one event to a stream of its own (`document-<stream id>`, its ' +
          'newest event is the document), all those `appendToStream` calls at once so that the ' +
          "store's writer groups them, then `checkpoints.save` of the last position folded. It " +
          'is at-least-once: the checkpoint is a commit of its own.',
      ],
    }
  })

// -------------------------------------------------------------------------------------
// lag
// -------------------------------------------------------------------------------------

interface Latencies {
  readonly acknowledged: ReadonlyArray<number>
  readonly committed: ReadonlyArray<number>
}

/** One round: appends one at a time, each awaited, then its projection's commit awaited. */
const measureLag = (appends: number): Promise<Latencies> =>
  inDir('projection-lag', async (dir) => {
    const store = await openEventStore({ path: join(dir, 'events'), durability: 'sync' })
    const commits = watchCommits(store, 'documents')
    const projection = await store.projection<Doc>('documents', {
      init,
      evolve,
      key: (e) => e.streamId,
    })
    const acknowledged: number[] = []
    const committed: number[] = []
    for (let i = 0; i < appends; i++) {
      const start = performance.now()
      const { position } = await store.appendToStream(stream(i % 100), [eventOf(i)])
      const ack = performance.now()
      acknowledged.push(ack - start)
      committed.push((await commits.committed(position)) - ack)
    }
    await projection.stop()
    await commits.close()
    await projection.done
    await store.close()
    return { acknowledged, committed }
  })

/** The `p` quantile of each round's commit lags beside that of its acknowledgements. */
const lagQuantile = (rounds: ReadonlyArray<Latencies>, p: 0.5 | 0.99): Figure => {
  const at = (xs: ReadonlyArray<number>): number =>
    percentile(
      [...xs].sort((a, b) => a - b),
      p,
    )
  return figure(
    `projection committed after the acknowledgement, p${p * 100}, sync`,
    'ms',
    `appendToStream resolved p${p * 100}, sync`,
    {
      subject: rounds.map((r) => at(r.committed)),
      baseline: rounds.map((r) => at(r.acknowledged)),
    },
  )
}

/** From an append's acknowledgement to its projection's commit, against the append itself. */
export const projectionLag = async (sizes: LagSizes): Promise<CaseResult> => {
  const rounds: Latencies[] = []
  for (let round = 0; round < sizes.rounds; round++) rounds.push(await measureLag(sizes.appends))
  const p50 = lagQuantile(rounds, 0.5)
  return {
    id: 'projection-lag',
    title: 'Projection lag',
    setup:
      `${sizes.appends.toLocaleString('en-US')} appendToStream calls of one event per round, ` +
      'one at a time over 100 streams, to a store (RocksDB, sync) with an inline projection of ' +
      'one document per stream running',
    rounds: sizes.rounds,
    figures: [p50, lagQuantile(rounds, 0.99)],
    targets: [target(p50, 'ratio', '<=', 2)],
    notes: [
      'Each append is awaited, then the commit of the projection’s batch that holds its event; ' +
        'the next append starts after it. The lag runs from the append resolving to that ' +
        'commit, seen by a follower of the projection’s state key (woken by the commit itself): ' +
        'the projection is woken by the append’s commit, reads the event, folds it, and commits ' +
        'the document with its position, itself a synced commit.',
    ],
  }
}
