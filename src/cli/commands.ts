/**
 * The commands that look inside a log or write to it: append, scan, follow, stats, verify,
 * export and import. Each takes its decoded options and resolves with the process's exit code,
 * or with an error value that main.ts prints as one line. Output goes to stdout, progress to
 * stderr.
 */
import { once } from 'node:events'
import { readdir, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import * as E from 'fp-ts/lib/Either.js'
import * as O from 'fp-ts/lib/Option.js'
import { seqBlockKey } from '../codec/records.js'
import { errorValueOf, invalidArgument, notEmpty, type DeltalogErrorValue } from '../errors.js'
import { openLogDirectory } from '../log/directory.js'
import { openLogTE, type LogTE } from '../log/log.js'
import type { LogEntry } from '../log/read.js'
import { decodeSeqBlock, nextBase } from '../sequence/seqBlock.js'
import type { Storage } from '../storage/port.js'
import { migrateStorage } from '../format/migrate.js'
import { openPostgresStorage, redact } from '../postgres/storage.js'
import { verifyStorage, type VerifyReport } from '../verify/verify.js'
import type { AppendArgs, FollowArgs, ReportArgs, ScanArgs, VerifyArgs } from './args.js'
import { decodeBase64, decodeEntryLine, decodeLine, encodeEntryLine, formatEntry } from './lines.js'
import { makeProgress } from './progress.js'

/** What a command resolves with: an exit code, or the error to report. */
export type Outcome = E.Either<DeltalogErrorValue, number>

// Entries per commit when importing.
const IMPORT_CHUNK = 1000

// How often `follow` looks for new entries, and how long a command that writes waits for a
// directory that another process holds.
const FOLLOW_POLL_MS = 250
const LOCK_WAIT_MS = 2000

// -------------------------------------------------------------------------------------
// helpers
// -------------------------------------------------------------------------------------

/** Writes to stdout, waiting when the pipe is full. */
export const write = async (text: string): Promise<void> => {
  if (!process.stdout.write(text)) await once(process.stdout, 'drain')
}

/**
 * How a command opens a log: `create` makes one in a missing or empty directory (commands that
 * append), `update` writes to an existing one (`migrate`), `read` opens an existing one to read
 * only, without the writer's lock, so that any number of readers go with the process that writes
 * to the log, and that process can always open it. Readers change nothing in any directory.
 */
export type Access = 'create' | 'update' | 'read' | 'follow'

/**
 * Where a command's log is: a directory, or with a `postgres://` or `postgresql://` URL as `db`,
 * the table `table` on that server.
 */
export interface Location {
  readonly db: string
  readonly table?: string
}

/** Whether `--db` names a PostgreSQL server rather than a directory. */
export const isPostgresUrl = (db: string): boolean => /^postgres(ql)?:\/\//i.test(db)

/** The location as a message may name it: a URL's password hidden. */
export const shown = (location: Location): string =>
  isPostgresUrl(location.db)
    ? `table ${location.table ?? '?'} at ${redact(location.db)}`
    : location.db

/**
 * Opens the store at `location` for `access`; a writer of a directory waits a moment for
 * another to let go. A PostgreSQL table is opened through `deltalog/postgres` (which loads
 * `pg` then): read-only for `read` and `follow`, and otherwise as its writer, which takes the
 * log over.
 */
export const openStore = async (
  location: Location,
  access: Access,
): Promise<E.Either<DeltalogErrorValue, Storage>> => {
  const dir = location.db
  if (isPostgresUrl(dir)) {
    if (location.table === undefined) {
      return E.left(invalidArgument('--table', 'is required with a PostgreSQL URL in --db'))
    }
    // A command that reads once reads one snapshot, as a read-only directory shows one, and
    // listens to nothing (so it also runs on a hot standby); `follow` listens for commits.
    return openPostgresStorage({
      connection: { connectionString: dir },
      table: location.table,
      readOnly: access === 'read' || access === 'follow',
      snapshot: access === 'read',
      listen: access === 'follow',
    })()
  }
  if (location.table !== undefined) {
    return E.left(invalidArgument('--table', 'is only for a PostgreSQL URL in --db'))
  }
  const create = access === 'create'
  if (!create) {
    const info = await stat(dir).catch(() => undefined)
    if (info === undefined) return E.left(invalidArgument('--db', `${dir} does not exist`))
    if (!info.isDirectory()) return E.left(invalidArgument('--db', `${dir} is not a directory`))
  }
  if (access === 'read' || access === 'follow') {
    return openLogDirectory(dir, { create: false, readOnly: true })()
  }
  let opened = await openLogDirectory(dir, { create })()
  for (
    const since = Date.now();
    E.isLeft(opened) && opened.left.code === 'LOCKED' && Date.now() - since < LOCK_WAIT_MS;
  ) {
    await new Promise((resolve) => setTimeout(resolve, 50))
    opened = await openLogDirectory(dir, { create })()
  }
  return opened
}

/** Runs `use` on the log at `location`, closing it whatever happens. */
const withLog = async (
  location: Location,
  access: Access,
  use: (log: LogTE, storage: Storage) => Promise<Outcome>,
): Promise<Outcome> => {
  const storage = await openStore(location, access)
  if (E.isLeft(storage)) return storage
  const reading = access === 'read' || access === 'follow'
  const log = await openLogTE({ storage: storage.right, readOnly: reading })()
  if (E.isLeft(log)) {
    await storage.right.close()()
    return log
  }
  let outcome: Outcome
  try {
    outcome = await use(log.right, storage.right)
  } catch (error) {
    outcome = E.left(errorValueOf(error))
  }
  const closed = await log.right.close()()
  // A reader leaves a store it was given open: it is closed here.
  const released = reading ? await storage.right.close()() : E.right(undefined)
  return E.isLeft(closed) && E.isRight(outcome)
    ? closed
    : E.isLeft(released) && E.isRight(outcome)
      ? released
      : outcome
}

/** A line of stdin, numbered from 1. */
interface Line {
  readonly line: string
  readonly number: number
}

// How many skipped line numbers a note lists before it only counts them.
const LISTED_LINES = 10

/**
 * Every line of stdin, empty ones included: a line is a value, and an empty line is an empty
 * value. A final newline ends the last line; it does not start an empty one.
 */
async function* stdinLines(): AsyncGenerator<Line> {
  let number = 0
  for await (const line of createInterface({ input: process.stdin, crlfDelay: Infinity })) {
    yield { line, number: ++number }
  }
}

/**
 * The NDJSON lines of stdin. A blank line holds no JSON value, so it is skipped — but never
 * silently: once stdin ends, one line on stderr says which were skipped.
 */
async function* ndjsonLines(): AsyncGenerator<Line> {
  const skipped: number[] = []
  for await (const line of stdinLines()) {
    if (line.line.trim() === '') skipped.push(line.number)
    else yield line
  }
  if (skipped.length > 0) {
    const listed = skipped.slice(0, LISTED_LINES).join(', ')
    const more = skipped.length > LISTED_LINES ? ` and ${skipped.length - LISTED_LINES} more` : ''
    process.stderr.write(
      `deltalog: note: skipped ${skipped.length} blank line${skipped.length === 1 ? '' : 's'} of stdin (${skipped.length === 1 ? 'line' : 'lines'} ${listed}${more})\n`,
    )
  }
}

/** The bytes under a directory, every file counted. */
const sizeOnDisk = async (dir: string): Promise<number> => {
  let total = 0
  for (const item of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, item.name)
    if (item.isDirectory()) total += await sizeOnDisk(path)
    else if (item.isFile()) total += (await stat(path)).size
  }
  return total
}

