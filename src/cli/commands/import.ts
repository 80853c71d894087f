/**
 * `deltalog import`: NDJSON entries (as `export` prints them) from stdin into an empty log, each
 * at its own sequence, all or nothing. Every line is read and checked first — its JSON, its
 * sequence above the one before, its key and value within the log's limits — and only then is
 * anything written, in commits of at most `IMPORT_CHUNK` entries (or `IMPORT_CHUNK_BYTES`). A
 * write that fails part-way removes what the import created (a new directory, or a new table);
 * a log that was there before is left as far as the import got, and the error says where and
 * that `--resume` imports the rest. SIGINT or SIGTERM stops it between commits and undoes it the
 * same way (`ABORTED`).
 *
 * `--resume` goes on where such an import stopped: the log must hold exactly the input's first
 * entries, each the same (sequence, key, value), and must have handed out no sequence past the
 * next one to import; the rest is then written as an import writes it. Anything else is
 * `NOT_EMPTY`, saying where the log and the input part, and nothing is written.
 */
import type { Command } from 'commander'
import * as E from 'fp-ts/lib/Either.js'
import type { Readable } from 'node:stream'
import { sameBytes } from '../../codec/bytes.js'
import { aborted, notEmpty, type DeltalogErrorValue } from '../../errors.js'
import type { LogEntry } from '../../log/read.js'
import { ImportArgs } from '../args.js'
import * as flags from '../flags.js'
import { checkInput, entriesOf, type Placed } from '../importInput.js'
import { action, type Outcome } from '../outcome.js'
import { write } from '../output.js'
import { makeProgress } from '../progress.js'
import { withReplayable, type Replayable } from '../replay.js'
import { interruptSignal } from '../signals.js'
import {
  lookBefore,
  removeCreated,
  shown,
  withLog,
  type Before,
  type Location,
  type LogTE,
} from '../store.js'

// Entries per commit when importing, and the bytes of keys and values a commit holds at most
// (one larger entry is a commit of its own).
const IMPORT_CHUNK = 1000
const IMPORT_CHUNK_BYTES = 16 * 1024 * 1024

// The import's writer reserves no sequence numbers past what it writes: each commit's block of
// numbers ends after its last entry, so that a writer opened again after a failed import (the
// one `--resume` opens) goes on at the next sequence rather than past a block of 4096.
const IMPORT_BLOCK_SIZE = 1

const RESUME_ADVICE = '; run the same import again with --resume to import the rest'

/** A write that failed part-way: its error, and the last entry committed before it, if any. */
interface Stopped {
  readonly error: DeltalogErrorValue
  readonly after: Placed | undefined
}

/** Where the writing starts: after the input's first `held` entries, the last of them `last`. */
interface Start {
  readonly held: number
  readonly last: Placed | undefined
}

/**
 * Runs `import` (`--resume` with `args.resume`) on stdin (or `input`), until `signal` (SIGINT or
 * SIGTERM) aborts it.
 */
export const importLog = async (
  args: ImportArgs,
  input: Readable = process.stdin,
  signal: AbortSignal = interruptSignal(),
): Promise<Outcome> => {
  const resume = args.resume === true
  // A resumed import checks the log it goes on with under the writer's lock, below.
  const before = await lookBefore(args, resume ? () => Promise.resolve(E.right(0)) : refuseNonEmpty)
  if (E.isLeft(before)) return before
  return withReplayable(input, async (replayable) => {
    const checked = await checkInput(replayable, signal)
    if (E.isLeft(checked)) return checked
    let stopped: Stopped | undefined
    const outcome = await withLog(
      args,
      'create',
      async (log) => {
        const start = resume
          ? await resumeAt(args, log, replayable, signal)
          : E.map((): Start => ({ held: 0, last: undefined }))(await refuseNonEmpty(args, log))
        if (E.isLeft(start)) return start
        const written = await writeInput(log, replayable, checked.right, start.right, signal)
        if (E.isLeft(written)) {
          stopped = written.left
          return E.left(written.left.error)
        }
        await write(imported(written.right, start.right))
        return E.right(0)
      },
      IMPORT_BLOCK_SIZE,
    )
    return stopped === undefined ? outcome : E.left(await undo(args, before.right, stopped))
  })
}

/** What an import that went through prints. */
const imported = (count: number, { held, last }: Start): string =>
  last === undefined
    ? `imported ${count} entr${count === 1 ? 'y' : 'ies'}\n`
    : count === 0
      ? `nothing to import: the log already holds all ${held} entries of the input\n`
      : `imported ${count} entr${count === 1 ? 'y' : 'ies'} after stdin line ${last.line} (sequence ${last.entry.sequence}), which the log held\n`

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

/**
 * After a write failed part-way: removes what the import created, if it created the log, and
 * otherwise says where it stopped. Resolves with the error to report.
 */
const undo = async (
  location: Location,
  before: Before,
  { error, after }: Stopped,
): Promise<DeltalogErrorValue> => {
  const rest =
    error.code === 'ABORTED'
      ? 'the lines after it were not written'
      : 'the commit of the lines after it failed'
  const stopped =
    after === undefined
      ? 'the import stopped before its first entry: none was committed'
      : `the import stopped after stdin line ${after.line}: the entries up to it (sequence ${after.entry.sequence}) are committed, and ${rest}`
  if (before === 'kept')
    return { ...error, message: `${error.message}; ${stopped}${RESUME_ADVICE}` }
  const removed = await removeCreated(location, before)
  return {
    ...error,
    message: E.isRight(removed)
      ? `${error.message}; nothing was imported: ${removed.right}`
      : `${error.message}; ${stopped}, and removing what it created failed: ${removed.left.message}`,
  }
}

