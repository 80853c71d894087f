/**
 * The record of checked tables, `DELTALOG-TABLES`: which table files of a log's directory passed
 * the table check (rocksdbTables.ts), so that an open in a new process reads only the tables
 * that are new or changed since. Each table is listed with what changes when its bytes are
 * rewritten — size, inode, modification and status-change times in nanoseconds; the status
 * change time cannot be set back by a user — so a table written again under the same name is
 * checked again. Bytes that rot on the disk change none of these: the record is trusted by
 * opens, never by `verify`, which reads every table.
 *
 * The record is a cache: a missing, unreadable or damaged one means "check every table", never
 * an error. Only a writer's open writes it, atomically (a temporary file, synced, renamed, and
 * the directory synced), after the open succeeded.
 */
import { constants } from 'node:fs'
import { open, readFile, rename } from 'node:fs/promises'
import { join } from 'node:path'
import { crc32c } from './rocksdbTableCodec.js'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** The record's file in a log's directory. */
export const TABLE_RECORD_FILE = 'DELTALOG-TABLES'

/** The temporary file a record is written to before it is renamed into place. */
export const TABLE_RECORD_TEMPORARY = `${TABLE_RECORD_FILE}.tmp`

/** Table names with what identifies their bytes (see `tableIdentity`), each a table that passed. */
export type TableRecord = ReadonlyMap<string, string>

/** What a table file's stat says of its bytes: it changes whenever they are rewritten. */
export const tableIdentity = (stat: {
  readonly size: bigint
  readonly ino: bigint
  readonly mtimeNs: bigint
  readonly ctimeNs: bigint
}): string => `${stat.size}:${stat.ino}:${stat.mtimeNs}:${stat.ctimeNs}`

const HEADER = 'deltalog-tables 1'
const NAME = /^\d+\.sst$/
const IDENTITY = /^\d+:\d+:\d+:\d+$/

// -------------------------------------------------------------------------------------
// codec
// -------------------------------------------------------------------------------------

/**
 * The record as text: a header line, one line per table (`name identity`, by name), and a last
 * line with the CRC-32C of everything before it, in hex.
 *
 * Laws: `decodeTableRecord(encodeTableRecord(r))` is `r` for any record of table names and
 * identities; a text with any one byte changed, or cut short, decodes to `undefined`.
 */
export const encodeTableRecord = (record: TableRecord): string => {
  const lines = [
    HEADER,
    ...[...record].sort(([a], [b]) => (a < b ? -1 : 1)).map((e) => e.join(' ')),
  ]
  const body = `${lines.join('\n')}\n`
  return `${body}${crcOf(body)}\n`
}

/** The record in `text`, or `undefined` when it is not one `encodeTableRecord` wrote. */
export const decodeTableRecord = (text: string): TableRecord | undefined => {
  const end = text.lastIndexOf('\n', text.length - 2)
  if (!text.endsWith('\n') || end < 0) return undefined
  const body = text.slice(0, end + 1)
  if (text.slice(end + 1, -1) !== crcOf(body)) return undefined
  const [header, ...entries] = body.slice(0, -1).split('\n')
  if (header !== HEADER) return undefined
  const record = new Map<string, string>()
  for (const entry of entries) {
    const [name, identity, ...rest] = entry.split(' ')
    if (name === undefined || !NAME.test(name) || identity === undefined) return undefined
    if (!IDENTITY.test(identity) || rest.length > 0 || record.has(name)) return undefined
    record.set(name, identity)
  }
  return record
}

const crcOf = (body: string): string =>
  crc32c(new TextEncoder().encode(body)).toString(16).padStart(8, '0')

// -------------------------------------------------------------------------------------
// effects
// -------------------------------------------------------------------------------------

/** The record in directory `path`; empty when there is none or it cannot be read or decoded. */
export const readTableRecord = async (path: string): Promise<TableRecord> => {
  try {
    return decodeTableRecord(await readFile(join(path, TABLE_RECORD_FILE), 'utf8')) ?? new Map()
  } catch {
    return new Map()
  }
}

/**
 * Replaces the record in directory `path` with `record`, durably; resolves false when it could
 * not (the next open then checks the tables the record would have listed).
 * REQUIRES: this process holds the directory's writer's claim.
 */
export const writeTableRecord = async (path: string, record: TableRecord): Promise<boolean> => {
  const temporary = join(path, TABLE_RECORD_TEMPORARY)
  try {
    const handle = await open(temporary, 'w', 0o600)
    try {
      await handle.writeFile(encodeTableRecord(record))
      await handle.sync()
    } finally {
      await handle.close()
    }
    await rename(temporary, join(path, TABLE_RECORD_FILE))
    const directory = await open(path, constants.O_RDONLY)
    try {
      await directory.sync()
    } finally {
      await directory.close()
    }
    return true
  } catch {
    return false
  }
}
