/**
 * How commands print: to stdout, waiting when the pipe is full, and an entry as the text line or
 * the NDJSON line of lines.ts; and the size of a log directory, which reports print.
 */
import { once } from 'node:events'
import { readdir, stat } from 'node:fs/promises'
import { join } from 'node:path'
import type { LogEntry } from '../log/read.js'
import { encodeEntryLine, formatEntry } from './lines.js'

/** Writes to stdout, waiting when the pipe is full. */
export const write = async (text: string): Promise<void> => {
  if (!process.stdout.write(text)) await once(process.stdout, 'drain')
}

/** Prints one entry on a line of its own: NDJSON with `json`, else text. */
export const printEntry = (entry: LogEntry, json: boolean): Promise<void> =>
  write(`${json ? encodeEntryLine(entry) : formatEntry(entry)}\n`)

/** Prints every entry of `entries`, one a line. */
export const printEntries = async (
  entries: AsyncIterable<LogEntry>,
  json: boolean,
): Promise<void> => {
  for await (const entry of entries) await printEntry(entry, json)
}

/** The bytes under a directory, every file counted. */
export const sizeOnDisk = async (dir: string): Promise<number> => {
  let total = 0
  for (const item of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, item.name)
    if (item.isDirectory()) total += await sizeOnDisk(path)
    else if (item.isFile()) total += (await stat(path)).size
  }
  return total
}
