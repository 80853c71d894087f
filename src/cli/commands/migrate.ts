/**
 * `deltalog migrate`: converts a log directory written in on-disk format 1 (deltalog 0.1) to
 * format 2, in place. A log on PostgreSQL is in format 2 from the start.
 */
import type { Command } from 'commander'
import * as E from 'fp-ts/lib/Either.js'
import { invalidArgument } from '../../errors.js'
import type { MigrationReport } from '../../format/migrate.js'
import { ReportArgs } from '../args.js'
import * as flags from '../flags.js'
import { action, type Outcome } from '../outcome.js'
import { write } from '../output.js'
import { isPostgresUrl, migrateStore, withStore } from '../store.js'

/** Runs `migrate`. */
export const migrate = async (args: ReportArgs): Promise<Outcome> => {
  if (isPostgresUrl(args.db)) {
    return E.left(invalidArgument('--db', 'a log on PostgreSQL is in format 2 from the start'))
  }
  const report = await withStore(args, 'update', migrateStore)
  if (E.isLeft(report)) return report
  await write(migrationText(report.right, args.json === true))
  return E.right(0)
}

/** What `migrate` prints for its report. */
const migrationText = (r: MigrationReport, json: boolean): string => {
  const head = `${r.head.end} ${Buffer.from(r.head.checksum).toString('hex')}`
  if (json) {
    return `${JSON.stringify({ entries: r.entries, commits: r.commits, deleted: r.deleted, head })}\n`
  }
  if (r.commits === 0 && r.entries === 0) {
    return r.deleted > 0
      ? `already format 2; removed ${r.deleted} format 1 records left by an earlier run\n`
      : 'already format 2: nothing to do\n'
  }
  return `converted ${r.entries} entries into ${r.commits} format 2 commits and removed ${r.deleted} format 1 records\nhead: ${head}\n`
}

/** Declares `migrate` on `program`. */
export const defineMigrate = (program: Command): Command =>
  program
    .command('migrate')
    .description(
      'convert a log written in on-disk format 1 (deltalog 0.1) to format 2, in place; a crash leaves the old log or the new one, and running it again finishes',
    )
    .addOption(flags.dbDirectory())
    .addOption(flags.json())
    .action(action(ReportArgs, migrate))
