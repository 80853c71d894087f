/**
 * Checks the table files of a RocksDB database before the binding opens it. The binding reads
 * data blocks without checking their checksums, RocksDB reads table properties the same way,
 * and its build keeps its assertions: a flipped byte in a table can make RocksDB abort the
 * process while parsing garbage, where a checked block would have been refused. So every block
 * of every table — the meta-index and the blocks it lists, the index and every data block — is
 * read and checked here first (rocksdbTableCodec.ts), and a damaged table is `CORRUPTION`, with
 * nothing opened or changed. It reads each table once per process, in windows of a few MiB.
 */
import { open, readdir, type FileHandle } from 'node:fs/promises'
import { join } from 'node:path'
import * as E from 'fp-ts/lib/Either.js'
import { corruption, type StorageError } from '../errors.js'
import { fromFileSystem } from './directory.js'
import {
  blockContents,
  blockHandles,
  checkBlock,
  decodeFooter,
  FOOTER_SIZE,
  TableDamage,
  TRAILER_SIZE,
  type BlockHandle,
} from './rocksdbTableCodec.js'

const TABLE_FILE = /^\d+\.sst$/
// Tables that passed in this process, by device, inode, size and modification time: RocksDB never
// changes a table file once written, so a reopen (a writer's open checks on a read-only view
// first) reads each table once.
const passed = new Set<string>()
const WINDOW = 4 << 20

/** Checks every table file in the database directory `path`. */
export const checkTables = async (path: string): Promise<E.Either<StorageError, void>> => {
  let names: ReadonlyArray<string>
  try {
    names = (await readdir(path)).filter((name) => TABLE_FILE.test(name))
  } catch (error) {
    return E.left(fromFileSystem(`cannot read ${path}`, error))
  }
  for (const name of names) {
    const checked = await checkTable(join(path, name))
    if (E.isLeft(checked)) return checked
  }
  return E.right(undefined)
}

/** Checks one table file: every block it indexes, and its meta blocks. */
export const checkTable = async (file: string): Promise<E.Either<StorageError, void>> => {
  let handle
  try {
    handle = await open(file, 'r')
  } catch (error) {
    return E.left(fromFileSystem(`cannot read ${file}`, error))
  }
  try {
    const { size, dev, ino, mtimeMs } = await handle.stat()
    const seen = `${dev}:${ino}:${size}:${mtimeMs}`
    if (passed.has(seen)) return E.right(undefined)
    const read = windowedReader(handle, size)
    const footer = decodeFooter(await read(Math.max(0, size - FOOTER_SIZE), FOOTER_SIZE))
    const bytes = ({ offset, size: length }: BlockHandle): Promise<Uint8Array> =>
      read(offset, length + TRAILER_SIZE)
    const contents = async (handle: BlockHandle): Promise<Uint8Array> =>
      blockContents(await bytes(handle), footer.checksumType)
    // Meta and data blocks are only checked: a block that matches is what RocksDB wrote.
    for (const meta of blockHandles(await contents(footer.metaIndex), false)) {
      checkBlock(await bytes(meta), footer.checksumType)
    }
    for (const data of blockHandles(await contents(footer.index), footer.formatVersion >= 4)) {
      checkBlock(await bytes(data), footer.checksumType)
    }
    passed.add(seen)
    return E.right(undefined)
  } catch (error) {
    if (error instanceof TableDamage) {
      return E.left(
        corruption(
          `${file} is damaged: ${error.message}; nothing was changed — restore it from a backup`,
        ),
      )
    }
    return E.left(fromFileSystem(`cannot read ${file}`, error))
  } finally {
    await handle.close()
  }
}

// Reads byte ranges of a file of `size` bytes through a window, so that blocks read in order
// cost one read per window; a range outside the file is damage.
const windowedReader = (
  handle: FileHandle,
  size: number,
): ((offset: number, length: number) => Promise<Uint8Array>) => {
  let start = 0
  let filled = 0
  let window = new Uint8Array(Math.min(WINDOW, size))
  return async (offset, length) => {
    if (offset < 0 || length < 0 || offset + length > size) {
      throw new TableDamage('a block handle points outside the file')
    }
    if (offset < start || offset + length > start + filled) {
      if (length > window.length) window = new Uint8Array(length)
      start = offset
      filled = Math.min(window.length, size - offset)
      await handle.read(window, 0, filled, offset)
    }
    return window.subarray(offset - start, offset - start + length)
  }
}
