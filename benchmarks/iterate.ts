// Iteration throughput: the RocksDB adapter's chunked iteration against the binding's own plain
// iterator (one `next` callback per entry), over the same 1M small entries in the same process.
// Rounds alternate between the two so that neither gets a warmer cache; medians are reported.
//
//   npm run bench:iterate [-- --entries N --rounds R]
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import * as E from 'fp-ts/lib/Either.js'
import * as O from 'fp-ts/lib/Option.js'
import { iterate } from '../src/storage/port.js'
import { openRocksStorage } from '../src/storage/rocksdb.js'
import { makeTempDir, removeDir } from '../test/support/tmpdir.js'
import { openRaw, type RawOp } from './raw.js'

const { values } = parseArgs({
  options: {
    entries: { type: 'string', default: '1000000' },
    rounds: { type: 'string', default: '3' },
  },
})
const ENTRIES = Number(values.entries)
const ROUNDS = Number(values.rounds)

const key = (i: number): Buffer => Buffer.from(`key-${String(i).padStart(10, '0')}`)

const median = (xs: ReadonlyArray<number>): number => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)] ?? NaN
}

const main = async (): Promise<void> => {
  const dir = await makeTempDir('bench-iterate')
  const path = join(dir, 'db')
  try {
    // The adapter creates the store: it refuses to open a database it did not create.
    const created = await openRocksStorage(path)
    await created[Symbol.asyncDispose]()
    const raw = await openRaw(path)
    const value = Buffer.alloc(16, 7)
    for (let i = 0; i < ENTRIES; i += 10_000) {
      const ops: RawOp[] = []
      for (let j = i; j < Math.min(ENTRIES, i + 10_000); j++)
        ops.push({ type: 'put', key: key(j), value })
      await raw.batch(ops, false)
    }
    await raw.close()

    const rawRates: number[] = []
    const ourRates: number[] = []
    const chunkRates: number[] = []
    for (let round = 0; round < ROUNDS; round++) {
      const db = await openRaw(path)
      let start = performance.now()
      const rawCount = await db.count({})
      rawRates.push(rawCount / ((performance.now() - start) / 1000))
      await db.close()

      const opened = await openRocksStorage(path)
      start = performance.now()
      let ourCount = 0
      for await (const _ of iterate(opened, {})) ourCount++
      ourRates.push(ourCount / ((performance.now() - start) / 1000))

      // The chunk primitive itself, as the engine's scans consume it.
      const it = opened.iterator({})
      if (E.isLeft(it)) throw new Error(it.left.message)
      start = performance.now()
      let chunkCount = 0
      for (;;) {
        const chunk = await it.right.next()()
        if (E.isLeft(chunk)) throw new Error(chunk.left.message)
        if (O.isNone(chunk.right)) break
        chunkCount += chunk.right.value.length
      }
      chunkRates.push(chunkCount / ((performance.now() - start) / 1000))
      await it.right.close()
      await opened[Symbol.asyncDispose]()
      if (rawCount !== ENTRIES || ourCount !== ENTRIES) {
        throw new Error(`counted ${rawCount} raw and ${ourCount} ours, expected ${ENTRIES}`)
      }
    }
    const fmt = (n: number): string => Math.round(n).toLocaleString('en-US')
    console.log(`iteration over ${fmt(ENTRIES)} entries, median of ${ROUNDS} rounds`)
    console.log(`  rocksdb binding, plain iterator:   ${fmt(median(rawRates))} entries/s`)
    console.log(`  deltalog adapter, async iterable:  ${fmt(median(ourRates))} entries/s`)
    console.log(`  deltalog adapter, chunk primitive: ${fmt(median(chunkRates))} entries/s`)
    const ratio = (n: number): string => `${(n / median(rawRates)).toFixed(2)}x`
    console.log(
      `  ratios to the binding: async iterable ${ratio(median(ourRates))}, chunks ${ratio(median(chunkRates))}`,
    )
  } finally {
    await removeDir(dir)
  }
}

await main()
