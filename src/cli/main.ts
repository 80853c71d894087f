#!/usr/bin/env node
/**
 * The `deltalog` command line. Commander parses the arguments, io-ts (args.ts) decides what
 * they mean, and each command (commands.ts, demo.ts) resolves with an exit code or an error
 * value. Whatever goes wrong ends as one line on stderr and exit code 2 — never a stack trace;
 * `verify` and `demo` exit with 1 when they find violations.
 */
import { readFileSync } from 'node:fs'
import { Command, CommanderError, Option } from 'commander'
import * as E from 'fp-ts/lib/Either.js'
import type * as t from 'io-ts'
import type { DeltalogErrorValue } from '../errors.js'
import {
  AppendArgs,
  decodeArgs,
  DemoArgs,
  FollowArgs,
  ReportArgs,
  ScanArgs,
  VerifyArgs,
} from './args.js'
import {
  append,
  exportLog,
  follow,
  importLog,
  scan,
  stats,
  verify,
  migrate,
  type Outcome,
} from './commands.js'
import { demo } from './demo.js'
// `verify` checks the events of a log that holds an event store: load the event store's check.
import '../eventstore/verifyEvents.js'

const USAGE_ERROR = 2

const fail = (message: string): void => {
  process.stderr.write(`deltalog: ${message}\n`)
  process.exitCode = USAGE_ERROR
}

const describe = (error: DeltalogErrorValue): string => `${error.code}: ${error.message}`

/** Decodes a command's options with `codec` and runs `run` on them. */
const action =
  <A>(codec: t.Decoder<unknown, A>, run: (args: A) => Promise<Outcome>) =>
  async (_: unknown, command: Command): Promise<void> => {
    const args = decodeArgs(codec, command.opts<Record<string, unknown>>())
    const outcome = E.isLeft(args) ? args : await run(args.right)
    if (E.isLeft(outcome)) fail(describe(outcome.left))
    else process.exitCode = outcome.right
  }

const db = (): Option =>
  new Option(
    '--db <dir|url>',
    'the log directory, or a postgresql:// URL (with --table)',
  ).makeOptionMandatory()
const table = (): Option =>
  new Option('--table <name>', "the log's table, with a PostgreSQL URL in --db")
const json = (description = 'print JSON'): Option => new Option('--json', description)

/** The installed package's version: read from its package.json, so it can never go stale. */
const packageVersion = (): string =>
  (
    JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
      readonly version: string
    }
  ).version

const program = new Command('deltalog')
  .description('Look inside a deltalog log, write to it, and watch it survive crashes.')
  .version(packageVersion(), '-v, --version', 'print the version of deltalog')
  .exitOverride()
  .configureOutput({
    writeErr: (text) =>
      process.stderr.write(text.startsWith('error: ') ? `deltalog: ${text.slice(7)}` : text),
  })

program
  .command('append')
  .description(
    'append one record (--value) or one per line of stdin as one commit; prints the range',
  )
  .addOption(db())
  .addOption(table())
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
  .addOption(json())
  .action(action(AppendArgs, append))

program
  .command('scan')
  .description('print entries of one key, or of all keys in global order')
  .addOption(db())
  .addOption(table())
  .option('--key <key>', 'only this key')
  .option('--from <n>', 'from this sequence (inclusive)')
  .option('--to <n>', 'up to this sequence (exclusive)')
  .option('--limit <n>', 'at most this many entries')
  .option('--reverse', 'newest first')
  .addOption(json('print NDJSON, one entry per line'))
  .action(action(ScanArgs, scan))

program
  .command('follow')
  .description('print entries from --from (default: the end), then new ones, until Ctrl-C')
  .addOption(db())
  .addOption(table())
  .option('--key <key>', 'only this key')
  .option('--from <n>', 'from this sequence (inclusive)')
  .addOption(json('print NDJSON, one entry per line'))
  .action(action(FollowArgs, follow))

program
  .command('stats')
  .description('entries, keys, next and durable sequence, the SeqBlock, size on disk')
  .addOption(db())
  .addOption(table())
  .addOption(json())
  .action(action(ReportArgs, stats))

program
  .command('verify')
  .description('read the whole store and check it; exit code 1 on any violation')
  .addOption(db())
  .addOption(table())
  .option(
    '--head <sequence:checksum>',
    'a head printed by an earlier verify (or log.head()): the log must still pass through it',
  )
  .addOption(json())
  .action(action(VerifyArgs, verify))

program
  .command('migrate')
  .description(
    'convert a log written in on-disk format 1 (deltalog 0.1) to format 2, in place; a crash leaves the old log or the new one, and running it again finishes',
  )
  .addOption(new Option('--db <dir>', 'the log directory').makeOptionMandatory())
  .addOption(json())
  .action(action(ReportArgs, migrate))

program
  .command('export')
  .description('print every entry in global order as NDJSON')
  .addOption(db())
  .addOption(table())
  .action(action(ReportArgs, exportLog))

program
  .command('import')
  .description(
    'read NDJSON entries (as export prints them) from stdin into an empty log; blank lines are skipped and reported on stderr',
  )
  .addOption(db())
  .addOption(table())
  .action(action(ReportArgs, importLog))

program
  .command('demo')
  .description(
    'kill a writer process with SIGKILL again and again, and check after each kill that the log kept its promises',
  )
  .addOption(
    new Option('--db <dir>', 'the demo directory, recreated each run').default('data/demo'),
  )
  .option('--kills <n>', 'how many times to kill the writer', '5')
  .option('--seed <n>', 'replay the kill moments and workload of an earlier run')
  .option('--streams <n>', 'concurrent appenders in the writer')
  .option('--block-size <n>', 'the log block size')
  .action(action(DemoArgs, demo))

const main = async (): Promise<void> => {
  // A reader that goes away (`deltalog export | head`) ends the output, not the process badly.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0)
    fail(error.message)
  })
  try {
    await program.parseAsync(process.argv)
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version are not errors; commander has already printed its message.
      process.exitCode =
        error.exitCode === 0 || error.code === 'commander.helpDisplayed' ? 0 : USAGE_ERROR
      return
    }
    fail(error instanceof Error ? error.message : String(error))
  }
}

void main()
