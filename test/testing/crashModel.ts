// The crash model: a plain model of what a log has promised, and the checks that match what a
// log shows — live, or reopened after a crash — against it. The commands that drive a real log
// beside the model are in crashCommands.ts. The invariants of docs/crash-testing.md, checked after every step:
//   1. sequences strictly increase over the whole history; no number is handed out twice;
//   2. a recovered log is a prefix of the committed history holding every durable commit;
//   3. every commit (append or appendAt) is all-or-nothing after recovery;
//   4. every recovered entry's sequence is below the recovered log's nextSequence();
//   5. a failed append, appendAt or flush stops the log (WRITER_FAILED until it is reopened),
//      so no number escapes; recoveries after faults keep 1–4.
// Beside them, what each call promises: a resolved truncateBefore(s) hides every entry below
// min(s, nextSequence) now and after any crash; appendAt writes at the sequences it carries; a
// resolved flush or close makes every earlier acknowledged commit durable; a durable read shows
// only entries that no power loss can take; and every way of reading one log — global and key
// scans, reverse scans, counts, key listings, follows — agrees with the others.
import * as E from 'fp-ts/lib/Either.js'
import * as O from 'fp-ts/lib/Option.js'
import { expect } from 'vitest'
import { DeltalogError } from '../../src/errors.js'
import { openLog, type Log, type LogEntry } from '../../src/openLog.js'
import { decodeTruncation, truncationKey } from '../../src/codec/truncation.js'
import { openCrashStorage, type CrashStorage } from '../../src/testing/crashStorage.js'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

export interface RecordInput {
  readonly key: string
  readonly value: string
}

/** One commit that may be in the log: an append or an appendAt. */
interface Commit {
  readonly records: ReadonlyArray<RecordInput>
  /**
   * The sequence of each record: known once acknowledged, and always for an appendAt (the caller
   * chose them); unknown for an append that failed.
   */
  readonly sequences: ReadonlyArray<number> | undefined
  /** Resolved: the live log must hold it. A failed commit may or may not have been written. */
  readonly acknowledged: boolean
  /** Known durable: acknowledged in sync mode, before a resolved flush or close, or recovered. */
  durable: boolean
}

export interface Model {
  /** Every commit that may be in the log, in commit (and so sequence) order. */
  commits: Commit[]
  /** One past the highest sequence ever acknowledged or recovered, across every crash. */
  handedOut: number
  /** A write failed in this incarnation: the log may now refuse writes. */
  failed: boolean
  /**
   * An append, appendAt or flush failed in this incarnation: the log must now refuse every
   * write with WRITER_FAILED until it is reopened (a truncation whose deletions failed goes on).
   */
  stopped: boolean
  /** Every entry below this is gone for good: a resolved truncateBefore said so. */
  truncated: number
  /** Points of truncations that failed: each one's watermark may or may not have been written. */
  truncating: number[]
  /** Entries a durable read or follower returned; no crash may take them (unless truncated). */
  readonly durableSeen: Map<number, string>
  readonly durability: 'sync' | 'buffered'
}

export interface World {
  store: CrashStorage
  log: Log
  readonly open: (store: CrashStorage) => Promise<Log>
}

/** Where the writer's allocator stands when it reaches a call: calls are served in call order. */
export interface Position {
  next: number
}

export const KEYS = ['a', 'b', 'c'] as const

export const str = (b: Uint8Array): string => new TextDecoder().decode(b)
export const show = (e: LogEntry): string => `${e.sequence}:${str(e.key)}=${str(e.value)}`
export const showRecord = (r: RecordInput): string => `${r.key}=${JSON.stringify(r.value)}`
export const showRecords = (rs: ReadonlyArray<RecordInput>): string => rs.map(showRecord).join(', ')

export const collect = async <A>(it: AsyncIterable<A>): Promise<A[]> => {
  const out: A[] = []
  for await (const x of it) out.push(x)
  return out
}

export const settled = <A>(p: Promise<A>): Promise<PromiseSettledResult<A>> =>
  p.then(
    (value) => ({ status: 'fulfilled', value }),
    (reason: unknown) => ({ status: 'rejected', reason }),
  )

export const codeOf = (error: unknown): string =>
  error instanceof DeltalogError ? error.code : `not a DeltalogError: ${String(error)}`

const describeCommit = (c: Commit): string =>
  `${c.acknowledged ? '' : 'failed '}commit [${c.records
    .map((r, i) => `${c.sequences?.[i] ?? '?'}:${showRecord(r)}`)
    .join(', ')}]`

/**
 * A write the log refused: fine only for one that failed (IO_ERROR), which may stop the log, or
 * for one after a failed write (WRITER_FAILED).
 */
export const refusedWrite = (m: Model, error: unknown, stops: boolean): 'failed' | 'refused' => {
  const code = codeOf(error)
  if (code === 'WRITER_FAILED') {
    expect(m.failed, 'the log refused a call without a failed write').toBe(true)
    return 'refused'
  }
  // Calls committed in one group with the failed one share its error.
  expect(code, 'a write failed with an unexpected error').toBe('IO_ERROR')
  m.failed = true
  m.stopped ||= stops
  return 'failed'
}

