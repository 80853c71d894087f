// The event store under simulated crashes: after any crash, revisions stay dense, positions
// grow with revisions, checkpoints never point past the head, a multi-stream append is never
// half there, and in sync mode every acknowledged append survives.
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { openEventStore, type EventStore } from '../../src/eventstore/store.js'
import { openCrashStorage, type CrashStorage } from '../../src/testing/crashStorage.js'
import { numRuns } from '../support/budget.js'

type Step =
  | { readonly kind: 'append'; readonly stream: string; readonly n: number }
  | { readonly kind: 'multi'; readonly streams: ReadonlyArray<string> }
  | { readonly kind: 'checkpoint' }
  | { readonly kind: 'crash'; readonly mode: 'process' | 'power'; readonly seed: number }

const arbStream = fc.constantFrom('a', 'b', 'c', 'd')
const arbStep: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('append' as const),
      stream: arbStream,
      n: fc.integer({ min: 1, max: 3 }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('multi' as const),
      streams: fc.uniqueArray(arbStream, { minLength: 2, maxLength: 4 }),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ kind: 'checkpoint' as const }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('crash' as const),
      mode: fc.constantFrom('process' as const, 'power' as const),
      seed: fc.integer(),
    }),
  },
)

const check = async (
  store: EventStore,
  txns: ReadonlyMap<number, number>,
  acknowledged: ReadonlySet<number>,
): Promise<void> => {
  const head = store.log.nextSequence()
  const perTxn = new Map<number, number>()
  const lastOf = new Map<string, { revision: number; position: number }>()
  for await (const e of store.readAll()) {
    const previous = lastOf.get(e.streamId)
    // Dense revisions, and positions that grow with them.
    expect(e.revision).toBe(previous === undefined ? 0 : previous.revision + 1)
    if (previous !== undefined) expect(e.position).toBeGreaterThan(previous.position)
    expect(e.position).toBeLessThan(head)
    lastOf.set(e.streamId, { revision: e.revision, position: e.position })
    const txn = (e.data as { txn: number }).txn
    perTxn.set(txn, (perTxn.get(txn) ?? 0) + 1)
  }
  for (const [txn, size] of txns) {
    const found = perTxn.get(txn) ?? 0
    expect([0, size], `transaction ${txn} is partly there`).toContain(found)
    if (acknowledged.has(txn)) expect(found, `acknowledged transaction ${txn} was lost`).toBe(size)
  }
  const checkpoint = await store.checkpoints.load('cp')
  if (checkpoint !== undefined) expect(checkpoint).toBeLessThan(head)
}

describe('the event store under crashes', () => {
  it('keeps revisions dense, checkpoints behind the head and multi-stream appends whole', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('sync' as const, 'buffered' as const),
        fc.integer({ min: 2, max: 8 }),
        fc.array(arbStep, { minLength: 1, maxLength: 25 }),
        // Writes resolve after seeded delays, so the store meets its commits in flight.
        fc.record({ seed: fc.integer(), maxDelayTurns: fc.constantFrom(0, 3) }),
        async (durability, blockSize, steps, delays) => {
          let storage: CrashStorage = await openCrashStorage(delays)
          const open = (s: CrashStorage) => openEventStore({ storage: s, durability, blockSize })
          let store = await open(storage)
          const txns = new Map<number, number>()
          const acknowledged = new Set<number>()
          let txn = 0
          for (const step of steps) {
            if (step.kind === 'crash') {
              storage = storage.crash(step.mode, step.seed)
              store = await open(storage)
              await check(store, txns, acknowledged)
              // What survived is durable now; what did not will never come back.
              for (const [t] of txns) acknowledged.add(t)
              for (const [t] of [...txns]) {
                const found = (await collectTxn(store, t)) > 0
                if (!found) txns.delete(t)
              }
              continue
            }
            if (step.kind === 'checkpoint') {
              const head = store.log.nextSequence()
              if (head > 0) await store.checkpoints.save('cp', head - 1)
              continue
            }
            const id = txn++
            if (step.kind === 'append') {
              txns.set(id, step.n)
              await store.appendToStream(
                step.stream,
                Array.from({ length: step.n }, () => ({ type: 'E', data: { txn: id } })),
              )
            } else {
              txns.set(id, step.streams.length)
              await store.appendMulti(
                step.streams.map((s) => ({
                  streamId: s,
                  events: [{ type: 'E', data: { txn: id } }],
                })),
              )
            }
            if (durability === 'sync') acknowledged.add(id)
          }
          storage = storage.crash('power', 0x5eed)
          store = await open(storage)
          await check(store, txns, acknowledged)
          await store.close()
        },
      ),
      { numRuns: numRuns(80) },
    )
  })
})

const collectTxn = async (store: EventStore, txn: number): Promise<number> => {
  let n = 0
  for await (const e of store.readAll()) if ((e.data as { txn: number }).txn === txn) n++
  return n
}
