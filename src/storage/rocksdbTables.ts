/**
 * Checks the table files of a RocksDB database before the binding opens it. The binding reads
 * data blocks without checking their checksums, RocksDB reads table properties the same way,
 * and its build keeps its assertions: a flipped byte in a table can make RocksDB abort the
 * process while parsing garbage, where a checked block would have been refused. So every block
 * of every table — the meta-index and the blocks it lists, the index and every data block — is
 * read and checked here first (rocksdbTableCodec.ts), and a damaged table is `CORRUPTION`, with
 * nothing opened or changed. Tables are read in windows of a few MiB.
 *
 * An open reads only the tables that are new or changed: a table that passed in this process,
 * or that the directory's record lists as passed with the identity it has now
 * (rocksdbTableRecord.ts), is not read again. `verify` trusts neither and reads every table.
 * A writer's close records the tables RocksDB wrote while it was open (`writtenSince`).
 */
import { open, readdir, stat as statFile, type FileHandle } from 'node:fs/promises'
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
import { readTableRecord, tableIdentity, type TableRecord } from './rocksdbTableRecord.js'

const TABLE_FILE = /^\d+\.sst$/
// Tables that passed in this process, by device and identity: a writer's open checks on a
// read-only view first, and a read-only open writes no record, so a reopen in this process
// reads each table once.
const passed = new Set<string>()
const WINDOW = 4 << 20

/** What a check of a directory's tables found: every table passed. */
export interface CheckedTables {
  /** The tables there now, by name, with their identities: what a new record lists. */
  readonly tables: TableRecord
  /** The tables that were read and checked, by name; the others were trusted. */
  readonly read: ReadonlyArray<string>
  /** The directory's record does not list exactly `tables` (or was not read). */
  readonly stale: boolean
}

/** Which earlier checks a check of a directory's tables trusts. */
export type Trusted =
  /** Tables that passed in this process, and those the directory's record lists. */
  | 'recorded'
  /** Only these tables with these identities: every other table is read. */
  | TableRecord

/**
 * Checks every table file in the database directory `path`, reading those `trusted` does not
 * vouch for with the identity they have now. A table that vanishes while it is checked (a
 * writer beside a reader compacts) is left out. Once `signal` aborts it checks no further table
 * (what it found so far is no full check: its caller, whose signal it is, reports the abort).
 */
export const checkTables = async (
  path: string,
  trusted: Trusted,
  signal?: AbortSignal,
): Promise<E.Either<StorageError, CheckedTables>> => {
  let names: ReadonlyArray<string>
  try {
    names = (await readdir(path)).filter((name) => TABLE_FILE.test(name)).sort()
  } catch (error) {
    return E.left(fromFileSystem(`cannot read ${path}`, error))
  }
  const recorded = trusted === 'recorded'
  const record = recorded ? await readTableRecord(path) : trusted
  const tables = new Map<string, string>()
  const read: string[] = []
  for (const name of names) {
    if (signal?.aborted === true) break
    const vouched = (identity: string): boolean => record.get(name) === identity
    const checked = await checkTable(join(path, name), { vouched, remembered: recorded })
    if (E.isLeft(checked)) return checked
    if (checked.right === undefined) continue
    tables.set(name, checked.right.identity)
    if (checked.right.read) read.push(name)
  }
  const stale =
    !recorded ||
    record.size !== tables.size ||
    [...tables].some(([name, identity]) => record.get(name) !== identity)
  return E.right({ tables, read, stale })
}

/** Which earlier checks `checkTable` trusts: by default none, and it reads the table. */
export interface TableTrust {
  /** Whether the table passed before with this identity (a record's word). */
  readonly vouched?: (identity: string) => boolean
  /** Trust a pass of this table in this process. */
  readonly remembered?: boolean
}

/**
 * Checks one table file: every block it indexes, and its meta blocks, unless `trust` vouches for
 * it; resolves with its identity and whether it was read, or `undefined` when the file is gone.
 */
export const checkTable = async (
  file: string,
  trust: TableTrust = {},
): Promise<E.Either<StorageError, { identity: string; read: boolean } | undefined>> => {
  // The file's identity is looked at before it is opened, so that a trusted table is not.
  if (trust.vouched !== undefined || trust.remembered === true) {
    let stat
    try {
      stat = await statFile(file, { bigint: true })
    } catch (error) {
      if (isMissing(error)) return E.right(undefined)
      return E.left(fromFileSystem(`cannot read ${file}`, error))
    }
    const identity = tableIdentity(stat)
    if (
      (trust.remembered === true && passed.has(`${stat.dev}:${identity}`)) ||
      trust.vouched?.(identity) === true
    ) {
      return E.right({ identity, read: false })
    }
  }
  let handle
  try {
    handle = await open(file, 'r')
  } catch (error) {
    if (isMissing(error)) return E.right(undefined)
    return E.left(fromFileSystem(`cannot read ${file}`, error))
  }
  try {
    const stat = await handle.stat({ bigint: true })
    const identity = tableIdentity(stat)
    await readBlocks(handle, Number(stat.size))
    passed.add(`${stat.dev}:${identity}`)
    return E.right({ identity, read: true })
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

const isMissing = (error: unknown): boolean =>
  typeof error === 'object' && error !== null && 'code' in error && error.code === 'ENOENT'

// Reads and checks every block of the table open as `handle`, of `size` bytes; throws
// `TableDamage` at the first that fails.
const readBlocks = async (handle: FileHandle, size: number): Promise<void> => {
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

/**
 * The record a writer leaves as it closes: the tables that passed at its open, as they were
 * then, and those RocksDB wrote since (flushes, compactions) with the identity they have now —
 * made here, not found on the disk, so not read. A table gone since is left out; one whose
 * identity changed since the open keeps the identity it passed with, and is read again.
 */
export const writtenSince = async (
  path: string,
  atOpen: TableRecord,
): Promise<TableRecord | undefined> => {
  const record = new Map<string, string>()
  try {
    for (const name of (await readdir(path)).filter((n) => TABLE_FILE.test(n)).sort()) {
      const passedAtOpen = atOpen.get(name)
      if (passedAtOpen !== undefined) {
        record.set(name, passedAtOpen)
        continue
      }
      const stat = await statFile(join(path, name), { bigint: true }).catch((error: unknown) => {
        if (isMissing(error)) return undefined
        throw error
      })
      if (stat !== undefined) record.set(name, tableIdentity(stat))
    }
  } catch {
    // A record is a cache: the next open reads what this one could not list.
    return undefined
  }
  return record
}
