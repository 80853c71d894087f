// A writer in a process of its own, for the multi-process tests. It opens the log on the table
// `DELTALOG_TABLE` and prints one JSON line per outcome on stdout.
//   driven: reads commands from stdin — `append N` appends N records as one commit — and
//           prints { start, count } or { code, cause } for each.
//   race:   PRODUCERS producers append one record each, again and again, until their appends
//           fail; prints each acknowledged { start, value } and each { code }, then exits.
//   steady: appends COUNT records in commits of 1 to 5, pausing now and then, then exits.
import { createInterface } from 'node:readline'
import { openLog, type DeltalogError, type Log } from '../../../src/index.js'
import { openPostgresStorage } from '../../../src/postgres/index.js'

const [mode = 'driven'] = process.argv.slice(2)
const env = (name: string): string => {
  const value = process.env[name]
  if (value === undefined) throw new Error(`${name} is not set`)
  return value
}
const print = (line: unknown): void => void process.stdout.write(`${JSON.stringify(line)}\n`)
const failure = (error: unknown): { code: string; cause?: string } => {
  const e = error as DeltalogError
  const cause = (e.error as { cause?: { code?: string } } | undefined)?.cause?.code
  return cause === undefined ? { code: e.code } : { code: e.code, cause }
}

const storage = await openPostgresStorage({
  connection: { connectionString: env('DELTALOG_TEST_POSTGRES_URL'), max: 4 },
  table: env('DELTALOG_TABLE'),
})
const log: Log = await openLog({ storage, blockSize: 16 })
print({ opened: log.nextSequence() })

if (mode === 'driven') {
  for await (const line of createInterface({ input: process.stdin })) {
    const [command, n] = line.split(' ')
    if (command === 'close') {
      process.stdin.destroy()
      break
    }
    const records = Array.from({ length: Number(n) }, (_, i) => ({ key: 'a', value: `a${i}` }))
    await log.append(records).then(
      (range) => print(range),
      (error: unknown) => print(failure(error)),
    )
  }
} else if (mode === 'race') {
  let next = 0
  const producer = async (): Promise<void> => {
    for (;;) {
      const value = `a${next++}`
      try {
        const { startSequence } = await log.append([{ key: `k${next % 5}`, value }])
        print({ start: startSequence, value })
      } catch (error) {
        print({ ...failure(error), value })
        return
      }
    }
  }
  await Promise.all(Array.from({ length: Number(env('PRODUCERS')) }, producer))
} else {
  const count = Number(env('COUNT'))
  for (let i = 0; i < count;) {
    const n = Math.min(1 + (i % 5), count - i)
    await log.append(
      Array.from({ length: n }, (_, j) => ({ key: `k${(i + j) % 3}`, value: `v${i + j}` })),
    )
    i += n
    if (i % 25 < n) await new Promise((resolve) => setTimeout(resolve, 20))
  }
  print({ done: count })
}
await log.close().catch(() => undefined)