// -------------------------------------------------------------------------------------
// resuming
// -------------------------------------------------------------------------------------

/**
 * Where a resumed import goes on in `log`: after the input's first K entries, when the log's
 * entries are exactly those (read side by side with the input, one pass of each) and the log
 * has handed out no sequence at or past the next entry's (`nextSequence` is above every entry
 * the log holds, so it is past the K-th). Otherwise `NOT_EMPTY`, saying where they part.
 */
// REQUIRES: `log` is open to write, so that nothing else changes it; `checkInput` passed.
const resumeAt = async (
  location: Location,
  log: LogTE,
  replayable: Replayable,
  signal: AbortSignal,
): Promise<E.Either<DeltalogErrorValue, Start>> => {
  const inputs = entriesOf(replayable, true)
  const cannot = (why: string): E.Either<DeltalogErrorValue, Start> =>
    E.left(
      notEmpty(`cannot resume: ${shown(location)} does not hold the start of the input: ${why}`),
    )
  let held = 0
  let last: Placed | undefined
  try {
    for await (const stored of log.scan()) {
      if (signal.aborted) return E.left(aborted('import', signal.reason))
      const next = await inputs.next()
      if (next.done === true) {
        return cannot(`it holds an entry past the input's last line (sequence ${stored.sequence})`)
      }
      // The input changed since it was checked: nothing is written.
      if (E.isLeft(next.value)) return next.value
      const differs = difference(stored, next.value.right.entry)
      if (differs !== undefined) {
        return cannot(
          `its entry at sequence ${stored.sequence} differs from stdin line ${next.value.right.line} in its ${differs}`,
        )
      }
      held++
      last = next.value.right
    }
    const following = await inputs.next()
    if (following.done === true) return E.right({ held, last })
    if (E.isLeft(following.value)) return following.value
    const { entry, line } = following.value.right
    return log.nextSequence() > entry.sequence
      ? cannot(
          `it has handed out sequences up to ${log.nextSequence() - 1}, past stdin line ${line}'s ${entry.sequence}, the next to import`,
        )
      : E.right({ held, last })
  } finally {
    await inputs.return(undefined)
  }
}

/** What differs between an entry the log holds and the input's: undefined when none does. */
const difference = (stored: LogEntry, input: LogEntry): string | undefined =>
  stored.sequence !== input.sequence
    ? `sequence (${input.sequence})`
    : !sameBytes(stored.key, input.key)
      ? 'key'
      : !sameBytes(stored.value, input.value)
        ? 'value'
        : undefined

// -------------------------------------------------------------------------------------
// writing
// -------------------------------------------------------------------------------------

/**
 * Appends the entries of the input after `start` to `log`; resolves with how many, or where it
 * stopped.
 */
// REQUIRES: `log` is open to write and holds the input's first `start.held` entries and no
// other (`refuseNonEmpty` or `resumeAt` passed); `checkInput` passed.
const writeInput = async (
  log: LogTE,
  replayable: Replayable,
  total: number,
  start: Start,
  signal: AbortSignal,
): Promise<E.Either<Stopped, number>> => {
  const progress = makeProgress('import', 'entries', total - start.held)
  let chunk: Placed[] = []
  let bytes = 0
  let imported = 0
  let skipped = 0
  let after = start.last
  // Commits the chunk so far; resolves with where the import stopped if that failed.
  const commit = async (): Promise<Stopped | undefined> => {
    if (chunk.length === 0) return undefined
    if (signal.aborted) return { error: aborted('import', signal.reason), after }
    const done = await log.appendAt(chunk.map((p) => p.entry))()
    if (E.isLeft(done)) return { error: done.left, after }
    imported += chunk.length
    after = chunk.at(-1)
    progress.update(imported)
    chunk = []
    bytes = 0
    return undefined
  }
  try {
    for await (const placed of entriesOf(replayable, true)) {
      // The input changed since it was checked (a file written to meanwhile): the import
      // stops before the line.
      if (E.isLeft(placed)) return E.left((await commit()) ?? { error: placed.left, after })
      if (skipped < start.held) {
        skipped++
        continue
      }
      const size = placed.right.entry.key.length + placed.right.entry.value.length
      if (chunk.length >= IMPORT_CHUNK || bytes + size > IMPORT_CHUNK_BYTES) {
        const failed = await commit()
        if (failed !== undefined) return E.left(failed)
      }
      chunk.push(placed.right)
      bytes += size
    }
    const failed = await commit()
    return failed === undefined ? E.right(imported) : E.left(failed)
  } finally {
    progress.stop()
  }
}

/** Declares `import` on `program`. */
export const defineImport = (program: Command): Command =>
  program
    .command('import')
    .description(
      'read NDJSON entries (as export prints them) from stdin into an empty log, all or nothing; blank lines are skipped and reported on stderr',
    )
    .addOption(flags.db())
    .addOption(flags.table())
    .option(
      '--resume',
      'go on with an import of the same input that stopped part-way: the log must hold exactly its first entries',
    )
    .action(action(ImportArgs, (args) => importLog(args)))
