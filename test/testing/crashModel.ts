// The crash model: fast-check commands that drive a real log on the crash-simulating storage
// beside a plain model of what it has promised, and check the invariants of DESIGN.md after
// every step:
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
//
// The store resolves writes after seeded delays in event-loop turns, and `together` starts
// several calls a few turns apart, so that commits overlap, queue and go idle in every order.
import fc from 'fast-check'
import * as E from 'fp-ts/lib/Either.js'
import * as O from 'fp-ts/lib/Option.js'
import { expect } from 'vitest'
import { truncatedBeforeKey } from '../../src/codec/keys.js'
import { readU64 } from '../../src/codec/u64.js'
import { DeltalogError } from '../../src/errors.js'
import { openLog, type Log, type LogEntry } from '../../src/log/log.js'
import {
  openCrashStorage,
  type CrashMode,
  type CrashStorage,
  type CrashStorageOptions,
  type FaultKind,
} from '../../src/testing/crashStorage.js'

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
interface Position {
  next: number
}

const KEYS = ['a', 'b', 'c'] as const

const str = (b: Uint8Array): string => new TextDecoder().decode(b)
const show = (e: LogEntry): string => `${e.sequence}:${str(e.key)}=${str(e.value)}`
const showRecord = (r: RecordInput): string => `${r.key}=${JSON.stringify(r.value)}`
const showRecords = (rs: ReadonlyArray<RecordInput>): string => rs.map(showRecord).join(', ')

const collect = async <A>(it: AsyncIterable<A>): Promise<A[]> => {
  const out: A[] = []
  for await (const x of it) out.push(x)
  return out
}

const settled = <A>(p: Promise<A>): Promise<PromiseSettledResult<A>> =>
  p.then(
    (value) => ({ status: 'fulfilled', value }),
    (reason: unknown) => ({ status: 'rejected', reason }),
  )

const codeOf = (error: unknown): string =>
  error instanceof DeltalogError ? error.code : `not a DeltalogError: ${String(error)}`

const describeCommit = (c: Commit): string =>
  `${c.acknowledged ? '' : 'failed '}commit [${c.records
    .map((r, i) => `${c.sequences?.[i] ?? '?'}:${showRecord(r)}`)
    .join(', ')}]`

/**
 * A write the log refused: fine only for one that failed (IO_ERROR), which may stop the log, or
 * for one after a failed write (WRITER_FAILED).
 */
