/**
 * The writer half of the real-crash harness: a child process that opens a log on RocksDB in
 * sync mode and appends to several streams at once until it is killed. It prints one JSON line
 * when the log is open (`{"type":"ready","next":N}`) and one per acknowledged append
 * (`{"type":"ack","id":…,"start":…,"count":…}`), after the append resolved, so every line the
 * parent reads names an append that was durable. Runs from dist (`node crashWriter.js`) or from
 * source through tsx.
 *
 *   crashWriter --db DIR --run R --seed S [--streams N] [--block-size B]
 */
import { parseArgs } from 'node:util'
import { openLog } from '../openLog.js'
import { recordValue } from './crashInvariants.js'
import { makeRandom } from './random.js'

const fail = (message: string): never => {
  process.stderr.write(`crashWriter: ${message}\n`)
  process.exit(2)
}

const naturalArg = (name: string, raw: string | undefined, fallback?: number): number => {
  const n = raw === undefined ? fallback : Number(raw)
  if (n === undefined || !Number.isSafeInteger(n) || n < 0) {
    return fail(`--${name} must be a non-negative integer`)
  }
  return n
}

const main = async (): Promise<void> => {
  const { values } = parseArgs({
    options: {
      db: { type: 'string' },
      run: { type: 'string' },
      seed: { type: 'string' },
      streams: { type: 'string' },
      'block-size': { type: 'string' },
    },
  })
  const db = values.db ?? fail('--db is required')
  const run = naturalArg('run', values.run)
  const random = makeRandom(naturalArg('seed', values.seed, 1))
  const streams = Math.max(1, naturalArg('streams', values.streams, 4))
  const blockSize = values['block-size']
  const log = await openLog({
    path: db,
    durability: 'sync',
    ...(blockSize === undefined ? {} : { blockSize: naturalArg('block-size', blockSize) }),
  })
  const say = (message: Record<string, unknown>): void => {
    process.stdout.write(`${JSON.stringify(message)}\n`)
  }
  say({ type: 'ready', next: log.nextSequence() })
  let appended = 0
  const stream = async (): Promise<never> => {
    for (;;) {
      const id = `${run}.${appended++}`
      const count = 1 + random.int(4)
      const records = Array.from({ length: count }, (_, i) => ({
        key: `stream-${random.int(streams)}`,
        value: recordValue(id, i, count),
      }))
      const { startSequence } = await log.append(records)
      say({ type: 'ack', id, start: startSequence, count })
    }
  }
  await Promise.all(Array.from({ length: streams }, stream))
}

main().catch((error: unknown) => fail(error instanceof Error ? error.message : String(error)))
