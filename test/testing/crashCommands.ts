// The crash model's commands: fast-check commands that drive a real log on the crash-simulating
// storage beside the model of crashModel.ts, and check it after every step. The store resolves
// writes after seeded delays in event-loop turns, and `together` starts several calls a few
// turns apart, so that commits overlap, queue and go idle in every order.
import fc from 'fast-check'
import { expect } from 'vitest'
import { type Log, type LogEntry } from '../../src/openLog.js'
import {
  openCrashStorage,
  type CrashMode,
  type CrashStorage,
  type CrashStorageOptions,
  type FaultKind,
} from '../../src/testing/crashStorage.js'
import {
  acceptedWrite,
  checkLive,
  codeOf,
  collect,
  KEYS,
  probe,
  recover,
  refusedWrite,
  settled,
  show,
  showRecord,
  showRecords,
  str,
  truncatedTo,
  type Model,
  type Position,
  type RecordInput,
  type World,
} from './crashModel.js'

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
  openStore: (options: CrashStorageOptions) => Promise<CrashStorage> = openCrashStorage,
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
      const store = await openStore(storeOptions)
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