const printEntries = async (entries: AsyncIterable<LogEntry>, json: boolean): Promise<void> => {
  for await (const entry of entries) {
    await write(`${json ? encodeEntryLine(entry) : formatEntry(entry)}\n`)
  }
}

// -------------------------------------------------------------------------------------
// commands
// -------------------------------------------------------------------------------------

/**
 * `append`: one record from `--value`, or one per line of stdin (an empty line is an empty
 * value), or one per NDJSON line with `--ndjson` (blank lines skipped, and said so on stderr);
 * prints the range.
 */
export const append = async (args: AppendArgs): Promise<Outcome> => {
  const records: Array<{ key: Uint8Array | string; value: Uint8Array | string }> = []
  if (args.value !== undefined) {
    if (args.key === undefined) return E.left(invalidArgument('--key', 'is required'))
    if (args.ndjson === true) {
      return E.left(invalidArgument('--ndjson', 'reads stdin; it cannot be combined with --value'))
    }
    const value = args.base64 === true ? decodeBase64(args.value, '--value') : E.right(args.value)
    if (E.isLeft(value)) return value
    records.push({ key: args.key, value: value.right })
  } else {
    for await (const { line, number } of args.ndjson === true ? ndjsonLines() : stdinLines()) {
      const where = `stdin line ${number}`
      if (args.ndjson === true) {
        const decoded = decodeLine(line, where, args.base64 === true)
        if (E.isLeft(decoded)) return decoded
        const key = decoded.right.key ?? args.key
        if (key === undefined) return E.left(invalidArgument(where, 'needs a key (or give --key)'))
        records.push({ key, value: decoded.right.value })
      } else {
        if (args.key === undefined) return E.left(invalidArgument('--key', 'is required'))
        const value = args.base64 === true ? decodeBase64(line, where) : E.right(line)
        if (E.isLeft(value)) return value
        records.push({ key: args.key, value: value.right })
      }
    }
  }
  return withLog(args, 'create', async (log) => {
    const result = await log.append(records)()
    if (E.isLeft(result)) return result
    const { startSequence, count } = result.right
    await write(
      args.json === true
        ? `${JSON.stringify({ startSequence, count })}\n`
        : count === 0
          ? 'appended nothing\n'
          : `appended ${count} record${count === 1 ? '' : 's'}: sequences ${startSequence}..${startSequence + count - 1}\n`,
    )
    return E.right(0)
  })
}

