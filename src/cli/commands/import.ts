/**
 * `deltalog import`: NDJSON entries (as `export` prints them) from stdin into an empty log, each
 * at its own sequence, in commits of `IMPORT_CHUNK` entries.
 */
import type { Command } from 'commander'
import * as E from 'fp-ts/lib/Either.js'
import { invalidArgument, notEmpty, type DeltalogErrorValue } from '../../errors.js'
import type { LogEntry } from '../../log/read.js'
import { ReportArgs } from '../args.js'
import * as flags from '../flags.js'
import { decodeEntryLine } from '../lines.js'
import { action, type Outcome } from '../outcome.js'
import { write } from '../output.js'
import { makeProgress, type Progress } from '../progress.js'
import { ndjsonLines } from '../stdin.js'
import { isPostgresUrl, shown, withLog, type Location, type LogTE } from '../store.js'

// Entries per commit when importing.
const IMPORT_CHUNK = 1000

/** Runs `import`. */
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
    let imported: E.Either<DeltalogErrorValue, number>
    try {
      imported = await importStdin(log, progress)
    } finally {
      progress.stop()
    }
    if (E.isLeft(imported)) return imported
    await write(`imported ${imported.right} entr${imported.right === 1 ? 'y' : 'ies'}\n`)
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

/** Appends the entries of stdin to `log`; resolves with how many. */
// REQUIRES: `log` is open to write and empty (`refuseNonEmpty` passed).
const importStdin = async (
  log: LogTE,
  progress: Progress,
): Promise<E.Either<DeltalogErrorValue, number>> => {
  let chunk: LogEntry[] = []
  let imported = 0
  for await (const entry of stdinEntries()) {
    if (E.isLeft(entry)) return entry
    chunk.push(entry.right)
    if (chunk.length >= IMPORT_CHUNK) {
      const done = await commitChunk(log, chunk, imported, progress)
      if (E.isLeft(done)) return done
      imported = done.right
      chunk = []
    }
  }
  return commitChunk(log, chunk, imported, progress)
}

/**
 * Appends `chunk` as one commit; resolves with the count of entries imported so far, `before`
 * and the chunk's.
 */
// REQUIRES: `chunk` ascends, above every sequence `log` holds.
const commitChunk = async (
  log: LogTE,
  chunk: ReadonlyArray<LogEntry>,
  before: number,
  progress: Progress,
): Promise<E.Either<DeltalogErrorValue, number>> => {
  if (chunk.length === 0) return E.right(before)
  const done = await log.appendAt(chunk)()
  const imported = before + chunk.length
  progress.update(imported)
  return E.isLeft(done) ? done : E.right(imported)
}

/**
 * The entries of stdin's NDJSON lines. The first line that does not decode, or whose sequence is
 * not above the one before, ends them with its error.
 */
async function* stdinEntries(): AsyncGenerator<E.Either<DeltalogErrorValue, LogEntry>> {
  let last = -1
  for await (const { line, number } of ndjsonLines()) {
    const where = `stdin line ${number}`
    const entry = decodeEntryLine(line, where)
    if (E.isRight(entry) && entry.right.sequence <= last) {
      yield E.left(
        invalidArgument(
          `${where}.sequence`,
          `must be above the one before (${last}), got ${entry.right.sequence}`,
        ),
      )
      return
    }
    yield entry
    if (E.isLeft(entry)) return
    last = entry.right.sequence
  }
}

/** Declares `import` on `program`. */
export const defineImport = (program: Command): Command =>
  program
    .command('import')
    .description(
      'read NDJSON entries (as export prints them) from stdin into an empty log; blank lines are skipped and reported on stderr',
    )
    .addOption(flags.db())
    .addOption(flags.table())
    .action(action(ReportArgs, importLog))
