// A bank account on the event store: commands that check the balance with optimistic
// concurrency, and a projection fed by a subscription that records its totals and its
// checkpoint in one atomic commit, so it resumes exactly where it stopped.
//
//   npm run example:bank [-- ./data/bank]
import { rm } from 'node:fs/promises'
import { openEventStore, type EventStore, type ReadEvent } from 'deltalog'

type Account = { readonly balance: number; readonly revision: number }

const evolve = (account: Account, event: ReadEvent): Account => {
  const amount = (event.data as { amount: number }).amount
  const balance = event.type === 'Deposited' ? account.balance + amount : account.balance - amount
  return { balance, revision: event.revision }
}

const load = (store: EventStore, id: string): Promise<Account> =>
  store.aggregateStream(`account-${id}`, { initialState: { balance: 0, revision: -1 }, evolve })

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

/**
 * The projection: total money held by the bank. Each update is appended together with the
 * checkpoint of the event it came from, so a restart neither skips nor repeats an event.
 */
const project = async (store: EventStore, stopAfter: number): Promise<number> => {
  const from = await store.checkpoints.load('totals')
  const stop = new AbortController()
  let handled = 0
  for await (const message of store.subscribeToAll({
    // The checkpoint is the last event handled: resume after it.
    ...(from === undefined ? {} : { after: from }),
    filter: { streamPrefix: 'account-' },
    signal: stop.signal,
  })) {
    if (message.type === 'caughtUp') break
    const { event } = message
    const [last] = await collect(store.readStream('totals', { reverse: true, limit: 1 }))
    const total = (last?.data as { total: number } | undefined)?.total ?? 0
    const amount = (event.data as { amount: number }).amount
    await store.appendToStream(
      'totals',
      [
        {
          type: 'TotalChanged',
          data: { total: total + (event.type === 'Deposited' ? amount : -amount) },
        },
      ],
      { checkpoint: { name: 'totals', position: event.position } },
    )
    if (++handled === stopAfter) stop.abort()
  }
  return handled
}

const collect = async <A>(it: AsyncIterable<A>): Promise<A[]> => {
  const out: A[] = []
  for await (const x of it) out.push(x)
  return out
}

const main = async (): Promise<void> => {
  const path = process.argv[2] ?? './data/bank'
  await rm(path, { recursive: true, force: true })
  const store = await openEventStore({ path })
  await deposit(store, 'alice', 100)
  await deposit(store, 'bob', 50)
  console.log(await withdraw(store, 'alice', 30))
  console.log(await withdraw(store, 'bob', 80))
  await deposit(store, 'bob', 25)
  console.log(
    `alice: ${(await load(store, 'alice')).balance}, bob: ${(await load(store, 'bob')).balance}`,
  )

  // The projection handles two events, stops, and resumes from its checkpoint.
  console.log(`projection handled ${await project(store, 2)} events, then stopped`)
  console.log(`projection resumed and handled ${await project(store, Infinity)} more`)
  const [totals] = await collect(store.readStream('totals', { reverse: true, limit: 1 }))
  console.log(`total held: ${(totals?.data as { total: number }).total}`)
  await store.close()
}

await main()
