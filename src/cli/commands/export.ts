/** `deltalog export`: every entry of a log, in global order, as NDJSON that `import` reads. */
import type { Command } from 'commander'
import * as E from 'fp-ts/lib/Either.js'
import { ReportArgs } from '../args.js'
import * as flags from '../flags.js'
import { action, type Outcome } from '../outcome.js'
import { printEntries } from '../output.js'
import { withLog } from '../store.js'

/** Runs `export`. */
export const exportLog = (args: ReportArgs): Promise<Outcome> =>
  withLog(args, 'read', async (log) => {
    await printEntries(log.scan(), true)
    return E.right(0)
  })

/** Declares `export` on `program`. */
export const defineExport = (program: Command): Command =>
  program
    .command('export')
    .description('print every entry in global order as NDJSON')
    .addOption(flags.db())
    .addOption(flags.table())
    .action(action(ReportArgs, exportLog))
