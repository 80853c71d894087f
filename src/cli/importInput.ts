/**
 * What `deltalog import` reads: stdin's NDJSON entries (as `export` prints them), each checked as
 * the log would check it, with the line it is on — read once to check them all, and again to
 * write them (see replay.ts).
 */
import * as E from 'fp-ts/lib/Either.js'
import { aborted, invalidArgument, type DeltalogErrorValue } from '../errors.js'
import type { LogEntry } from '../log/read.js'
import { DEFAULTS } from '../log/types.js'
import { validatePlaced } from '../log/validate.js'
import { decodeEntryLine } from './lines.js'
import type { Replayable } from './replay.js'
import { ndjsonLines } from './stdin.js'

/** An entry read from stdin, with the line it is on. */
export interface Placed {
  readonly entry: LogEntry
  readonly line: number
}

/**
 * The entries of stdin's NDJSON lines. The first line that does not decode, whose sequence is
 * not above the one before, or whose key or value the log would refuse, ends them with its
 * error. `quiet` reads them again without the note on skipped blank lines.
 */
export async function* entriesOf(
  replayable: Replayable,
  quiet: boolean,
): AsyncGenerator<E.Either<DeltalogErrorValue, Placed>> {
  let last = -1
  const input = replayable.open()
  try {
    for await (const { line, number } of ndjsonLines(input, quiet)) {
      const where = `stdin line ${number}`
      const entry = E.chain(checkEntry(where, last))(decodeEntryLine(line, where))
      yield E.map((e: LogEntry) => ({ entry: e, line: number }))(entry)
      if (E.isLeft(entry)) return
      last = entry.right.sequence
    }
  } finally {
    input.destroy()
  }
}

/**
 * An entry the log would take after one at sequence `last`: its sequence above it, its key and
 * value as the log's own check of an appended entry finds them, named by the line.
 */
const checkEntry =
  (where: string, last: number) =>
  (entry: LogEntry): E.Either<DeltalogErrorValue, LogEntry> => {
    if (entry.sequence <= last) {
      const error = `must be above the one before (${last}), got ${entry.sequence}`
      return E.left(invalidArgument(`${where}.sequence`, error))
    }
    const refused = validatePlaced([entry], DEFAULTS)
    if (E.isRight(refused)) return E.right(entry)
    const field = refused.left.field.replace(/^entries\[0\]/, where)
    return E.left(invalidArgument(field, refused.left.message.replace(/^[^:]*: /, '')))
  }

/** Reads the whole input once and checks every line; resolves with how many entries it holds. */
export const checkInput = async (
  replayable: Replayable,
  signal: AbortSignal,
): Promise<E.Either<DeltalogErrorValue, number>> => {
  let count = 0
  for await (const placed of entriesOf(replayable, false)) {
    if (signal.aborted) return E.left(aborted('import', signal.reason))
    if (E.isLeft(placed)) return placed
    count++
  }
  return E.right(count)
}
