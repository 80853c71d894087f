// The follower of the PostgreSQL case, in a process of its own: it follows the log on `table`
// read-only from its current end, and prints `sequence time` for each entry as it arrives, the
// time in milliseconds since the epoch (performance.timeOrigin + performance.now()).
//
//   tsx benchmarks/cases/postgresFollower.ts <url> <table>
import { performance } from 'node:perf_hooks'
import { openLog } from '../../src/index.js'
import { openPostgresStorage } from '../../src/postgres/storage.js'

const [url, table] = process.argv.slice(2)
if (url === undefined || table === undefined) {
  throw new Error('usage: postgresFollower.ts <url> <table>')
}
const storage = await openPostgresStorage({
  connection: { connectionString: url },
  table,
  readOnly: true,
})
const log = await openLog({ storage, readOnly: true })
process.stdout.write('ready\n')
// Ends when the parent closes stdin.
const stop = new AbortController()
process.stdin.on('end', () => stop.abort()).resume()
for await (const entry of log.follow({ signal: stop.signal })) {
  process.stdout.write(`${entry.sequence} ${performance.timeOrigin + performance.now()}\n`)
}
await log.close()
await storage[Symbol.asyncDispose]()
