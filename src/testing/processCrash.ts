/**
 * Real crashes: runs the crash writer as a child process on a RocksDB directory, kills it with
 * SIGKILL at a random moment, reopens the directory, checks the recovered log against every
 * append the child acknowledged (see crashInvariants.ts), and starts the next writer on the
 * same directory — as many times as asked. The demo and the real-crash test both run this loop.
 *
 * SIGKILL ends the process but not the machine: the operating system's page cache survives, so
 * this covers process crashes only. Power loss is covered by the crash-simulating storage.
 */
import { spawn } from 'node:child_process'
import { createRequire } from 'node:module'
import { fileURLToPath, pathToFileURL } from 'node:url'
import * as E from 'fp-ts/lib/Either.js'
import * as t from 'io-ts'
import { openLog } from '../openLog.js'
import {
  checkRound,
  emptyHistory,
  type Ack,
  type History,
  type RecoveredEntry,
} from './crashInvariants.js'
import { makeRandom } from './random.js'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** How to run the kill loop. */
export interface ProcessCrashOptions {
  /** The log directory; it should be empty or missing at the start. */
  readonly dir: string
  /** How many times to kill the writer. */
  readonly kills: number
  /** Seeds the kill moments and the workload. */
  readonly seed: number
  /** Concurrent appenders in the writer (default 4). */
  readonly streams?: number
  /** The log's block size (default: the engine's). */
  readonly blockSize?: number
  /** The writer runs for a random time in this range before each kill (default 30–250 ms). */
  readonly minRunMs?: number
  readonly maxRunMs?: number
  /**
   * Read the whole log back after every this many kills, and after the last (default 1: after
   * every kill). Between full reads a recovery reads only the entries above the highest one
   * recovered before and counts the rest, so that a long run does not reread a growing log
   * after every kill. The count proves no older entry went missing; one that changed is still
   * changed at the next full read.
   */
  readonly fullCheckEvery?: number
  /** Called after each kill has been recovered and checked. */
  readonly onRound?: (round: RoundSummary) => void
}

/** One kill, recovered and checked. */
export interface RoundSummary {
  readonly round: number
  readonly acknowledged: number
  readonly recovered: number
  readonly skipped: number
  readonly violations: ReadonlyArray<string>
}

/** The whole run. */
export interface ProcessCrashReport {
  /** Appends the writers acknowledged, over all rounds. */
  readonly acknowledged: number
  /** Entries in the log after the last recovery. */
  readonly recovered: number
  /** Kills recovered from. */
  readonly crashes: number
  /** Sequence numbers skipped over all restarts. */
  readonly skipped: number
  readonly rounds: ReadonlyArray<RoundSummary>
  readonly violations: ReadonlyArray<string>
}

const Message = t.union([
  t.type({ type: t.literal('ready'), next: t.number }),
  t.type({ type: t.literal('ack'), id: t.string, start: t.number, count: t.number }),
])

// -------------------------------------------------------------------------------------
// the child
// -------------------------------------------------------------------------------------

/** How to start the writer: compiled next to this file, or from source through tsx. */
const writerCommand = (): ReadonlyArray<string> => {
  if (import.meta.url.endsWith('.ts')) {
    const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href
    return ['--import', tsx, fileURLToPath(new URL('./crashWriter.ts', import.meta.url))]
  }
  return [fileURLToPath(new URL('./crashWriter.js', import.meta.url))]
}

interface WriterRun {
  readonly openedAt: number
  readonly acks: ReadonlyArray<Ack>
}

/** Runs one writer until it has run `runMs` after opening, then kills it with SIGKILL. */
const runWriter = (
  options: ProcessCrashOptions,
  round: number,
  seed: number,
  runMs: number,
): Promise<WriterRun> =>
  new Promise((resolve, reject) => {
    const args = [
      ...writerCommand(),
      '--db',
      options.dir,
      '--run',
      String(round),
      '--seed',
      String(seed),
      '--streams',
      String(options.streams ?? 4),
      ...(options.blockSize === undefined ? [] : ['--block-size', String(options.blockSize)]),
    ]
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] })
    const acks: Ack[] = []
    let openedAt: number | undefined
    let killed = false
    let pending = ''
    let stderr = ''
    const onLine = (line: string): void => {
      if (line === '') return
      let json: unknown
      try {
        json = JSON.parse(line)
      } catch {
        return
      }
      const message = Message.decode(json)
      if (E.isLeft(message)) return
      const m = message.right
      if (m.type === 'ready') {
        openedAt = m.next
        setTimeout(() => {
          killed = true
          child.kill('SIGKILL')
        }, runMs)
      } else {
        acks.push({ id: m.id, start: m.start, count: m.count })
      }
    }
    child.stdout.setEncoding('utf8')
    child.stdout.on('data', (chunk: string) => {
      const lines = (pending + chunk).split('\n')
      pending = lines.pop() ?? ''
      lines.forEach(onLine)
    })
    child.stderr.setEncoding('utf8')
    child.stderr.on('data', (chunk: string) => (stderr += chunk))
    child.on('error', reject)
    // 'close' comes after the pipes are drained: every acknowledgement written is read.
    child.on('close', () => {
      if (!killed || openedAt === undefined) {
        reject(new Error(`the crash writer stopped on its own: ${stderr.trim() || 'no output'}`))
      } else {
        resolve({ openedAt, acks })
      }
    })
  })