/** A write the log accepted: never after a failed append, appendAt or flush. */
export const acceptedWrite = (m: Model, what: string): void => {
  expect(m.stopped, `${what} succeeded after a failed write: the log must stop`).toBe(false)
}

/** Raises the certain truncation point, and forgets what lies below it. */
export const truncatedTo = (m: Model, point: number): void => {
  if (point <= m.truncated) return
  m.truncated = point
  m.truncating = m.truncating.filter((t) => t > point)
  for (const sequence of [...m.durableSeen.keys()]) {
    if (sequence < point) m.durableSeen.delete(sequence)
  }
}

// -------------------------------------------------------------------------------------
// views: what a log shows, matched against the model
// -------------------------------------------------------------------------------------

type ViewKind = 'live' | 'crash'

/** What a view may show of one commit when the truncation point is `w`. */
const visibleOf = (
  c: Commit,
  w: number,
): Array<{ readonly sequence: number | undefined; readonly record: RecordInput }> =>
  c.records.flatMap((record, i) => {
    const sequence = c.sequences?.[i]
    return sequence !== undefined && sequence < w ? [] : [{ sequence, record }]
  })

/**
 * The commits a global scan shows if the truncation point is `w`, or why it cannot be the
 * model's. Live, every acknowledged commit is there; after a crash, every durable one is, the
 * rest are a prefix of the history, and each commit is there whole or not at all.
 */
const matchAt = (
  m: Model,
  entries: ReadonlyArray<LogEntry>,
  w: number,
  kind: ViewKind,
): { readonly kept: Commit[] } | { readonly why: string } => {
  for (let i = 1; i < entries.length; i++) {
    const [before, after] = [entries[i - 1], entries[i]]
    if (before !== undefined && after !== undefined && after.sequence <= before.sequence) {
      return { why: `sequence ${after.sequence} follows ${before.sequence}` }
    }
  }
  const below = entries.find((e) => e.sequence < w)
  if (below !== undefined) return { why: `${show(below)} lies below the truncation point ${w}` }
  let at = 0
  let ended = false
  const kept: Commit[] = []
  for (const c of m.commits) {
    const visible = visibleOf(c, w)
    if (visible.length === 0) continue
    const slice = entries.slice(at, at + visible.length)
    const base = slice[0]?.sequence ?? 0
    const matches =
      !ended &&
      slice.length === visible.length &&
      slice.every(
        (e, i) =>
          str(e.key) === visible[i]?.record.key &&
          str(e.value) === visible[i]?.record.value &&
          e.sequence === (visible[i]?.sequence ?? base + i),
      )
    if (matches) {
      kept.push({
        records: c.records,
        sequences: c.sequences ?? slice.map((e) => e.sequence),
        acknowledged: kind === 'crash' || c.acknowledged,
        durable: kind === 'crash' || c.durable,
      })
      at += visible.length
      continue
    }
    // A failed commit may never have been written.
    if (!c.acknowledged) continue
    if (kind === 'live') return { why: `the live log lacks the ${describeCommit(c)}` }
    if (c.durable) return { why: `a crash lost the durable ${describeCommit(c)}` }
    // A lost commit that was not durable: every later one must be lost too.
    ended = true
  }
  const extra = entries.slice(at)
  if (extra.length > 0) {
    return {
      why: `${extra.map(show).join(' ')} ${extra.length === 1 ? 'is' : 'are'} not part of a prefix of the history, whole commits only`,
    }
  }
  return { kept }
}

/** The truncation points a view may have: the certain one, or a failed truncation's. */
const candidates = (m: Model): number[] => [
  ...new Set([...m.truncating.filter((t) => t > m.truncated), m.truncated]),
]

/** The watermark stored in a store, as a reopened log reads it. */
const storedWatermark = async (store: CrashStorage): Promise<number> => {
  const got = await store.get(truncationKey)()
  if (E.isLeft(got)) {
    return expect.fail(`reading the truncation record failed: ${got.left.message}`)
  }
  if (O.isNone(got.right)) return 0
  const truncation = decodeTruncation(got.right.value)
  return E.isRight(truncation) ? truncation.right.before : -1
}

/** Every way of reading one log must agree with its global scan. */
const agree = async (log: Log, entries: ReadonlyArray<LogEntry>): Promise<void> => {
  const all = entries.map(show)
  expect(await log.count(), 'count() disagrees with scan()').toBe(all.length)
  expect(
    (await collect(log.scan({ reverse: true }))).map(show),
    'a reverse scan disagrees with scan()',
  ).toEqual([...all].reverse())
  for (const key of KEYS) {
    const ofKey = entries.filter((e) => str(e.key) === key).map(show)
    expect(
      (await collect(log.scan({ key }))).map(show),
      `scan({ key: '${key}' }) disagrees with scan()`,
    ).toEqual(ofKey)
    expect(await log.count({ key }), `count({ key: '${key}' }) disagrees with scan()`).toBe(
      ofKey.length,
    )
  }
  const keys = [...new Set(entries.map((e) => str(e.key)))].sort()
  expect((await collect(log.keys())).map(str), 'keys() disagrees with scan()').toEqual(keys)
}

