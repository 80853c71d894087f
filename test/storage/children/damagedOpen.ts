// Tables damaged under an open RocksDB store, in a process of its own so that the test sees
// whether it survives. For each case it prints one line, `name answer ms`; it exits on its own,
// never by process.exit, so that an abort as Node.js finalizes native handles shows in its exit
// code. Argument: an empty directory to work in.
import { open, readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import * as E from 'fp-ts/lib/Either.js'
import { DeltalogError, openLog, openRocksStorage } from '../../../src/index.js'
import type { StorageIterator } from '../../../src/storage/port.js'
import {
  blockHandles,
  decodeFooter,
  FOOTER_SIZE,
  type BlockHandle,
} from '../../../src/storage/rocksdbTableCodec.js'
import { blockContents, TRAILER_SIZE } from '../../../src/storage/rocksdbTableCodec.js'

const root = process.argv[2] as string
const text = (i: number): string => `entry ${i} ${'abcdefghij'.repeat(i % 17)} ${i * 7919}`

// The one table of `dir` and its data blocks.
const tableOf = async (dir: string): Promise<{ file: string; blocks: BlockHandle[] }> => {
  const name = (await readdir(dir)).find((n) => n.endsWith('.sst')) as string
  const file = join(dir, name)
  const bytes = new Uint8Array(await readFile(file))
  const footer = decodeFooter(bytes.subarray(bytes.length - FOOTER_SIZE))
  const { offset, size } = footer.index
  const index = blockContents(
    bytes.subarray(offset, offset + size + TRAILER_SIZE),
    footer.checksumType,
  )
  return { file, blocks: blockHandles(index, footer.formatVersion >= 4) }
}

// XORs the first two bytes of a block — its Snappy length, so that RocksDB, which does not check
// the checksums of data blocks, fails cleanly rather than parsing garbage: the same call undoes it.
const flip = async (file: string, { offset }: BlockHandle): Promise<void> => {
  const handle = await open(file, 'r+')
  const bytes = Buffer.alloc(2)
  await handle.read(bytes, 0, 2, offset)
  for (let i = 0; i < 2; i++) bytes[i] = (bytes[i] as number) ^ 0xff
  await handle.write(bytes, 0, 2, offset)
  await handle.close()
}

const drain = async (iterator: StorageIterator): Promise<string> => {
  let pairs = 0
  for (;;) {
    const step = await iterator.next()()
    if (E.isLeft(step)) return `${step.left.code}-after-${pairs > 0 ? 'some' : 'none'}`
    if (step.right._tag === 'None') return 'ok'
    pairs += step.right.value.length
  }
}

const report = async (name: string, run: () => Promise<string>): Promise<void> => {
  const start = Date.now()
  const answer = await Promise.race([
    run().catch((error: unknown) =>
      error instanceof DeltalogError ? error.code : `thrown ${String(error)}`,
    ),
    new Promise<string>((resolve) => setTimeout(resolve, 10_000, 'timeout').unref()),
  ])
  process.stdout.write(`${name} ${answer} ${Date.now() - start}\n`)
}

// A store whose table holds many blocks: written, closed, and opened again, which flushes.
const store = join(root, 'store')
for (let round = 0; round < 2; round++) {
  await using storage = await openRocksStorage(store)
  if (round === 0) {
    const batch = Array.from({ length: 3000 }, (_, i) => ({
      type: 'put' as const,
      key: Buffer.from(`k${String(i).padStart(6, '0')}`),
      value: Buffer.from(text(i)),
    }))
    const written = await storage.write(batch, { sync: true })()
    if (E.isLeft(written)) throw new Error(written.left.message)
  }
}
const { file, blocks } = await tableOf(store)
process.stdout.write(`blocks ${blocks.length}\n`)

for (const [name, block] of [
  ['first-block', blocks[0]],
  ['last-block', blocks.at(-1)],
] as const) {
  await report(name, async () => {
    const storage = await openRocksStorage(store, { readOnly: true })
    await flip(file, block as BlockHandle)
    const iterator = storage.iterator({})
    if (E.isLeft(iterator)) return iterator.left.code
    const answer = await drain(iterator.right)
    await iterator.right.close()
    await storage.close()()
    await flip(file, block as BlockHandle)
    return answer
  })
}
// After the iteration that read past a good block, the store closed for real: a writer opens.
await report('writer-after', async () => {
  const writer = await openRocksStorage(store)
  await writer.close()()
  return 'ok'
})

// A writer whose iteration is stranded keeps its directory locked until the process exits: a
// later writer in this process is LOCKED, told why and to restart.
await report('writer-stranded', async () => {
  const writer = await openRocksStorage(store)
  await flip(file, blocks[0] as BlockHandle)
  const iterator = writer.iterator({})
  const answer = E.isLeft(iterator) ? iterator.left.code : await drain(iterator.right)
  if (E.isRight(iterator)) await iterator.right.close()
  await writer.close()()
  await flip(file, blocks[0] as BlockHandle)
  try {
    await (await openRocksStorage(store)).close()()
    return `${answer}-reopened`
  } catch (error) {
    const restart = error instanceof Error && error.message.includes('restart the process')
    return `${answer}-${error instanceof DeltalogError ? error.code : 'thrown'}${restart ? '-restart' : ''}`
  }
})

// The log's own scan over a damaged table, in this live process.
const logDir = join(root, 'log')
for (let round = 0; round < 2; round++) {
  await using log = await openLog({ path: logDir })
  for (let i = 0; i < 40; i++) {
    await log.append(
      Array.from({ length: 25 }, (_, j) => ({ key: `key-${j % 5}`, value: text(i * 25 + j) })),
    )
  }
}
await report('log-scan', async () => {
  await using log = await openLog({ path: logDir, readOnly: true })
  const table = await tableOf(logDir)
  for (const block of table.blocks) await flip(table.file, block)
  let entries = 0
  for await (const entry of log.scan()) entries += entry.value.length > 0 ? 1 : 0
  return `ok-${entries}`
})
