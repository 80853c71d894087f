// checkProjection passes what keeps its promises across crashes — the bank example's inline
// projection and consumer, a hand-written projection that commits its documents with its
// checkpoint — and fails, with the seed and path that replay the failure, what breaks them:
// a checkpoint saved before the documents or after them in a commit of its own, a document
// cache that a power loss leaves ahead of the store, a position past the events, a projection
// that never catches up, and a consumer that saves its checkpoint before handling.
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { EventStore, ReadEvent } from '../../src/index.js'
import {
  checkProjection,
  type CheckProjectionOptions,
  type CustomConsumerUnderTest,
  type CustomProjectionUnderTest,
  type SavedProjection,
  type StreamAppend,
} from '../../src/testing/index.js'
import { playStory, type Step } from '../../src/testing/projectionStory.js'
import { subjectOf } from '../../src/testing/projectionSubjects.js'
import { balances, notifier, type Balance } from '../../examples/bank-account.js'
import { numRuns } from '../support/budget.js'

/** The bank's commands, as appends: deposits and withdrawals on three accounts. */
const bankEvents: fc.Arbitrary<StreamAppend> = fc.record({
  streamId: fc.constantFrom('account-alice', 'account-bob', 'account-carol'),
  events: fc.array(
    fc.record({
      type: fc.constantFrom('Deposited', 'Withdrawn'),
      data: fc.record({ amount: fc.integer({ min: 1, max: 100 }) }),
    }),
    { minLength: 1, maxLength: 3 },
  ),
})

/**
 * Checks `projection` on the bank's events: passing checks get the suite's budget of runs; a
 * check that must fail gets a fixed 100, which costs nothing past its first failure.
 */
const check = (
  projection: CheckProjectionOptions<Balance>['projection'],
  options: Partial<CheckProjectionOptions<Balance>> = {},
): Promise<void> =>
  checkProjection<Balance>({ projection, events: bankEvents, runs: numRuns(10), ...options })

const mustFail = (
  projection: CheckProjectionOptions<Balance>['projection'],
  options: Partial<CheckProjectionOptions<Balance>> = {},
): Promise<string> => failureOf(check(projection, { runs: 100, ...options }))

/** What a failing check rejects with. */
const failureOf = async (checking: Promise<void>): Promise<string> => {
  const error = await checking.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(error, 'the check passed').toBeInstanceOf(Error)
  return (error as Error).message
}

/** The seed and path a failure names, to replay it. */
const replayOf = (message: string): { seed: number; path: string } => {
  const found = /Replay: checkProjection\(\{ …, seed: (-?\d+), path: "([\d:]*)" \}\)/.exec(message)
  expect(found, message).not.toBeNull()
  return { seed: Number(found?.[1]), path: found?.[2] ?? '' }
}

// -------------------------------------------------------------------------------------
// hand-written projections: documents as events of `balance-<account>`, the position a checkpoint
// -------------------------------------------------------------------------------------

const CHECKPOINT = 'hand-written'

/** The documents: the last event of each `balance-` stream; the position: the checkpoint. */
const readSaved = async (store: EventStore): Promise<SavedProjection<Balance>> => {
  const documents = new Map<string, Balance>()
  for await (const e of store.readAll({ filter: { streamPrefix: 'balance-' } })) {
    documents.set(e.streamId.slice('balance-'.length), e.data as Balance)
  }
  return { position: await store.checkpoints.load(CHECKPOINT), documents }
}

const lastDocument = async (store: EventStore, key: string): Promise<Balance | undefined> => {
  let last: ReadEvent | undefined
  for await (const e of store.readStream(`balance-${key}`, { reverse: true, limit: 1 })) last = e
  return last?.data as Balance | undefined
}

/** Each account event, after the checkpoint, as it comes; `save` writes its document. */
const eachEvent = async (
  store: EventStore,
  signal: AbortSignal,
  after: number | undefined,
  save: (key: string, document: Balance, event: ReadEvent) => Promise<void>,
  document: (key: string) => Promise<Balance | undefined> = (key) => lastDocument(store, key),
): Promise<void> => {
  for await (const m of store.subscribeToAll({
    ...(after === undefined ? {} : { after }),
    filter: balances.filter,
    signal,
  })) {
    if (m.type !== 'event') continue
    const key = balances.key(m.event) as string
    const next = balances.evolve((await document(key)) ?? balances.init(key), m.event) as Balance
    await save(key, next, m.event)
  }
}

type Order = 'in one commit' | 'checkpoint first' | 'documents first'

/** A hand-written projection that writes a document and the checkpoint in `order`. */
const handWritten = (order: Order): CustomProjectionUnderTest<Balance> => ({
  ...balances,
  run: async (store, signal) =>
    eachEvent(store, signal, await store.checkpoints.load(CHECKPOINT), async (key, doc, event) => {
      const write = (checkpoint: boolean) =>
        store.appendToStream(
          `balance-${key}`,
          [{ type: 'Balance', data: doc }],
          checkpoint ? { checkpoint: { name: CHECKPOINT, position: event.position } } : {},
        )
      if (order === 'in one commit') await write(true)
      else if (order === 'checkpoint first') {
        await store.checkpoints.save(CHECKPOINT, event.position)
        await write(false)
      } else {
        await write(false)
        await store.checkpoints.save(CHECKPOINT, event.position)
      }
    }),
  read: readSaved,
})