/** `scan`: entries of one key or of all, as text or NDJSON. */
export const scan = (args: ScanArgs): Promise<Outcome> =>
  withLog(args, 'read', async (log) => {
    await printEntries(
      log.scan({
        key: args.key,
        from: args.from,
        to: args.to,
        limit: args.limit,
        reverse: args.reverse,
      }),
      args.json === true,
    )
    return E.right(0)
  })

/**
 * `follow`: existing entries from `--from` (default: the end), then new ones, until SIGINT or
 * SIGTERM. It reads without the writer's lock, so the process that appends can open, close and
 * reopen the log while it runs. A read-only open of a directory sees the log as it was when it
 * opened, so `follow` opens it anew to read what is new, every `FOLLOW_POLL_MS`: nothing would
 * wake a reader in another process (a follower in the writing process is woken by each commit).
 * On PostgreSQL it follows one read-only log, which each commit's NOTIFY wakes.
 */
export const follow = async (args: FollowArgs): Promise<Outcome> => {
  const stop = new AbortController()
  const onSignal = (): void => stop.abort()
  process.once('SIGINT', onSignal)
  process.once('SIGTERM', onSignal)
  let position = args.from
  try {
    if (isPostgresUrl(args.db)) {
      return await withLog(args, 'follow', async (log) => {
        const entries = log.follow({ key: args.key, from: args.from, signal: stop.signal })
        for await (const entry of entries) {
          await write(`${args.json === true ? encodeEntryLine(entry) : formatEntry(entry)}\n`)
        }
        return E.right(0)
      })
    }
    while (!stop.signal.aborted) {
      const read = await withLog(args, 'read', async (log) => {
        const from = position ?? log.nextSequence()
        position = from
        for await (const entry of log.scan({ key: args.key, from })) {
          await write(`${args.json === true ? encodeEntryLine(entry) : formatEntry(entry)}\n`)
          position = entry.sequence + 1
          if (stop.signal.aborted) break
        }
        return E.right(0)
      })
      if (E.isLeft(read)) return read
      await new Promise<void>((resolve) => {
        const done = (): void => {
          clearTimeout(timer)
          stop.signal.removeEventListener('abort', done)
          resolve()
        }
        const timer = setTimeout(done, FOLLOW_POLL_MS)
        stop.signal.addEventListener('abort', done, { once: true })
      })
    }
  } finally {
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
  }
  return E.right(0)
}

