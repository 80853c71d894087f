/**
 * `deltalog stats`: counts, watermarks, the SeqBlock and the size on disk of a log; with
 * `--watch`, the head, rates and writer live (watch.ts).
 */
import type { Command } from 'commander'
import * as E from 'fp-ts/lib/Either.js'
import * as O from 'fp-ts/lib/Option.js'
import { seqBlockKey } from '../../codec/records.js'
import { invalidArgument, type DeltalogErrorValue } from '../../errors.js'
import { decodeSeqBlock, nextBase, type SeqBlock } from '../../sequence/seqBlock.js'
import type { Storage } from '../../storage/port.js'
import { StatsArgs } from '../args.js'
import * as flags from '../flags.js'
import { action, type Outcome } from '../outcome.js'
import { sizeOnDisk, write } from '../output.js'
import { isPostgresUrl, withLog, type LogTE } from '../store.js'
import { watchStats, WATCH_INTERVAL_MS } from './watch.js'

/** What `stats` reports, and prints as JSON with `--json`. */
interface Stats {
  readonly entries: number
  readonly keys: number
  readonly nextSequence: number
  readonly durableSequence: number
  readonly seqBlock: {
    readonly baseSequence: number
    readonly blockSize: number
    readonly nextBase: number
  } | null
  /** Bytes; null for a table, whose size is the server's business. */
  readonly sizeOnDisk: number | null
}

/** Runs `stats`: once, or with `--watch` until a signal or `--count` refreshes (watch.ts). */
export const stats = (args: StatsArgs): Promise<Outcome> => {
  if (args.watch === true) return watchStats(args)
  const stray =
    args.interval !== undefined ? '--interval' : args.count !== undefined ? '--count' : undefined
  if (stray !== undefined) return Promise.resolve(E.left(invalidArgument(stray, 'is for --watch')))
  return withLog(args, 'read', async (log, storage) => {
    const report = await statsOf(log, storage, args.db)
    if (E.isLeft(report)) return report
    await write(args.json === true ? `${JSON.stringify(report.right)}\n` : statsText(report.right))
    return E.right(0)
  })
}

/** Counts what `log` holds and reads its SeqBlock from `storage`. */
// REQUIRES: `log` is open on `storage`, which is at `db`.
const statsOf = async (
  log: LogTE,
  storage: Storage,
  db: string,
): Promise<E.Either<DeltalogErrorValue, Stats>> => {
  const entries = await log.count()()
  if (E.isLeft(entries)) return entries
  let keys = 0
  for await (const _ of log.keys()) keys++
  const block = await storedSeqBlock(storage)
  if (E.isLeft(block)) return block
  return E.right({
    entries: entries.right,
    keys,
    nextSequence: log.nextSequence(),
    durableSequence: log.durableSequence(),
    seqBlock:
      block.right === undefined
        ? null
        : {
            baseSequence: block.right.baseSequence,
            blockSize: block.right.blockSize,
            nextBase: nextBase(block.right),
          },
    sizeOnDisk: isPostgresUrl(db) ? null : await sizeOnDisk(db),
  })
}

/** The SeqBlock `storage` holds, if any. */
const storedSeqBlock = async (
  storage: Storage,
): Promise<E.Either<DeltalogErrorValue, SeqBlock | undefined>> => {
  const stored = await storage.get(seqBlockKey)()
  if (E.isLeft(stored)) return stored
  return O.isSome(stored.right) ? decodeSeqBlock(stored.right.value) : E.right(undefined)
}

/** The report as `stats` prints it without `--json`. */
const statsText = (report: Stats): string => {
  const seqBlock =
    report.seqBlock === null
      ? 'none'
      : `[${report.seqBlock.baseSequence}, ${report.seqBlock.nextBase}) (size ${report.seqBlock.blockSize})`
  return [
    `entries           ${report.entries}`,
    `keys              ${report.keys}`,
    `next sequence     ${report.nextSequence}`,
    `durable sequence  ${report.durableSequence}`,
    `SeqBlock          ${seqBlock}`,
    `size on disk      ${report.sizeOnDisk === null ? 'n/a (PostgreSQL)' : `${report.sizeOnDisk} bytes`}`,
    '',
  ].join('\n')
}

/** Declares `stats` on `program`. */
export const defineStats = (program: Command): Command =>
  program
    .command('stats')
    .description('entries, keys, next and durable sequence, the SeqBlock, size on disk')
    .addOption(flags.db())
    .addOption(flags.table())
    .addOption(flags.json('print JSON (with --watch, one line per refresh)'))
    .option('--watch', 'refresh the head, rates and writer live, until Ctrl-C')
    .option('--interval <ms>', `with --watch: ms between refreshes (default ${WATCH_INTERVAL_MS})`)
    .option('--count <n>', 'with --watch: stop after n refreshes')
    .action(action(StatsArgs, stats))