const refusedWrite = (m: Model, error: unknown, stops: boolean): 'failed' | 'refused' => {
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
const acceptedWrite = (m: Model, what: string): void => {
  expect(m.stopped, `${what} succeeded after a failed write: the log must stop`).toBe(false)
}

/** Raises the certain truncation point, and forgets what lies below it. */
const truncatedTo = (m: Model, point: number): void => {
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
  const got = await store.get(truncatedBeforeKey)()
  if (E.isLeft(got)) {
    return expect.fail(`reading the truncation watermark failed: ${got.left.message}`)
  }
  return O.isNone(got.right) ? 0 : O.getOrElse(() => -1)(readU64(got.right.value, 0))
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
const checkLive = (m: Model, w: World): ReturnType<typeof checkView> =>
  checkView(m, w.log, 'live', undefined)

/** After a real crash or close and reopen: check, then adopt what was recovered. */
const recover = async (m: Model, w: World): Promise<void> => {
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
  const worst = openCrashStorage()
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
const probe = async (m: Model, w: World, seed: number): Promise<void> => {
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

// -------------------------------------------------------------------------------------
// calls: one call on the log, and what the model makes of its outcome
// -------------------------------------------------------------------------------------

/** A call started on the log; `settle` checks its outcome and updates the model. */
interface Started {
  readonly done: Promise<unknown>
  readonly settle: (m: Model, at: Position, outcome: PromiseSettledResult<unknown>) => void
}

export interface Call {
  readonly start: (log: Log) => Started
  readonly toString: () => string
}

export const appendCall = (records: ReadonlyArray<RecordInput>): Call => ({
  start: (log) => ({
    done: log.append(records),
    settle: (m, at, outcome) => {
      if (outcome.status === 'rejected') {
        if (refusedWrite(m, outcome.reason, true) === 'failed') {
          m.commits.push({ records, sequences: undefined, acknowledged: false, durable: false })
        }
        return
      }
      acceptedWrite(m, 'an append')
      const range = outcome.value as { startSequence: number; count: number }
      expect(range.count).toBe(records.length)
      expect(range.startSequence, 'a sequence was handed out twice').toBeGreaterThanOrEqual(
        Math.max(m.handedOut, at.next),
      )
      const sequences = records.map((_, i) => range.startSequence + i)
      m.commits.push({ records, sequences, acknowledged: true, durable: m.durability === 'sync' })
      m.handedOut = at.next = range.startSequence + range.count
    },
  }),
  toString: () => `append(${showRecords(records)})`,
})

/**
 * Records at the sequences they carry, `next + offset` with `next` the log's nextSequence() when
 * the call starts: ascending, gaps allowed. A negative first offset lies below next: refused.
 */
export const appendAtCall = (
  placed: ReadonlyArray<{ readonly offset: number; readonly record: RecordInput }>,
): Call => ({
  start: (log) => {
    const base = log.nextSequence()
    const sequences = placed.map((p) => base + p.offset)
    const records = placed.map((p) => p.record)
    return {
      done: log.appendAt(placed.map((p, i) => ({ ...p.record, sequence: sequences[i] ?? 0 }))),
      settle: (m, at, outcome) => {
        // The writer checks the sequences when it reaches the call, against its allocator then.
        const valid = (sequences[0] ?? 0) >= at.next
        if (outcome.status === 'rejected') {
          if (codeOf(outcome.reason) === 'INVALID_ARGUMENT') {
            expect(valid, `appendAt at ${sequences.join(', ')} was refused from ${at.next}`).toBe(
              false,
            )
            return
          }
          if (refusedWrite(m, outcome.reason, true) === 'failed') {
            m.commits.push({ records, sequences, acknowledged: false, durable: false })
          }
          return
        }
        acceptedWrite(m, 'an appendAt')
        expect(valid, `appendAt at ${sequences.join(', ')} was accepted below ${at.next}`).toBe(
          true,
        )
        m.commits.push({ records, sequences, acknowledged: true, durable: m.durability === 'sync' })
        m.handedOut = at.next = (sequences[sequences.length - 1] ?? 0) + 1
      },
    }
  },
  toString: () =>
    `appendAt(${placed
      .map((p) => `next${p.offset < 0 ? '−' : '+'}${Math.abs(p.offset)}: ${showRecord(p.record)}`)
      .join(', ')})`,
})

export const flushCall: Call = {
  start: (log) => ({
    done: log.flush(),
    settle: (m, _at, outcome) => {
      if (outcome.status === 'rejected') {
        refusedWrite(m, outcome.reason, true)
        return
      }
      acceptedWrite(m, 'a flush')
      for (const c of m.commits) if (c.acknowledged) c.durable = true
    },
  }),
  toString: () => 'flush()',
}

export const truncateCall = (sequence: number): Call => ({
  start: (log) => ({
    done: log.truncateBefore(sequence),
    settle: (m, at, outcome) => {
      // Numbers not yet handed out cannot be truncated.
      const point = Math.min(sequence, at.next)
      if (outcome.status === 'fulfilled') {
        acceptedWrite(m, 'a truncation')
        truncatedTo(m, point)
        return
      }
      // The watermark may have been written (the deletions after it failed) or not.
      if (refusedWrite(m, outcome.reason, false) === 'failed' && point > m.truncated) {
        m.truncating.push(point)
      }
    },
  }),
  toString: () =>
    `truncateBefore(${sequence === Number.MAX_SAFE_INTEGER ? 'MAX_SAFE_INTEGER' : sequence})`,
})

/** A durable-visibility scan: everything it shows must survive any power loss. */
export const durableScanCall = (key: string | undefined): Call => ({
  start: (log) => ({
    done: collect(
      log.scan(key === undefined ? { visibility: 'durable' } : { key, visibility: 'durable' }),
    ),
    settle: (m, _at, outcome) => {
      expect(outcome.status, 'a durable scan failed').toBe('fulfilled')
      if (outcome.status !== 'fulfilled') return
      for (const e of outcome.value as LogEntry[]) m.durableSeen.set(e.sequence, show(e))
    },
  }),
  toString: () => `scan({ ${key === undefined ? '' : `key: '${key}', `}visibility: 'durable' })`,
})

// -------------------------------------------------------------------------------------
// commands
// -------------------------------------------------------------------------------------

type Cmd = fc.AsyncCommand<Model, World>

/** Several calls, each started a few turns of the event loop after the one before. */
export class TogetherCmd implements Cmd {
  constructor(readonly calls: ReadonlyArray<{ readonly wait: number; readonly call: Call }>) {}
  check = (): boolean => true
  async run(m: Model, w: World): Promise<void> {
    const at: Position = { next: w.log.nextSequence() }
    const started: Started[] = []
    const outcomes: Array<Promise<PromiseSettledResult<unknown>>> = []
    for (const { wait, call } of this.calls) {
      for (let turn = 0; turn < wait; turn++) await new Promise((next) => setImmediate(next))
      const s = call.start(w.log)
      started.push(s)
      // Taken at once, so that a call failing while the next one waits is never unhandled.
      outcomes.push(settled(s.done))
    }
    const results = await Promise.all(outcomes)
    // The writer serves calls in the order they were made, so the model takes them so.
    started.forEach((s, i) => {
      const outcome = results[i]
      if (outcome !== undefined) s.settle(m, at, outcome)
    })
  }
  toString = (): string =>
    this.calls.length === 1
      ? String(this.calls[0]?.call)
      : `together(${this.calls
          .map(
            ({ wait, call }, i) =>
              `${i > 0 && wait > 0 ? `${wait} turn${wait === 1 ? '' : 's'} · ` : ''}${String(call)}`,
          )
          .join(' · ')})`
}

/** One call, awaited. */
const single = (call: Call): TogetherCmd => new TogetherCmd([{ wait: 0, call }])

/** A flush, alone: afterwards nothing is left to make durable. */
export class FlushCmd implements Cmd {
  check = (): boolean => true
  async run(m: Model, w: World): Promise<void> {
    await single(flushCall).run(m, w)
    if (!m.failed) {
      expect(w.log.durableSequence(), 'after flush(), durableSequence() lags nextSequence()').toBe(
        w.log.nextSequence(),
      )
    }
  }
  toString = (): string => 'flush()'
}

/** Scans, counts, lists and follows the live log. */
export class CheckCmd implements Cmd {
  constructor(
    readonly key: string | undefined,
    readonly from: number,
  ) {}
  check = (): boolean => true
  async run(m: Model, w: World): Promise<void> {
    const { entries } = await checkLive(m, w)
    const expected = entries
      .filter((e) => e.sequence >= this.from && (this.key === undefined || str(e.key) === this.key))
      .map(show)
    const controller = new AbortController()
    const seen: string[] = []
    if (expected.length > 0) {
      const key = this.key === undefined ? {} : { key: this.key }
      for await (const e of w.log.follow({ ...key, from: this.from, signal: controller.signal })) {
        seen.push(show(e))
        if (seen.length === expected.length) break
      }
    }
    controller.abort()
    expect(seen, `${String(this)} disagrees with scan()`).toEqual(expected)
  }
  toString = (): string =>
    `check, then follow({ ${this.key === undefined ? '' : `key: '${this.key}', `}from: ${this.from} })`
}

/**
 * Durable-visibility reads, alone: they show exactly the live entries below durableSequence(),
 * and count agrees; the probe after the step checks that no power loss can take them.
 */
export class DurableReadCmd implements Cmd {
  constructor(readonly key: string | undefined) {}
  check = (): boolean => true
  async run(m: Model, w: World): Promise<void> {
    const { entries } = await checkLive(m, w)
    const durable = w.log.durableSequence()
    const expected = entries
      .filter((e) => e.sequence < durable && (this.key === undefined || str(e.key) === this.key))
      .map(show)
    const options = this.key === undefined ? {} : { key: this.key }
    const seen = await collect(w.log.scan({ ...options, visibility: 'durable' }))
    expect(seen.map(show), `a durable scan below ${durable}`).toEqual(expected)
    expect(await w.log.count({ ...options, to: durable })).toBe(expected.length)
    for (const e of seen) m.durableSeen.set(e.sequence, show(e))
  }
  toString = (): string =>
    `durableRead(${this.key === undefined ? 'all keys' : `key '${this.key}'`})`
}

/** A durable follower reads everything below the durable watermark; a crash may take none. */
export class DurableFollowCmd implements Cmd {
  check = (): boolean => true
  async run(m: Model, w: World): Promise<void> {
    const { entries } = await checkLive(m, w)
    const durable = w.log.durableSequence()
    const expected = entries.filter((e) => e.sequence < durable).map(show)
    const controller = new AbortController()
    const seen: LogEntry[] = []
    if (expected.length > 0) {
      for await (const e of w.log.follow({
        from: 0,
        visibility: 'durable',
        signal: controller.signal,
      })) {
        expect(e.sequence).toBeLessThan(w.log.durableSequence())
        seen.push(e)
        if (seen.length === expected.length) break
      }
    }
    controller.abort()
    expect(seen.map(show)).toEqual(expected)
    for (const e of seen) m.durableSeen.set(e.sequence, show(e))
  }
  toString = (): string => 'durableFollow'
}

export class FaultCmd implements Cmd {
  constructor(
    readonly kind: Exclude<FaultKind, 'read'>,
    readonly skip: number,
  ) {}
  check = (): boolean => true
  run(_m: Model, w: World): Promise<void> {
    w.store.failNext(this.kind, this.skip)
    return Promise.resolve()
  }
  toString = (): string => `failNext('${this.kind}', ${this.skip})`
}

/** A failed read fails that read alone; the log goes on. */
export class ReadFaultCmd implements Cmd {
  check = (): boolean => true
  async run(m: Model, w: World): Promise<void> {
    w.store.failNext('read')
    await expect(collect(w.log.scan())).rejects.toMatchObject({ code: 'IO_ERROR' })
    await checkLive(m, w)
  }
  toString = (): string => "failNext('read'), then scan"
}

export class CrashCmd implements Cmd {
  constructor(
    readonly mode: CrashMode,
    readonly seed: number,
  ) {}
  check = (): boolean => true
  async run(m: Model, w: World): Promise<void> {
    w.store = w.store.crash(this.mode, this.seed)
    w.log = await w.open(w.store)
    await recover(m, w)
  }
  toString = (): string => `crash('${this.mode}', ${this.seed})`
}

/**
 * Closes the log — with appends queued just before, which close must commit — then reopens it
 * after a crash: after a clean close everything acknowledged is durable.
 */
export class CloseReopenCmd implements Cmd {
  constructor(
    readonly pending: ReadonlyArray<ReadonlyArray<RecordInput>>,
    readonly mode: CrashMode,
    readonly seed: number,
  ) {}
  check = (): boolean => true
  async run(m: Model, w: World): Promise<void> {
    const at: Position = { next: w.log.nextSequence() }
    const started = this.pending.map((records) => appendCall(records).start(w.log))
    const outcomes = started.map((s) => settled(s.done))
    const closing = settled(w.log.close())
    const results = await Promise.all(outcomes)
    started.forEach((s, i) => {
      const outcome = results[i]
      if (outcome !== undefined) s.settle(m, at, outcome)
    })
    const closed = await closing
    if (closed.status === 'rejected') refusedWrite(m, closed.reason, true)
    else if (!m.failed) for (const c of m.commits) if (c.acknowledged) c.durable = true
    w.store = w.store.crash(this.mode, this.seed)
    w.log = await w.open(w.store)
    await recover(m, w)
  }
  toString = (): string =>
    `close()${this.pending.length === 0 ? '' : ` just after ${this.pending.map((rs) => `append(${showRecords(rs)})`).join(' · ')}`}, then reopen after crash('${this.mode}', ${this.seed})`
}

// -------------------------------------------------------------------------------------
// arbitraries
// -------------------------------------------------------------------------------------

const arbKey = fc.constantFrom(...KEYS)

const arbRecords = fc.array(fc.record({ key: arbKey, value: fc.string({ maxLength: 4 }) }), {
  minLength: 1,
  maxLength: 6,
})

const arbAppendAt = fc
  .tuple(
    fc.array(
      fc.record({
        gap: fc.nat({ max: 3 }),
        record: fc.record({ key: arbKey, value: fc.string({ maxLength: 3 }) }),
      }),
      { minLength: 1, maxLength: 4 },
    ),
    // Now and then the first record lies below nextSequence(): refused, nothing written.
    fc.nat({ max: 5 }),
  )
  .map(([items, below]) => {
    let offset = below === 0 ? -2 : -1
    return appendAtCall(items.map(({ gap, record }) => ({ offset: (offset += gap + 1), record })))
  })

const arbTruncate = fc
  .oneof(fc.nat({ max: 16 }), fc.nat({ max: 80 }), fc.constant(Number.MAX_SAFE_INTEGER))
  .map(truncateCall)

const arbCall: fc.Arbitrary<Call> = fc.oneof(
  { weight: 5, arbitrary: arbRecords.map(appendCall) },
  { weight: 1, arbitrary: arbAppendAt },
  { weight: 2, arbitrary: fc.constant(flushCall) },
  { weight: 1, arbitrary: arbTruncate },
  { weight: 1, arbitrary: fc.option(arbKey, { nil: undefined }).map(durableScanCall) },
)

/** A command that probes what a restart would find after it ran. */
const probed = (cmd: Cmd, index: number): Cmd => ({
  check: (m) => cmd.check(m),
  run: async (m, w) => {
    await cmd.run(m, w)
    await probe(m, w, m.handedOut * 31 + index)
  },
  toString: () => cmd.toString(),
})

export const crashCommands: ReadonlyArray<fc.Arbitrary<Cmd>> = [
  arbRecords.map((rs) => single(appendCall(rs))),
  arbRecords.map((rs) => single(appendCall(rs))),
  fc
    .array(fc.record({ wait: fc.nat({ max: 3 }), call: arbCall }), { minLength: 2, maxLength: 5 })
    .map((calls) => new TogetherCmd(calls)),
  arbAppendAt.map(single),
  fc.constant(new FlushCmd()),
  arbTruncate.map(single),
  fc
    .tuple(fc.option(arbKey, { nil: undefined }), fc.nat({ max: 30 }))
    .map(([k, f]) => new CheckCmd(k, f)),
  fc.option(arbKey, { nil: undefined }).map((k) => new DurableReadCmd(k)),
  fc.constant(new DurableFollowCmd()),
  fc
    .tuple(fc.constantFrom('write' as const, 'sync' as const, 'ack' as const), fc.nat({ max: 2 }))
    .map(([kind, skip]) => new FaultCmd(kind, skip)),
  fc.constant(new ReadFaultCmd()),
  fc
    .tuple(fc.constantFrom('process' as const, 'power' as const), fc.integer())
    .map(([mode, seed]) => new CrashCmd(mode, seed)),
  fc.integer().map((seed) => new CrashCmd('power', seed)),
  fc
    .tuple(
      fc.array(arbRecords, { maxLength: 2 }),
      fc.constantFrom('process' as const, 'power' as const),
      fc.integer(),
    )
    .map(([pending, mode, seed]) => new CloseReopenCmd(pending, mode, seed)),
].map((arbitrary, index) => arbitrary.map((cmd) => probed(cmd, index)))

/** The whole property for one way of opening a log (the real engine, or a mutant). */
export const crashProperty = (
  openOn: (
    store: CrashStorage,
    options: { blockSize: number; durability: 'sync' | 'buffered' },
  ) => Promise<Log>,
  openStore: (options: CrashStorageOptions) => CrashStorage = openCrashStorage,
): fc.IAsyncPropertyWithHooks<[number, 'sync' | 'buffered', CrashStorageOptions, Iterable<Cmd>]> =>
  fc.asyncProperty(
    // Small blocks cross block boundaries constantly; a large one leaves buffered commits unsynced.
    fc.oneof(
      { weight: 3, arbitrary: fc.integer({ min: 2, max: 8 }) },
      { weight: 1, arbitrary: fc.constant(64) },
    ),
    fc.constantFrom('sync' as const, 'buffered' as const),
    // Writes (and reads) resolve after seeded delays, so commits overlap, queue and go idle.
    fc.record({
      seed: fc.integer(),
      maxDelayTurns: fc.constantFrom(0, 2, 4),
      delayReads: fc.boolean(),
    }),
    fc.commands([...crashCommands], { maxCommands: 40, size: 'max' }),
    async (blockSize, durability, storeOptions, cmds) => {
      const open = (store: CrashStorage): Promise<Log> => openOn(store, { blockSize, durability })
      const store = openStore(storeOptions)
      const world: World = { store, log: await open(store), open }
      const model: Model = {
        commits: [],
        handedOut: 0,
        failed: false,
        stopped: false,
        truncated: 0,
        truncating: [],
        durableSeen: new Map(),
        durability,
      }
      await fc.asyncModelRun(() => ({ model, real: world }), cmds)
      // The last step of every run: a power loss, and the checks of a recovery.
      await new CrashCmd('power', 0x5eed).run(model, world)
      await world.log.close()
    },
  )