/** `stats`: counts, watermarks, the SeqBlock and the size on disk. */
export const stats = (args: ReportArgs): Promise<Outcome> =>
  withLog(args, 'read', async (log, storage) => {
    const entries = await log.count()()
    if (E.isLeft(entries)) return entries
    let keys = 0
    for await (const _ of log.keys()) keys++
    const stored = await storage.get(seqBlockKey)()
    if (E.isLeft(stored)) return stored
    const block = O.isSome(stored.right) ? decodeSeqBlock(stored.right.value) : E.right(undefined)
    if (E.isLeft(block)) return block
    const report = {
      entries: entries.right,
      keys,
      nextSequence: log.nextSequence(),
      durableSequence: log.durableSequence(),
      seqBlock:
        block.right === undefined
          ? null
          : {
              baseSequence: block.right.baseSequence,
              blockSize: block.right.blockSize,
              nextBase: nextBase(block.right),
            },
      // A table's size is the server's business: null there.
      sizeOnDisk: isPostgresUrl(args.db) ? null : await sizeOnDisk(args.db),
    }
    if (args.json === true) {
      await write(`${JSON.stringify(report)}\n`)
    } else {
      const seqBlock =
        report.seqBlock === null
          ? 'none'
          : `[${report.seqBlock.baseSequence}, ${report.seqBlock.nextBase}) (size ${report.seqBlock.blockSize})`
      await write(
        [
          `entries           ${report.entries}`,
          `keys              ${report.keys}`,
          `next sequence     ${report.nextSequence}`,
          `durable sequence  ${report.durableSequence}`,
          `SeqBlock          ${seqBlock}`,
          `size on disk      ${report.sizeOnDisk === null ? 'n/a (PostgreSQL)' : `${report.sizeOnDisk} bytes`}`,
          '',
        ].join('\n'),
      )
    }
    return E.right(0)
  })

/** Prints a verification report; the exit code is 1 when it found violations. */
export const printReport = async (report: VerifyReport, json: boolean): Promise<number> => {
  if (json) {
    await write(
      `${JSON.stringify({
        ok: report.violationCount === 0,
        entries: report.entries,
        keys: report.keys,
        commits: report.commits,
        runs: report.runs,
        truncatedBefore: report.truncatedBefore,
        head: {
          sequence: report.head.end,
          checksum: Buffer.from(report.head.checksum).toString('hex'),
        },
        violationCount: report.violationCount,
        violations: report.violations,
      })}\n`,
    )
  } else {
    const lines = [
      `checked ${report.entries} entries of ${report.keys} keys in ${report.commits} commits`,
      `head: ${report.head.end} ${Buffer.from(report.head.checksum).toString('hex')}`,
      ...report.violations.map((v) => `violation: ${v}`),
      ...(report.violationCount > report.violations.length
        ? [`… and ${report.violationCount - report.violations.length} more`]
        : []),
      report.violationCount === 0
        ? 'ok: every check held'
        : `FAILED: ${report.violationCount} violation${report.violationCount === 1 ? '' : 's'}`,
    ]
    await write(`${lines.join('\n')}\n`)
  }
  return report.violationCount === 0 ? 0 : 1
}

/** `verify`: reads the whole store through the Storage port and checks it. */
export const verify = async (args: VerifyArgs): Promise<Outcome> => {
  const storage = await openStore(args, 'read')
  if (E.isLeft(storage)) return storage
  const progress = makeProgress('verify', 'records checked')
  const report = await verifyStorage(storage.right, {
    onProgress: progress.update,
    ...(args.head === undefined ? {} : { head: args.head }),
  })
  progress.stop()
  await storage.right.close()()
  if (E.isLeft(report)) return report
  return E.right(await printReport(report.right, args.json === true))
}

