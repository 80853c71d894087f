// A bank account on the event store: commands that decide on an account's state (folded from a
// snapshot and the events after it) and append with optimistic concurrency; an inline
// projection of every account's balance, whose documents are committed with the position they
// reflect, exactly once; and a durable consumer that notifies large withdrawals, at least once.
// Both stop for a deploy and resume where they stopped.
//
//   npm run example:bank [-- ./data/bank]
//
// `balances` and `notifier` are the projection's and the consumer's definitions:
// test/testing/checkProjection.test.ts crash-tests them with deltalog/testing's checkProjection.
import { rm } from 'node:fs/promises'
import { pathToFileURL } from 'node:url'
import { setTimeout as sleep } from 'node:timers/promises'
import {
  openEventStore,
  type ConsumerOptions,
  type EventStore,
  type ProjectionOptions,
  type ReadEvent,
  type Consumer,
  type ReadAllOptions,
} from 'deltalog'

// -------------------------------------------------------------------------------------
// the account, folded from a snapshot
// -------------------------------------------------------------------------------------

type Account = { readonly balance: number; readonly revision: number }

type ReadAllFilter = NonNullable<ReadAllOptions['filter']>

const amountOf = (event: ReadEvent): number => (event.data as { amount: number }).amount

const accountOf = (event: ReadEvent): string => event.streamId.slice('account-'.length)

/** What an event does to a balance. */
const change = (event: ReadEvent): number =>
  event.type === 'Deposited' ? amountOf(event) : -amountOf(event)

/**
 * An account's state, and how many events the fold read: from its last snapshot (one is kept
 * every 3 events) and the events after it.
 */
const load = async (store: EventStore, id: string): Promise<Account & { read: number }> => {
  let read = 0
  const account = await store.aggregateStream<Account>(`account-${id}`, {
    initialState: { balance: 0, revision: -1 },
    evolve: (state, event) => {
      read++
      return { balance: state.balance + change(event), revision: event.revision }
    },
    snapshot: { every: 3, version: 1 },
  })
  return { ...account, read }
}

/** A command: decide on the current state, append only if nobody wrote in between. */
const withdraw = async (store: EventStore, id: string, amount: number): Promise<string> => {
  const account = await load(store, id)
  if (account.balance < amount) return `refused: ${id} has ${account.balance}, asked ${amount}`
  await store.appendToStream(`account-${id}`, [{ type: 'Withdrawn', data: { amount } }], {
    expectedRevision: account.revision,
  })
  return `withdrew ${amount} from ${id}`
}

const deposit = async (store: EventStore, id: string, amount: number): Promise<void> => {
  await store.appendToStream(`account-${id}`, [{ type: 'Deposited', data: { amount } }])
}

// -------------------------------------------------------------------------------------
// the projection and the consumer
// -------------------------------------------------------------------------------------

/** A balance as the projection keeps it, with the number of events folded into it. */
export type Balance = { readonly balance: number; readonly events: number }

/**
 * The projection: a document per account. Its documents and its position are committed
 * together, so a restart after any crash neither skips nor repeats an event.
 */
export const balances: ProjectionOptions<Balance> & { readonly filter: ReadAllFilter } = {
  filter: { streamPrefix: 'account-' },
  key: (event) => accountOf(event),
  init: () => ({ balance: 0, events: 0 }),
  evolve: (account, event) => ({
    balance: account.balance + change(event),
    events: account.events + 1,
  }),
}

/** What the notifier tells about: withdrawals of at least this much. */
export const LARGE = 50

/**
 * The consumer: notifies large withdrawals. Its checkpoint is saved after the handler resolves,
 * so a crash between the two notifies again: at least once, and never an event skipped.
 */
export const notifier = (
  notify: (line: string) => void,
): ConsumerOptions & { readonly filter: ReadAllFilter } => ({
  filter: { streamPrefix: 'account-', eventTypes: ['Withdrawn'] },
  handler: (events) => {
    for (const e of events) {
      if (amountOf(e) >= LARGE) {
        notify(`notify: large withdrawal of ${amountOf(e)} from ${accountOf(e)}`)
      }
    }
  },
})

/** A running projection or consumer, as far as waiting for it goes. */
type Running = Pick<Consumer, 'lag' | 'stop'>

/** Resolves once `run` has saved the position of the last event that `filter` matches. */
const caughtUp = async (store: EventStore, run: Running, filter: ReadAllFilter): Promise<void> => {
  let last = -1
  for await (const e of store.readAll({ filter, reverse: true, limit: 1 })) last = e.position
  while (run.lag().position < last) await sleep(2)
}

// -------------------------------------------------------------------------------------
// the scenario
// -------------------------------------------------------------------------------------

/** The scenario, on any store: resolves with the lines it prints. */
export const runBank = async (store: EventStore): Promise<string[]> => {
  const lines: string[] = []
  const print = (line: string): void => {
    lines.push(line)
  }
  await deposit(store, 'alice', 100)
  await deposit(store, 'bob', 50)
  print(await withdraw(store, 'alice', 30))
  print(await withdraw(store, 'bob', 80))
  await deposit(store, 'bob', 25)
  print(await withdraw(store, 'alice', 60))

  /** Starts the projection and the consumer, waits for them to catch up, prints the balances. */
  const start = async (): Promise<ReadonlyArray<Running>> => {
    const projection = await store.projection('balances', balances)
    const notifications = notifier(print)
    const consumer = await store.consumer('large-withdrawals', notifications)
    await caughtUp(store, projection, balances.filter)
    await caughtUp(store, consumer, notifications.filter)
    const all: string[] = []
    let total = 0
    for await (const { key, document } of projection.scan()) {
      all.push(`${key} ${document.balance}`)
      total += document.balance
    }
    print(`balances: ${all.join(', ')}; the bank holds ${total}`)
    return [projection, consumer]
  }
  const stop = (runs: ReadonlyArray<Running>): Promise<unknown> =>
    Promise.all(runs.map((r) => r.stop()))
  // A deploy: both stop after the batch in hand; bob withdraws while they are down, and they
  // resume after what they had saved.
  await stop(await start())
  print(await withdraw(store, 'bob', 70))
  await stop(await start())

  const before = await load(store, 'alice')
  print(`alice: ${before.balance}, folded from ${before.read} events`)
  await deposit(store, 'alice', 5)
  const after = await load(store, 'alice')
  print(`alice: ${after.balance}, folded from her snapshot and ${after.read} event`)
  return lines
}

/** The script: the scenario on a RocksDB directory of its own. */
const main = async (): Promise<void> => {
  const path = process.argv[2] ?? './data/bank'
  await rm(path, { recursive: true, force: true })
  const store = await openEventStore({ path })
  try {
    for (const line of await runBank(store)) console.log(line)
  } finally {
    await store.close()
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await main()
}
