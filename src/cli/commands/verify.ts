/**
 * `deltalog verify`: reads the whole store through the Storage port and checks it, against a
 * head printed earlier with `--head`. Exit code 1 when it finds violations.
 */
import type { Command } from 'commander'
import * as E from 'fp-ts/lib/Either.js'
import type { VerifyReport } from '../../verify/verify.js'
import { VerifyArgs } from '../args.js'
import * as flags from '../flags.js'
import { action, type Outcome } from '../outcome.js'
import { write } from '../output.js'
import { makeProgress } from '../progress.js'
import { verifyStore, withStore } from '../store.js'

/** Runs `verify`. */
export const verify = async (args: VerifyArgs): Promise<Outcome> => {
  const report = await withStore(args, 'verify', async (storage) => {
    const progress = makeProgress('verify', 'records checked')
    const checked = await verifyStore(storage, {
      onProgress: progress.update,
      ...(args.head === undefined ? {} : { head: args.head }),
    })
    progress.stop()
    return checked
  })
  if (E.isLeft(report)) return report
  return E.right(await printReport(report.right, args.json === true))
}

/** Prints a verification report; resolves with the exit code, 1 when it found violations. */
export const printReport = async (report: VerifyReport, json: boolean): Promise<number> => {
  await write(
    json ? `${JSON.stringify(reportJson(report))}\n` : `${reportLines(report).join('\n')}\n`,
  )
  return report.violationCount === 0 ? 0 : 1
}

const reportJson = (report: VerifyReport): unknown => ({
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
})

const reportLines = (report: VerifyReport): ReadonlyArray<string> => [
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

/** Declares `verify` on `program`. */
export const defineVerify = (program: Command): Command =>
  program
    .command('verify')
    .description('read the whole store and check it; exit code 1 on any violation')
    .addOption(flags.db())
    .addOption(flags.table())
    .option(
      '--head <sequence:checksum>',
      'a head printed by an earlier verify (or log.head()): the log must still pass through it',
    )
    .addOption(flags.json())
    .action(action(VerifyArgs, verify))
