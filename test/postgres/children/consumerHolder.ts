// One instance of a group that runs a consumer and a projection through a lease, for
// consumerHolder.test.ts. It opens the events (table EVENTS_TABLE, written by the test) read-only
// and prints { started: true }; then reads commands on stdin:
//   lease   waits for the lease of INTO_TABLE (ttl TTL_MS), printing { holding: true } once it
//           holds it; then opens INTO_TABLE as its writer (which fences a former holder), and
//           runs the consumer `seen` and the projection `totals` from the events into it, with
//           the lease's `lost` as their signal, and prints { running: true }.
//   go      lets the consumer's blocked batch go on (see BLOCKS).
//   close   stops the runs, closes the stores, lets the lease go, and exits.
// The consumer appends `position` lines to SEEN_FILE for each event it handles, before its
// checkpoint is saved. The projection keeps a document per stream: the count, the sum of the
// events' `n` and the positions folded, in order. With BLOCKS=1, the consumer's handler, given
// an event whose data has block: 'consumer', prints { blocked: 'consumer', positions } and waits
// for `go`; the projection's evolve, given one with block: 'projection', prints { blocked:
// 'projection', position } and blocks the process (no timer, no heartbeat runs) until
// RELEASE_FILE exists. Prints { lost: code } when the lease is lost, { stopped: run } when a run
// stops, and { run, code, cause } when one fails.
import { appendFileSync, existsSync } from 'node:fs'
import { createInterface } from 'node:readline'
import {
  openEventStore,
  type DeltalogError,
  type EventStore,
  type Consumer,
} from '../../../src/index.js'
import { holdLease, openPostgresStorage, type Lease } from '../../../src/postgres/index.js'

const env = (name: string): string => {
  const value = process.env[name]
  if (value === undefined) throw new Error(`${name} is not set`)
  return value
}
const print = (line: unknown): void => void process.stdout.write(`${JSON.stringify(line)}\n`)

const connection = { connectionString: env('DELTALOG_TEST_POSTGRES_URL'), max: 4 }
const blocks = process.env['BLOCKS'] === '1'
const seenFile = env('SEEN_FILE')
const releaseFile = env('RELEASE_FILE')

// A type, not an interface: a projection's documents are JSON, which an interface is not known to be.
type Total = {
  readonly count: number
  readonly sum: number
  readonly positions: ReadonlyArray<number>
}

const eventsStorage = await openPostgresStorage({
  connection,
  table: env('EVENTS_TABLE'),
  readOnly: true,
})
const events = await openEventStore({ storage: eventsStorage, readOnly: true })
print({ started: true })

let go: () => void = () => undefined
const released = new Promise<void>((resolve) => (go = resolve))

/** Blocks the process — timers and sockets wait too, as in a hung process — until the file exists. */
const hang = (): void => {
  const cell = new Int32Array(new SharedArrayBuffer(4))
  while (!existsSync(releaseFile)) Atomics.wait(cell, 0, 0, 10)
}

const blockOf = (data: unknown): unknown => (data as { block?: unknown } | null)?.block

const failure = (error: unknown): { code: string; cause?: string } => {
  const e = error as DeltalogError
  const cause = (e.error as { cause?: { code?: string } } | undefined)?.cause?.code
  return cause === undefined ? { code: e.code } : { code: e.code, cause }
}

/** Holds the lease, opens the store that keeps the runs' state, and starts the runs. */
const run = async (): Promise<{ lease: Lease; into: EventStore; close: () => Promise<void> }> => {
  const lease = await holdLease({
    connection,
    table: env('INTO_TABLE'),
    ttlMs: Number(env('TTL_MS')),
  })
  print({ holding: true })
  lease.lost.addEventListener('abort', () =>
    print({ lost: (lease.lost.reason as DeltalogError).code }),
  )
  // Opened after the lease is held: this open raises the writer epoch, fencing the former holder,
  // before the runs read their checkpoint and state.
  const intoStorage = await openPostgresStorage({ connection, table: env('INTO_TABLE') })
  const into = await openEventStore({ storage: intoStorage })
  const consumer = await events.consumer('seen', {
    into,
    batch: 10,
    signal: lease.lost,
    handler: async (batch) => {
      appendFileSync(seenFile, batch.map((e) => `${e.position}\n`).join(''))
      if (blocks && batch.some((e) => blockOf(e.data) === 'consumer')) {
        print({ blocked: 'consumer', positions: batch.map((e) => e.position) })
        await released
      }
    },
  })
  const projection = await events.projection<Total>('totals', {
    into,
    batch: 10,
    signal: lease.lost,
    key: (e) => e.streamId,
    init: () => ({ count: 0, sum: 0, positions: [] }),
    evolve: (total, e) => {
      if (blocks && blockOf(e.data) === 'projection') {
        print({ blocked: 'projection', position: e.position })
        hang()
      }
      return {
        count: total.count + 1,
        sum: total.sum + (e.data as { n: number }).n,
        positions: [...total.positions, e.position],
      }
    },
  })
  const runs: ReadonlyArray<readonly [string, Consumer]> = [
    ['consumer', consumer],
    ['projection', projection],
  ]
  for (const [name, r] of runs) {
    r.done.then(
      () => print({ stopped: name }),
      (error: unknown) => print({ run: name, ...failure(error) }),
    )
  }
  print({ running: true })
  return {
    lease,
    into,
    close: async () => {
      for (const [, r] of runs) await r.stop()
      await into.close().catch(() => undefined)
      await intoStorage.close()()
      await lease.release()
    },
  }
}

let running: Promise<Awaited<ReturnType<typeof run>>> | undefined
for await (const line of createInterface({ input: process.stdin })) {
  if (line === 'lease') {
    running = run()
    running.catch((error: unknown) => print({ failed: String(error) }))
  } else if (line === 'go') go()
  else if (line === 'close') {
    process.stdin.destroy()
    break
  }
}
await (await running?.catch(() => undefined))?.close()
await events.close()
await eventsStorage.close()()
print({ closed: true })
