/** `deltalog scan`: the entries of one key or of all, in order or newest first, as text or NDJSON. */
import type { Command } from 'commander'
import * as E from 'fp-ts/lib/Either.js'
import { ScanArgs } from '../args.js'
import * as flags from '../flags.js'
import { action, type Outcome } from '../outcome.js'
import { printEntries } from '../output.js'
import { withLog } from '../store.js'

/** Runs `scan`. */
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

/** Declares `scan` on `program`. */
export const defineScan = (program: Command): Command =>
  program
    .command('scan')
    .description('print entries of one key, or of all keys in global order')
    .addOption(flags.db())
    .addOption(flags.table())
    .option('--key <key>', 'only this key')
    .option('--from <n>', 'from this sequence (inclusive)')
    .option('--to <n>', 'up to this sequence (exclusive)')
    .option('--limit <n>', 'at most this many entries')
    .option('--reverse', 'newest first')
    .addOption(flags.json('print NDJSON, one entry per line'))
    .action(action(ScanArgs, scan))
