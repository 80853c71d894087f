/**
 * `deltalog demo`, what `npm start` runs: a writer process appends to several streams in sync
 * mode and is killed with SIGKILL at random moments; after every kill the log is reopened and
 * checked against every append the writer acknowledged, and the next writer carries on. It ends
 * with a verification of the whole store and a summary table, and exits 0 only when every check
 * held. The loop itself is the real-crash harness of src/testing, the one the tests run.
 */
import { readdir, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { Option, type Command } from 'commander'
import * as E from 'fp-ts/lib/Either.js'
import { invalidArgument, type DeltalogErrorValue } from '../../errors.js'
import {
  runProcessCrashes,
  type ProcessCrashReport,
  type RoundSummary,
} from '../../testing/processCrash.js'
import type { VerifyReport } from '../../verify/verify.js'
import { DemoArgs } from '../args.js'
import { action, type Outcome } from '../outcome.js'
import { write } from '../output.js'
import { makeProgress, type Progress } from '../progress.js'
import { isPostgresUrl, verifyStore, withStore } from '../store.js'

// Marks a directory the demo made, so that it only ever deletes its own.
const MARKER = 'DELTALOG-DEMO'

/** A row of the table printed after the kills on a terminal. */
type Row = ReadonlyArray<string | number>

/** Runs the demo. */
export const demo = async (args: DemoArgs): Promise<Outcome> => {
  const started = Date.now()
  if (isPostgresUrl(args.db)) {
    return E.left(
      invalidArgument('--db', 'the demo kills processes writing to a directory: give one'),
    )
  }
  const made = await recreate(args.db)
  if (E.isLeft(made)) return made
  const seed = args.seed ?? Math.floor(Math.random() * 0x7fff_ffff)
  const streams = args.streams ?? 4
  await write(introduction(args, seed, streams))
  const report = await runKills(args, seed, streams)
  if (E.isLeft(report)) return report
  // A last look at the whole store, the way `deltalog verify` reads it.
  const verified = await withStore({ db: args.db }, 'verify', (storage) => verifyStore(storage))
  if (E.isLeft(verified)) return verified
  return conclude(report.right, verified.right, started)
}

/** Empties `dir` for a new run, refusing a directory that holds anything else. */
const recreate = async (
  dir: string,
): Promise<E.Either<ReturnType<typeof invalidArgument>, void>> => {
  const items = await readdir(dir).catch(() => [] as string[])
  if (items.length > 0 && !items.includes(MARKER)) {
    return E.left(
      invalidArgument('--db', `${dir} is not empty and is no demo directory; give a new one`),
    )
  }
  await rm(dir, { recursive: true, force: true })
  await withStore({ db: dir }, 'create', () => Promise.resolve(E.right(undefined)))
  await writeFile(join(dir, MARKER), 'made by deltalog demo; deleted by its next run\n')
  return E.right(undefined)
}

/** What the demo prints before the first kill. */
const introduction = (args: DemoArgs, seed: number, streams: number): string =>
  `deltalog demo: a writer process appends to ${streams} streams in sync mode; it is killed\n` +
  `with SIGKILL ${args.kills} times, and after each kill the log is reopened and checked.\n` +
  `directory ${args.db}, seed ${seed} (--seed ${seed} replays the kill moments)\n\n`

/**
 * Kills the writer `args.kills` times, showing each kill: on a terminal a progress bar, then a
 * table; elsewhere a line per kill.
 */
// REQUIRES: `args.db` is a directory that `recreate` emptied.
const runKills = async (
  args: DemoArgs,
  seed: number,
  streams: number,
): Promise<E.Either<DeltalogErrorValue, ProcessCrashReport>> => {
  const terminal = process.stdout.isTTY
  const progress = terminal ? makeProgress('kills', 'recovered', args.kills) : undefined
  const rows: Row[] = [['kill', 'acknowledged', 'recovered', 'skipped', 'violations']]
  let report: ProcessCrashReport
  try {
    report = await runProcessCrashes({
      dir: args.db,
      kills: args.kills,
      seed,
      streams,
      // A long run rereads the whole log twenty times, not after every kill.
      fullCheckEvery: Math.max(1, Math.floor(args.kills / 20)),
      ...(args.blockSize === undefined ? {} : { blockSize: args.blockSize }),
      onRound: (round) => showRound(round, args.kills, rows, progress),
    })
  } catch (error) {
    progress?.stop()
    return E.left({
      code: 'IO_ERROR',
      message: error instanceof Error ? error.message : String(error),
      cause: error,
    })
  }
  progress?.stop()
  // On a terminal the bar is gone: the table tells each kill. Elsewhere the lines above did.
  await write(terminal ? `${table(rows)}\n\n` : '\n')
  return E.right(report)
}

/** Adds a kill to `rows`, and moves the bar on a terminal or prints a line elsewhere. */
// REQUIRES: `progress` is given when, and only when, stdout is a terminal.
const showRound = (
  round: RoundSummary,
  kills: number,
  rows: Row[],
  progress: Progress | undefined,
): void => {
  rows.push([
    round.round,
    round.acknowledged,
    round.recovered,
    round.skipped,
    round.violations.length,
  ])
  if (progress !== undefined) {
    progress.update(round.round)
  } else {
    process.stdout.write(
      `kill ${round.round}/${kills}: ${round.acknowledged} appends acknowledged, ` +
        `${round.recovered} entries recovered, ${round.skipped} numbers skipped, ` +
        `${round.violations.length} violations\n`,
    )
  }
}

/** Prints the summary and the verdict; exit code 1 when any check failed. */
const conclude = async (
  report: ProcessCrashReport,
  verified: VerifyReport,
  started: number,
): Promise<Outcome> => {
  const violations = [...report.violations, ...verified.violations]
  const count = report.violations.length + verified.violationCount
  await write(`${summary(report, count)}\n\n`)
  if (count === 0) {
    await write(
      'numbers skipped: the unused rest of the block reserved before each crash; after a\n' +
        'restart the allocator resumes past it, so no number is ever handed out twice.\n' +
        'every check held: no acknowledged append lost, sequences strictly increasing across\n' +
        'all crashes, every append all-or-nothing, the allocator resumed past every persisted\n' +
        `sequence, and deltalog verify found the store sound (${((Date.now() - started) / 1000).toFixed(1)} s)\n`,
    )
    return E.right(0)
  }
  const listed = violations.slice(0, 20).map((v) => `violation: ${v}`)
  if (violations.length > listed.length) listed.push(`… and ${violations.length - 20} more`)
  await write(`${listed.join('\n')}\nFAILED\n`)
  return E.right(1)
}

const table = (rows: ReadonlyArray<Row>): string => {
  const widths = rows[0]?.map((_, c) => Math.max(...rows.map((r) => String(r[c]).length))) ?? []
  return rows
    .map((r) => r.map((cell, c) => String(cell).padStart(widths[c] ?? 0)).join('  '))
    .join('\n')
}

const summary = (report: ProcessCrashReport, violations: number): string =>
  [
    ['appends acknowledged', report.acknowledged],
    ['entries recovered', report.recovered],
    ['crashes survived', report.crashes],
    ['numbers skipped', report.skipped],
    ['violations', violations],
  ]
    .map(([label, value]) => `${String(label).padEnd(22)}${String(value).padStart(8)}`)
    .join('\n')

/** Declares `demo` on `program`. */
export const defineDemo = (program: Command): Command =>
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