interface Recovery {
  readonly entries: ReadonlyArray<RecoveredEntry>
  readonly olderCount?: number
  readonly nextSequence: number
}

/**
 * Reopens the directory as a restarted process would and reads the log back: the whole of it,
 * or, for a partial check, only the entries above `maxPersisted` and a count of the rest.
 */
const recover = async (dir: string, partialAbove?: number): Promise<Recovery> => {
  const log = await openLog({ path: dir })
  try {
    const decoder = new TextDecoder()
    const entries: RecoveredEntry[] = []
    const range = partialAbove === undefined || partialAbove < 0 ? {} : { after: partialAbove }
    for await (const e of log.scan(range)) {
      entries.push({
        sequence: e.sequence,
        key: decoder.decode(e.key),
        value: decoder.decode(e.value),
      })
    }
    const olderCount =
      partialAbove === undefined ? undefined : await log.count({ to: partialAbove + 1 })
    return {
      entries,
      nextSequence: log.nextSequence(),
      ...(olderCount === undefined ? {} : { olderCount }),
    }
  } finally {
    await log.close()
  }
}

// -------------------------------------------------------------------------------------
// the loop
// -------------------------------------------------------------------------------------

/**
 * Kills a writer `kills` times, checking every invariant after each recovery. Resolves with the
 * report; rejects only when the harness itself cannot run (a writer that fails to start, a log
 * that cannot be reopened).
 */
export const runProcessCrashes = async (
  options: ProcessCrashOptions,
): Promise<ProcessCrashReport> => {
  const random = makeRandom(options.seed)
  const minRunMs = options.minRunMs ?? 30
  const maxRunMs = Math.max(minRunMs, options.maxRunMs ?? 250)
  const fullCheckEvery = options.fullCheckEvery ?? 1
  if (!Number.isSafeInteger(fullCheckEvery) || fullCheckEvery < 1) {
    throw new RangeError(`fullCheckEvery must be a positive integer, not ${fullCheckEvery}`)
  }
  let history: History = emptyHistory
  let acknowledged = 0
  let skipped = 0
  const rounds: RoundSummary[] = []
  const violations: string[] = []
  // Appends are told apart by the run that wrote them, so every run must be this loop's own.
  const before = await recover(options.dir)
  if (before.entries.length > 0) {
    throw new Error(`${options.dir} already holds a log; the crash loop needs an empty directory`)
  }
  for (let round = 1; round <= options.kills; round++) {
    const runMs = minRunMs + random.int(maxRunMs - minRunMs + 1)
    const run = await runWriter(options, round, random.int(0x7fff_ffff), runMs)
    const full = round % fullCheckEvery === 0 || round === options.kills
    const recovered = await recover(options.dir, full ? undefined : history.maxPersisted)
    const report = checkRound(history, {
      openedAt: run.openedAt,
      acks: run.acks,
      recovered: recovered.entries,
      nextSequence: recovered.nextSequence,
      ...(recovered.olderCount === undefined ? {} : { olderCount: recovered.olderCount }),
    })
    history = report.history
    acknowledged += run.acks.length
    skipped += report.skipped
    const summary: RoundSummary = {
      round,
      acknowledged: run.acks.length,
      recovered: report.history.recovered,
      skipped: report.skipped,
      violations: report.violations.map((v) => `kill ${round}: ${v}`),
    }
    rounds.push(summary)
    violations.push(...summary.violations)
    options.onRound?.(summary)
  }
  return {
    acknowledged,
    recovered: history.recovered,
    crashes: rounds.length,
    skipped,
    rounds,
    violations,
  }
}
