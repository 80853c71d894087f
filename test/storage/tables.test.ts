// The check of RocksDB's table files that runs before the binding opens a database: it passes
// every table RocksDB writes, and refuses any byte changed in any block with CORRUPTION.
import { readdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fc } from '@fast-check/vitest'
import * as E from 'fp-ts/lib/Either.js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openRocksStorage } from '../../src/storage/rocksdb.js'
import {
  blockContents,
  blockHandles,
  crc32c,
  decodeFooter,
  FOOTER_SIZE,
  TRAILER_SIZE,
  type BlockHandle,
} from '../../src/storage/rocksdbTableCodec.js'
import { checkTable } from '../../src/storage/rocksdbTables.js'
import { numRuns } from '../support/budget.js'
import { code } from '../support/codes.js'
import { makeTempDir, removeDir } from '../support/tmpdir.js'

// Every block of a table file: its meta-index and the blocks it lists, its index, its data.
const blocksOf = (bytes: Uint8Array): BlockHandle[] => {
  const footer = decodeFooter(bytes.subarray(bytes.length - FOOTER_SIZE))
  const read = ({ offset, size }: BlockHandle): Uint8Array =>
    blockContents(bytes.subarray(offset, offset + size + TRAILER_SIZE), footer.checksumType)
  const meta = blockHandles(read(footer.metaIndex), false)
  const data = blockHandles(read(footer.index), footer.formatVersion >= 4)
  return [footer.metaIndex, ...meta, footer.index, ...data]
}

describe('the table check', () => {
  let dir: string
  let store: string
  let table: string
  let original: Uint8Array
  beforeAll(async () => {
    dir = await makeTempDir('tables')
    store = join(dir, 'store')
    // Written, closed and opened again, which flushes the records into a table.
    for (let round = 0; round < 2; round++) {
      await using storage = await openRocksStorage(store)
      if (round > 0) continue
      const batch = Array.from({ length: 2000 }, (_, i) => ({
        type: 'put' as const,
        key: Buffer.from(`k${String(i).padStart(6, '0')}`),
        value: Buffer.from(`value ${i} ${'xy'.repeat(i % 50)} ${(i * 7919) % 1000}`),
      }))
      expect(E.isRight(await storage.write(batch, { sync: true })())).toBe(true)
    }
    const name = (await readdir(store)).find((n) => n.endsWith('.sst'))
    table = join(store, name as string)
    original = new Uint8Array(await readFile(table))
  })
  afterAll(() => removeDir(dir))

  it('computes CRC-32C as RocksDB does', () => {
    expect(crc32c(new TextEncoder().encode('123456789'))).toBe(0xe3069283)
  })

  it('passes a table RocksDB wrote, and finds its data blocks, compressed ones included', async () => {
    const checked = await checkTable(table)
    expect(E.isRight(checked) && checked.right?.read).toBe(true)
    const blocks = blocksOf(original)
    expect(blocks.length).toBeGreaterThan(10)
    // A block's type byte follows it: 1 is Snappy.
    expect(blocks.some(({ offset, size }) => original[offset + size] === 1)).toBe(true)
  })

  it('refuses any changed byte of any block, its trailer included, with CORRUPTION', async () => {
    const blocks = blocksOf(original)
    await fc.assert(
      fc.asyncProperty(
        fc.nat(blocks.length - 1),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        fc.integer({ min: 1, max: 255 }),
        async (which, at, mask) => {
          const { offset, size } = blocks[which] as BlockHandle
          const damaged = new Uint8Array(original)
          const i = offset + Math.floor(at * (size + TRAILER_SIZE))
          damaged[i] = (damaged[i] as number) ^ mask
          await writeFile(table, damaged)
          try {
            const checked = await checkTable(table)
            expect(E.isLeft(checked) && checked.left.code).toBe('CORRUPTION')
          } finally {
            await writeFile(table, original)
          }
        },
      ),
      { numRuns: numRuns(100) },
    )
  })

  it('refuses to open a store whose table is damaged, with CORRUPTION, changing no file', async () => {
    const blocks = blocksOf(original)
    const { offset, size } = blocks[blocks.length - 1] as BlockHandle
    const damaged = new Uint8Array(original)
    const i = offset + Math.floor(size / 2)
    damaged[i] = (damaged[i] as number) ^ 0x5a
    await writeFile(table, damaged)
    try {
      const before = await listing(store)
      expect(await code(openRocksStorage(store, { readOnly: true }))).toBe('CORRUPTION')
      expect(await code(openRocksStorage(store))).toBe('CORRUPTION')
      expect(await listing(store)).toEqual(before)
    } finally {
      await writeFile(table, original)
    }
  })
})

// Each file of a directory with its bytes.
const listing = async (path: string): Promise<Record<string, string>> => {
  const files: Record<string, string> = {}
  for (const name of (await readdir(path)).sort()) {
    files[name] = (await readFile(join(path, name))).toString('base64')
  }
  return files
}