/**
 * Broken only by a power loss: its documents are cached outside the process (as in another
 * service's memory) and kept over a restart unless the store has a later position. A power
 * loss that took its last commits leaves the cache ahead of the store: the events after the
 * store's position are then folded a second time into documents that already hold them. A
 * process kill loses nothing it wrote, so the cache is never ahead.
 */
const cached = (): CustomProjectionUnderTest<Balance> => {
  let cache: { position: number; documents: Map<string, Balance> } | undefined
  return {
    ...balances,
    run: async (store, signal) => {
      const saved = await readSaved(store)
      const position = saved.position ?? -1
      if (saved.position === undefined || cache === undefined || position > cache.position) {
        cache = { position, documents: new Map(saved.documents) }
      }
      const c = cache
      c.position = position
      await eachEvent(
        store,
        signal,
        saved.position,
        async (key, doc, event) => {
          await store.appendToStream(`balance-${key}`, [{ type: 'Balance', data: doc }], {
            checkpoint: { name: CHECKPOINT, position: event.position },
          })
          c.documents.set(key, doc)
          c.position = event.position
        },
        (key) => Promise.resolve(c.documents.get(key)),
      )
    },
    read: readSaved,
  }
}

/**
 * Broken: once caught up it marks itself so with a position no event has (a sentinel), kept
 * with its documents in the stream `balance-position`.
 */
const sentinel = (): CustomProjectionUnderTest<Balance> => ({
  ...balances,
  run: async (store, signal) => {
    const after = (await readWithPosition(store)).position
    for await (const m of store.subscribeToAll({
      ...(after === undefined || after === Number.MAX_SAFE_INTEGER ? {} : { after }),
      filter: balances.filter,
      signal,
    })) {
      if (m.type === 'caughtUp') {
        await savePosition(store, [], Number.MAX_SAFE_INTEGER)
        continue
      }
      const key = balances.key(m.event) as string
      const doc = balances.evolve(
        (await lastDocument(store, key)) ?? balances.init(key),
        m.event,
      ) as Balance
      await savePosition(store, [{ streamId: `balance-${key}`, doc }], m.event.position)
    }
  },
  read: readWithPosition,
})

const savePosition = async (
  store: EventStore,
  docs: ReadonlyArray<{ streamId: string; doc: Balance }>,
  position: number,
): Promise<void> => {
  await store.appendMulti([
    ...docs.map((d) => ({ streamId: d.streamId, events: [{ type: 'Balance', data: d.doc }] })),
    { streamId: 'position', events: [{ type: 'Position', data: { position } }] },
  ])
}

const readWithPosition = async (store: EventStore): Promise<SavedProjection<Balance>> => {
  const { documents } = await readSaved(store)
  let position: number | undefined
  for await (const e of store.readStream('position', { reverse: true, limit: 1 })) {
    position = (e.data as { position: number }).position
  }
  return { position, documents }
}

/** Broken: it never folds anything (its saved state is always that of no event). */
const idle: CustomProjectionUnderTest<Balance> = {
  ...balances,
  run: (_store, signal) =>
    new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true })),
  read: () => Promise.resolve({ position: undefined, documents: new Map() }),
}

/** A hand-written consumer: handles each event, then saves its checkpoint — or the reverse. */
const consumer = (order: 'handle first' | 'checkpoint first'): CustomConsumerUnderTest => ({
  filter: balances.filter,
  run: async (store, signal, handled) => {
    const after = await store.checkpoints.load(CHECKPOINT)
    for await (const m of store.subscribeToAll({
      ...(after === undefined ? {} : { after }),
      filter: balances.filter,
      signal,
    })) {
      if (m.type !== 'event') continue
      if (order === 'handle first') handled([m.event])
      await store.checkpoints.save(CHECKPOINT, m.event.position)
      if (order === 'checkpoint first') handled([m.event])
    }
  },
  checkpoint: (store) => store.checkpoints.load(CHECKPOINT),
})

// -------------------------------------------------------------------------------------
// tests
// -------------------------------------------------------------------------------------

describe('checkProjection passes', () => {
  it("the bank example's inline projection", async () => {
    await check({ name: 'balances', ...balances })
  })

  it("the bank example's consumer", async () => {
    await check({ consumer: { name: 'large-withdrawals', ...notifier(() => undefined) } })
  })

  it('a hand-written projection that commits each document with its checkpoint', async () => {
    await check(handWritten('in one commit'))
  })

  it('a hand-written consumer that saves its checkpoint after handling', async () => {
    await check({ consumer: consumer('handle first') })
  })

  it('an inline projection on the default events, in either durability', async () => {
    const counts = {
      name: 'counts',
      init: () => ({ n: 0, sum: 0 }),
      evolve: (d: { n: number; sum: number }, e: ReadEvent) => ({
        n: d.n + 1,
        sum: d.sum + (e.data as { amount: number }).amount,
      }),
      key: (e: ReadEvent) => e.streamId,
    }
    await checkProjection({ projection: counts, runs: numRuns(5), durability: 'sync' })
    await checkProjection({ projection: counts, runs: numRuns(5), durability: 'buffered' })
  })
})

