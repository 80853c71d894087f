// An event store's writer in a process of its own, for the multi-process tests. It opens a store
// on the table `DELTALOG_TABLE`, prints { opened: true }, then reads stdin: each line is a JSON
// list of calls to make in order, `{ "call": "<method>", "args": [...] }` — any method of the
// store, such as appendToStream, appendMulti or deleteStream (`checkpoints.save` for the
// checkpoint) —, and prints one line per call: { ok: <what it resolved to> } or { code }. A line
// `{ "together": [calls] }` makes its calls at once, so that they meet in the store's writer,
// and prints their outcomes in the calls' order. The line `close` closes the store and ends it.
import { createInterface } from 'node:readline'
import { openEventStore, type DeltalogError, type EventStore } from '../../../src/index.js'
import { openPostgresStorage } from '../../../src/postgres/index.js'

/** One call the test asks for. */
interface Call {
  readonly call: string
  readonly args: ReadonlyArray<unknown>
}

const env = (name: string): string => {
  const value = process.env[name]
  if (value === undefined) throw new Error(`${name} is not set`)
  return value
}
const print = (line: unknown): void => void process.stdout.write(`${JSON.stringify(line)}\n`)

/** The store's method a call names: `checkpoints.save` reaches into `checkpoints`. */
const method = (store: EventStore, name: string): ((...args: unknown[]) => Promise<unknown>) => {
  const [outer = '', inner] = name.split('.')
  const owner = inner === undefined ? store : store[outer as keyof EventStore]
  const f = (owner as Record<string, unknown>)[inner ?? outer]
  if (typeof f !== 'function') throw new Error(`the store has no method ${name}`)
  return (...args) => (f as (...a: unknown[]) => Promise<unknown>).apply(owner, args)
}

const storage = await openPostgresStorage({
  connection: { connectionString: env('DELTALOG_TEST_POSTGRES_URL'), max: 4 },
  table: env('DELTALOG_TABLE'),
})
const store = await openEventStore({ storage })
print({ opened: true })

for await (const line of createInterface({ input: process.stdin })) {
  if (line === 'close') {
    process.stdin.destroy()
    break
  }
  const outcome = ({ call, args }: Call): Promise<unknown> =>
    method(
      store,
      call,
    )(...args).then(
      (ok: unknown) => ({ ok: ok ?? null }),
      (error: unknown) => ({ code: (error as DeltalogError).code }),
    )
  const parsed = JSON.parse(line) as
    ReadonlyArray<Call> | { readonly together: ReadonlyArray<Call> }
  if ('together' in parsed) {
    for (const o of await Promise.all(parsed.together.map(outcome))) print(o)
  } else for (const c of parsed) print(await outcome(c))
}
await store.close()
await storage.close()()