/**
 * Checks what a log shows against the model: its scan is the model's (invariants 2–3), its
 * sequences lie below nextSequence() (4), no number will be handed out again (1), entries a
 * durable read saw are there, and every read agrees with the scan. Answers the commits found
 * and the truncation point they were found at.
 */
const checkView = async (
  m: Model,
  log: Log,
  kind: ViewKind,
  watermark: number | undefined,
  readAll = true,
): Promise<{
  readonly kept: Commit[]
  readonly watermark: number
  readonly entries: LogEntry[]
}> => {
  const entries = await collect(log.scan())
  const points = candidates(m)
  if (watermark !== undefined) {
    expect(points, `the stored truncation point ${watermark} is not one the calls allow`).toContain(
      watermark,
    )
  }
  const tried = (watermark === undefined ? points : [watermark]).map((w) => ({
    w,
    result: matchAt(m, entries, w, kind),
  }))
  const found = tried.find((t) => 'kept' in t.result)
  if (found === undefined || !('kept' in found.result)) {
    const why = tried.map((t) => ('why' in t.result ? t.result.why : '')).join('; or ')
    expect.fail(`${kind} view ${JSON.stringify(entries.map(show))}: ${why}`)
  }
  const next = log.nextSequence()
  // A live log whose write failed may hold that write's entries at or past nextSequence(): it
  // stopped, and hands out nothing more until it is reopened.
  if (kind === 'crash' || !m.failed) {
    for (const e of entries) {
      expect(e.sequence, `${show(e)} lies at or past nextSequence() ${next}`).toBeLessThan(next)
    }
  }
  expect(next, 'the allocator would hand out a number again').toBeGreaterThanOrEqual(m.handedOut)
  const bySequence = new Map(entries.map((e) => [e.sequence, show(e)]))
  for (const [sequence, entry] of m.durableSeen) {
    if (sequence < found.w) continue
    expect(bySequence.get(sequence), `${kind} view lost ${entry}, which a durable read saw`).toBe(
      entry,
    )
  }
  if (readAll) await agree(log, entries)
  return { kept: found.result.kept, watermark: found.w, entries }
}

/** The live log, checked; a write that failed leaves the model unsure, never the check. */
export const checkLive = (m: Model, w: World): ReturnType<typeof checkView> =>
  checkView(m, w.log, 'live', undefined)

/** After a real crash or close and reopen: check, then adopt what was recovered. */
export const recover = async (m: Model, w: World): Promise<void> => {
  const found = await checkView(m, w.log, 'crash', await storedWatermark(w.store))
  m.commits = found.kept
  m.failed = false
  m.stopped = false
  m.truncating = []
  truncatedTo(m, found.watermark)
  const last = found.entries[found.entries.length - 1]
  if (last !== undefined) m.handedOut = Math.max(m.handedOut, last.sequence + 1)
}

/** The store that the worst power loss leaves right now: the durable batches, nothing more. */
const worstPowerLoss = async (store: CrashStorage): Promise<CrashStorage> => {
  const worst = await openCrashStorage()
  const durable = store.batches().slice(0, store.durableCount())
  const written = await worst.write(
    durable.flatMap((b) => b.batch),
    { sync: true },
  )()
  expect(E.isRight(written)).toBe(true)
  return worst
}

/**
 * After every step: what would a restart find right now? Opens a log on what a process kill,
 * a seeded power loss and the worst power loss would leave (without crashing the real store)
 * and checks them, so that a broken rule shows at the step that breaks it.
 */
export const probe = async (m: Model, w: World, seed: number): Promise<void> => {
  expect(w.log.durableSequence(), 'durableSequence() is past nextSequence()').toBeLessThanOrEqual(
    w.log.nextSequence(),
  )
  expect(w.log.nextSequence(), 'nextSequence() went back').toBeGreaterThanOrEqual(m.handedOut)
  // The durable watermark is a promise in itself: whatever lies below it, no crash may take.
  for (const e of await collect(w.log.scan({ visibility: 'durable' }))) {
    m.durableSeen.set(e.sequence, show(e))
  }
  // A process kill leaves the live store: its reads are checked by the live checks. Power
  // losses may drop deletions and keep the watermark that hides what they would have removed.
  for (const [view, readAll] of [
    [w.store.crashView('process'), false],
    [w.store.crashView('power', seed), true],
    [await worstPowerLoss(w.store), true],
  ] as const) {
    const watermark = await storedWatermark(view)
    const log = await openLog({ storage: view })
    try {
      await checkView(m, log, 'crash', watermark, readAll)
    } finally {
      await log.close()
    }
  }
}
