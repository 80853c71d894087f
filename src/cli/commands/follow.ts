/**
 * `deltalog follow`: existing entries from `--from` (default: the end), then new ones, until
 * SIGINT or SIGTERM, which end it with exit code 0 (or 130 and 143 when it cannot stop within half a
 * second, as while it waits for a server that does not answer). It reads without the writer's lock, so the
 * process that appends can open, close and reopen the log while it runs.
 */
import type { Command } from 'commander'
import * as E from 'fp-ts/lib/Either.js'
import { FollowArgs } from '../args.js'
import * as flags from '../flags.js'
import { action, type Outcome } from '../outcome.js'
import { printEntry } from '../output.js'
import { interruptSignal, pause } from '../signals.js'
import { isPostgresUrl, withLog, type LogTE } from '../store.js'

// How often `follow` looks for new entries in a directory.
const FOLLOW_POLL_MS = 250

/** Runs `follow` until SIGINT or SIGTERM (see signals.ts: ended anyway if it does not stop). */
export const follow = (args: FollowArgs): Promise<Outcome> => {
  const signal = interruptSignal()
  return isPostgresUrl(args.db) ? followTable(args, signal) : pollDirectory(args, signal)
}

/** Follows one read-only log of a table, which each commit's NOTIFY wakes. */
// REQUIRES: `args.db` is a PostgreSQL URL.
const followTable = (args: FollowArgs, signal: AbortSignal): Promise<Outcome> =>
  withLog(args, 'follow', async (log) => {
    for await (const entry of log.follow({ key: args.key, from: args.from, signal })) {
      await printEntry(entry, args.json === true)
    }
    return E.right(0)
  })

/**
 * Follows a directory. A read-only open of a directory sees the log as it was when it opened, so
 * this opens it anew to read what is new, every `FOLLOW_POLL_MS`: nothing would wake a reader in
 * another process (a follower in the writing process is woken by each commit).
 */
// REQUIRES: `args.db` is no PostgreSQL URL.
const pollDirectory = async (args: FollowArgs, signal: AbortSignal): Promise<Outcome> => {
  let position = args.from
  while (!signal.aborted) {
    const read = await withLog(args, 'read', async (log) => {
      position = await printFrom(log, args, position ?? log.nextSequence(), signal)
      return E.right(0)
    })
    if (E.isLeft(read)) return read
    await pause(FOLLOW_POLL_MS, signal)
  }
  return E.right(0)
}

/**
 * Prints the entries of `log` from sequence `from` on, stopping early once `signal` is aborted;
 * resolves with the sequence to go on from.
 */
// REQUIRES: `log` is open.
const printFrom = async (
  log: LogTE,
  args: FollowArgs,
  from: number,
  signal: AbortSignal,
): Promise<number> => {
  let position = from
  for await (const entry of log.scan({ key: args.key, from })) {
    await printEntry(entry, args.json === true)
    position = entry.sequence + 1
    if (signal.aborted) break
  }
  return position
}

/** Declares `follow` on `program`. */
export const defineFollow = (program: Command): Command =>
  program
    .command('follow')
    .description('print entries from --from (default: the end), then new ones, until Ctrl-C')
    .addOption(flags.db())
    .addOption(flags.table())
    .option('--key <key>', 'only this key')
    .option('--from <n>', 'from this sequence (inclusive)')
    .addOption(flags.json('print NDJSON, one entry per line'))
    .action(action(FollowArgs, follow))