describe('a story played after a crash', () => {
  // Appends in buffered durability, then a power loss: each seed keeps its own prefix of the
  // unsynced commits, so most of these lose events the projection had folded. A correct
  // projection passes every one only if each copy is checked against the events of its own
  // lineage; checked against events the crash took, its documents would not be their fold.
  const append = (streamId: string, amount: number): Step => ({
    kind: 'append',
    append: { streamId, events: [{ type: 'Added', data: { amount } }] },
  })
  const counts = {
    name: 'counts',
    init: () => ({ n: 0 }),
    evolve: (d: { n: number }) => ({ n: d.n + 1 }),
    key: (e: ReadEvent) => e.streamId,
  }

  it.each([1, 2, 3, 4, 5, 6])(
    'is checked against the events of the storage it was taken from (crash seed %i)',
    async (seed) => {
      const story: Step[] = [
        append('stream-0', 1),
        append('stream-0', 2),
        append('stream-1', 3),
        append('stream-0', 4),
        { kind: 'crash', mode: 'power', seed, turns: 0 },
        append('stream-0', 5),
        append('stream-1', 6),
      ]
      const setting = { durability: 'buffered', seed: 7, maxDelayTurns: 0, powerSeed: 7 } as const
      await expect(playStory(subjectOf(counts), setting, story)).resolves.toBeUndefined()
    },
  )
})

describe('checkProjection fails, with a seed and path that replay the failure', () => {
  it.each(['checkpoint first', 'documents first'] as const)(
    'a projection that saves its checkpoint and its documents in separate commits (%s)',
    async (order) => {
      const message = await mustFail(handWritten(order))
      expect(message).toMatch(
        /^checkProjection failed: after .*: the documents are not the fold of (no event|the events up to position \d+)/,
      )
      const { seed, path } = replayOf(message)
      // The seed and path replay the shrunk failure, and nothing else.
      const replayed = await mustFail(handWritten(order), { seed, path })
      expect(replayed.split('\n')[0]).toBe(message.split('\n')[0])
    },
  )

  it('a projection whose document cache a power loss leaves ahead of the store', async () => {
    const message = await mustFail(cached(), {
      durability: 'buffered',
      steps: 8,
      // One kind of append: a failure shrinks in fewer runs.
      events: fc.constant({
        streamId: 'account-alice',
        events: [{ type: 'Deposited', data: { amount: 10 } }],
      }),
    })
    expect(message).toMatch(/the documents are not the fold/)
    expect(message).toMatch(/cut the power/)
    replayOf(message)
  })

  it('a projection that saves a position past every event (a sentinel for caught up)', async () => {
    const message = await mustFail(sentinel())
    expect(message).toMatch(/the saved position 9007199254740991 passes the head of the log/)
    replayOf(message)
  })

  it('a projection that never catches up', async () => {
    const message = await mustFail(idle)
    expect(message).toMatch(/it did not catch up: its saved position is undefined and stayed so/)
    replayOf(message)
  })

  it('a consumer that saves its checkpoint before it handles the event', async () => {
    const message = await mustFail({ consumer: consumer('checkpoint first') })
    expect(message).toMatch(/at or below the checkpoint \d+ but was never handled/)
    replayOf(message)
  })

  it('a projection whose run fails', async () => {
    const failing = {
      name: 'failing',
      ...balances,
      evolve: (d: Balance, e: ReadEvent) => {
        if (e.type === 'Withdrawn') throw new Error('withdrawals are not supported')
        return balances.evolve(d, e)
      },
    }
    const message = await mustFail(failing)
    expect(message).toMatch(/its run failed: .*withdrawals are not supported/)
  })
})

describe('checkProjection refuses options it cannot use', () => {
  it.each([
    [{ projection: idle, bogus: 1 }, /options\.bogus: is not an option/],
    [{ projection: idle, runs: 0 }, /options\.runs: must be a positive integer/],
    [{ projection: idle, durability: 'fast' }, /options\.durability/],
    [{ projection: idle, events: [] }, /options\.events: must be a fast-check arbitrary/],
    [{ projection: { ...balances } }, /projection\.name: must be a string/],
    [{ projection: { ...idle, evolve: 1 } }, /projection\.evolve: must be a function/],
    [{ projection: { ...idle, query: 'all' } }, /projection\.query: give a filter or a query/],
    [
      { projection: { consumer: { run: () => undefined } } },
      /consumer\.checkpoint: must be a function/,
    ],
  ])('%o', async (options, message) => {
    await expect(checkProjection(options as never)).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: expect.stringMatching(message) as unknown,
    })
  })
})