/** `export`: every entry, in global order, as NDJSON. */
export const exportLog = (args: ReportArgs): Promise<Outcome> =>
  withLog(args, 'read', async (log) => {
    await printEntries(log.scan(), true)
    return E.right(0)
  })

/** `import`: NDJSON entries from stdin into an empty log, at their own sequences. */
export const importLog = async (args: ReportArgs): Promise<Outcome> => {
  // A table is looked at read-only first: opening it to write would take it over from the
  // service writing to it, only to refuse the import.
  if (isPostgresUrl(args.db)) {
    const looked = await withLog(args, 'read', (log) => refuseNonEmpty(args, log))
    if (E.isLeft(looked)) return looked
  }
  return withLog(args, 'create', async (log) => {
    const refused = await refuseNonEmpty(args, log)
    if (E.isLeft(refused)) return refused
    const progress = makeProgress('import', 'entries')
    let chunk: LogEntry[] = []
    let imported = 0
    let last = -1
    const commit = async (): Promise<E.Either<DeltalogErrorValue, void>> => {
      if (chunk.length === 0) return E.right(undefined)
      const done = await log.appendAt(chunk)()
      imported += chunk.length
      chunk = []
      progress.update(imported)
      return done
    }
    try {
      for await (const { line, number } of ndjsonLines()) {
        const where = `stdin line ${number}`
        const entry = decodeEntryLine(line, where)
        if (E.isLeft(entry)) return entry
        if (entry.right.sequence <= last) {
          return E.left(
            invalidArgument(
              `${where}.sequence`,
              `must be above the one before (${last}), got ${entry.right.sequence}`,
            ),
          )
        }
        last = entry.right.sequence
        chunk.push(entry.right)
        if (chunk.length >= IMPORT_CHUNK) {
          const done = await commit()
          if (E.isLeft(done)) return done
        }
      }
      const done = await commit()
      if (E.isLeft(done)) return done
    } finally {
      progress.stop()
    }
    await write(`imported ${imported} entr${imported === 1 ? 'y' : 'ies'}\n`)
    return E.right(0)
  })
}

/** NOT_EMPTY for a log that holds entries or has handed out numbers. */
const refuseNonEmpty = async (location: Location, log: LogTE): Promise<Outcome> => {
  const existing = await log.count()()
  if (E.isLeft(existing)) return existing
  return existing.right > 0 || log.nextSequence() > 0
    ? E.left(
        notEmpty(`${shown(location)} already holds a log (next sequence ${log.nextSequence()})`),
      )
    : E.right(0)
}

/** `migrate`: converts a format 1 log in place to format 2. */
export const migrate = async (args: ReportArgs): Promise<Outcome> => {
  if (isPostgresUrl(args.db)) {
    return E.left(invalidArgument('--db', 'a log on PostgreSQL is in format 2 from the start'))
  }
  const storage = await openStore(args, 'update')
  if (E.isLeft(storage)) return storage
  const report = await migrateStorage(storage.right)
  await storage.right.close()()
  if (E.isLeft(report)) return report
  const r = report.right
  const head = `${r.head.end} ${Buffer.from(r.head.checksum).toString('hex')}`
  if (args.json === true) {
    await write(
      `${JSON.stringify({ entries: r.entries, commits: r.commits, deleted: r.deleted, head })}\n`,
    )
  } else if (r.commits === 0 && r.entries === 0) {
    await write(
      r.deleted > 0
        ? `already format 2; removed ${r.deleted} format 1 records left by an earlier run\n`
        : 'already format 2: nothing to do\n',
    )
  } else {
    await write(
      `converted ${r.entries} entries into ${r.commits} format 2 commits and removed ${r.deleted} format 1 records\nhead: ${head}\n`,
    )
  }
  return E.right(0)
}
