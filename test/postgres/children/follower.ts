// A follower in a process of its own, for the multi-process tests: it opens the log on the table
// `DELTALOG_TABLE` read-only, follows it from the start, prints `sequence key value` for each
// entry, and exits after EXPECT entries.
import { openLog } from '../../../src/index.js'
import { openPostgresStorage } from '../../../src/postgres/index.js'

const env = (name: string): string => {
  const value = process.env[name]
  if (value === undefined) throw new Error(`${name} is not set`)
  return value
}

const storage = await openPostgresStorage({
  connection: { connectionString: env('DELTALOG_TEST_POSTGRES_URL'), max: 4 },
  table: env('DELTALOG_TABLE'),
  readOnly: true,
})
const log = await openLog({ storage, readOnly: true })
process.stdout.write('ready\n')
const expect = Number(env('EXPECT'))
const text = new TextDecoder()
let seen = 0
for await (const entry of log.follow({ from: 0 })) {
  process.stdout.write(`${entry.sequence} ${text.decode(entry.key)} ${text.decode(entry.value)}\n`)
  if (++seen === expect) break
}
await log.close()
await storage.close()()
