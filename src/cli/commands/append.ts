/**
 * `deltalog append`: one record from `--value`, or one per line of stdin (an empty line is an
 * empty value), or one per NDJSON line with `--ndjson` (blank lines skipped, and said so on
 * stderr), all as one commit; prints the range of sequences it got.
 */
import type { Command } from 'commander'
import * as E from 'fp-ts/lib/Either.js'
import { invalidArgument, type DeltalogErrorValue } from '../../errors.js'
import { AppendArgs } from '../args.js'
import * as flags from '../flags.js'
import { decodeBase64, decodeLine } from '../lines.js'
import { action, type Outcome } from '../outcome.js'
import { write } from '../output.js'
import { ndjsonLines, stdinLines } from '../stdin.js'
import { withLog } from '../store.js'

/** A record to append, as the log's `append` takes it. */
interface NewRecord {
  readonly key: Uint8Array | string
  readonly value: Uint8Array | string
}

type Records = E.Either<DeltalogErrorValue, ReadonlyArray<NewRecord>>

/** Runs `append`. */
export const append = async (args: AppendArgs): Promise<Outcome> => {
  const records =
    args.value !== undefined ? recordOfValue(args, args.value) : await recordsOfStdin(args)
  if (E.isLeft(records)) return records
  // Nothing to append: no log is opened, so none is created.
  if (records.right.length === 0) {
    await write(args.json === true ? '{"count":0}\n' : 'appended nothing: stdin held no record\n')
    return E.right(0)
  }
  return withLog(args, 'create', async (log) => {
    const result = await log.append(records.right)()
    if (E.isLeft(result)) return result
    await write(appended(result.right.startSequence, result.right.count, args.json === true))
    return E.right(0)
  })
}

/** The one record of `--value`. */
const recordOfValue = (args: AppendArgs, value: string): Records => {
  if (args.key === undefined) return E.left(invalidArgument('--key', 'is required'))
  if (args.ndjson === true) {
    return E.left(invalidArgument('--ndjson', 'reads stdin; it cannot be combined with --value'))
  }
  const decoded = args.base64 === true ? decodeBase64(value, '--value') : E.right(value)
  return E.isLeft(decoded) ? decoded : E.right([{ key: args.key, value: decoded.right }])
}

/** The records of stdin: one per line, or one per NDJSON line; the first bad line stops it. */
const recordsOfStdin = async (args: AppendArgs): Promise<Records> => {
  const records: NewRecord[] = []
  for await (const { line, number } of args.ndjson === true ? ndjsonLines() : stdinLines()) {
    const where = `stdin line ${number}`
    const record =
      args.ndjson === true ? recordOfNdjson(args, line, where) : recordOfLine(args, line, where)
    if (E.isLeft(record)) return record
    records.push(record.right)
  }
  return E.right(records)
}

/** The record of an NDJSON line, whose key defaults to `--key`. */
const recordOfNdjson = (
  args: AppendArgs,
  line: string,
  where: string,
): E.Either<DeltalogErrorValue, NewRecord> => {
  const decoded = decodeLine(line, where, args.base64 === true)
  if (E.isLeft(decoded)) return decoded
  const key = decoded.right.key ?? args.key
  if (key === undefined) return E.left(invalidArgument(where, 'needs a key (or give --key)'))
  return E.right({ key, value: decoded.right.value })
}

/** The record of a plain line: its value under `--key`. */
const recordOfLine = (
  args: AppendArgs,
  line: string,
  where: string,
): E.Either<DeltalogErrorValue, NewRecord> => {
  if (args.key === undefined) return E.left(invalidArgument('--key', 'is required'))
  const value = args.base64 === true ? decodeBase64(line, where) : E.right(line)
  return E.isLeft(value) ? value : E.right({ key: args.key, value: value.right })
}

/** What `append` prints for the range it got. */
// REQUIRES: `count` > 0.
const appended = (startSequence: number, count: number, json: boolean): string =>
  json
    ? `${JSON.stringify({ startSequence, count })}\n`
    : `appended ${count} record${count === 1 ? '' : 's'}: sequences ${startSequence}..${startSequence + count - 1}\n`

/** Declares `append` on `program`. */
export const defineAppend = (program: Command): Command =>
  program
    .command('append')
    .description(
      'append one record (--value) or one per line of stdin as one commit; prints the range',
    )
    .addOption(flags.db())
    .addOption(flags.table())
    .option('--key <key>', 'the stream to append to')
    .option(
      '--value <value>',
      'the value; without it, one record per line of stdin, where an empty line is an empty value',
    )
    .option(
      '--ndjson',
      'stdin lines are {"key","value"} objects; blank lines are skipped and reported on stderr',
    )
    .option('--base64', 'values are base64')
    .addOption(flags.json())
    .action(action(AppendArgs, append))
