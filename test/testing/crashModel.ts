// The crash model: fast-check commands that drive a real log on the crash-simulating storage
// beside a plain model of what it has acknowledged, and check the invariants of DESIGN.md
// after every step:
//   1. sequences strictly increase over the whole history; no number is handed out twice;
//   2. a recovered log is a prefix of the committed history holding every durable append;
//   3. every append is all-or-nothing after recovery;
//   4. every recovered entry's sequence is below the recovered log's nextSequence();
//   5. scan, count and follow agree with the model, and no entry a durable follower yielded is
//      ever taken by a later crash.
import fc from 'fast-check'
import { expect } from 'vitest'
import { DeltalogError } from '../../src/errors.js'
import { openLog, type Log, type LogEntry } from '../../src/log/log.js'
import type { CrashMode, CrashStorage, FaultKind } from '../../src/testing/crashStorage.js'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

export interface RecordInput {
  readonly key: string
  readonly value: string
}

interface Append {
  readonly records: ReadonlyArray<RecordInput>
  /** Known when acknowledged; an append that failed may or may not have been written. */
  readonly start: number | undefined
  /** Known durable: acknowledged in sync mode, or before a resolved flush, or recovered. */
  durable: boolean
}

export interface Model {
  /** Every append that may be in the log, in commit order. */
  appends: Append[]
  /** One past the highest sequence ever acknowledged, across every crash. */
  handedOut: number
  /** A write failed in this incarnation: the log may now refuse appends. */
  failed: boolean
  /** Entries a durable follower yielded; no crash may take them. */
  readonly durableSeen: Map<number, string>
  readonly durability: 'sync' | 'buffered'
}

export interface World {
  store: CrashStorage
  log: Log
  readonly open: (store: CrashStorage) => Promise<Log>
}

const str = (b: Uint8Array): string => new TextDecoder().decode(b)
const show = (e: LogEntry): string => `${e.sequence}:${str(e.key)}=${str(e.value)}`
const showRecord = (sequence: number, r: RecordInput): string => `${sequence}:${r.key}=${r.value}`

const collect = async <A>(it: AsyncIterable<A>): Promise<A[]> => {
  const out: A[] = []
  for await (const x of it) out.push(x)
  return out
}

const codeOf = (error: unknown): string =>
  error instanceof DeltalogError ? error.code : `not a DeltalogError: ${String(error)}`

/** The entries the model knows are in the live log: the acknowledged appends. */
const known = (m: Model): string[] =>
  m.appends.flatMap((a) =>
    a.start === undefined ? [] : a.records.map((r, i) => showRecord((a.start ?? 0) + i, r)),
  )

/** Records an acknowledged append: invariant 1 for its range. */
const acknowledged = (
  m: Model,
  records: ReadonlyArray<RecordInput>,
  range: { startSequence: number; count: number },
): void => {
  expect(range.count).toBe(records.length)
  expect(range.startSequence, 'a sequence was handed out twice').toBeGreaterThanOrEqual(m.handedOut)
  m.handedOut = range.startSequence + range.count
  m.appends.push({ records, start: range.startSequence, durable: m.durability === 'sync' })
}

const refused = (m: Model, records: ReadonlyArray<RecordInput>, error: unknown): void => {
  const code = codeOf(error)
  if (code === 'WRITER_FAILED') {
    expect(m.failed, 'the log refused appends without a failed write').toBe(true)
    return
  }
  // A write that failed: its records may or may not have been written.
  expect(code).toBe('IO_ERROR')
  m.failed = true
  m.appends.push({ records, start: undefined, durable: false })
}

// -------------------------------------------------------------------------------------
// recovery check
// -------------------------------------------------------------------------------------

/**
 * Matches what a reopened log holds against the model (invariants 2–4 and 5's durable part)
 * and returns the appends it recovered, as the model's history from then on.
 */
const recovered = async (m: Model, log: Log): Promise<Append[]> => {
  const entries = await collect(log.scan())
  const next = log.nextSequence()
  let at = 0
  let ended = false
  const kept: Append[] = []
  for (const append of m.appends) {
    const slice = entries.slice(at, at + append.records.length)
    const matches =
      slice.length === append.records.length &&
      slice.every(
        (e, i) =>
          str(e.key) === append.records[i]?.key &&
          str(e.value) === append.records[i]?.value &&
          (append.start === undefined
            ? e.sequence === (slice[0]?.sequence ?? 0) + i
            : e.sequence === append.start + i),
      )
    if (matches && !ended) {
      kept.push({ records: append.records, start: slice[0]?.sequence, durable: true })
      at += append.records.length
      continue
    }
    if (append.start !== undefined) {
      // An acknowledged append is missing: everything after it must be missing too (a prefix),
      // and it must not have been known durable.
      expect(append.durable, `a durable append was lost: ${JSON.stringify(append.records)}`).toBe(
        false,
      )
      ended = true
    }
  }
  expect(
    entries.slice(at).map(show),
    'the recovered log holds entries that are not a prefix of the history',
  ).toEqual([])
  for (let i = 1; i < entries.length; i++) {
    expect((entries[i]?.sequence ?? 0) > (entries[i - 1]?.sequence ?? 0)).toBe(true)
  }
  for (const e of entries) {
    expect(e.sequence, 'a recovered entry lies at or past nextSequence()').toBeLessThan(next)
  }
  expect(next, 'the recovered allocator would hand out a number again').toBeGreaterThanOrEqual(
    m.handedOut,
  )
  const found = new Map(entries.map((e) => [e.sequence, show(e)]))
  for (const [sequence, entry] of m.durableSeen) {
    expect(found.get(sequence), 'a crash took an entry a durable follower saw').toBe(entry)
  }
  return kept
}

/** After a real crash and reopen: check, then adopt the recovered history. */
const recover = async (m: Model, w: World): Promise<void> => {
  m.appends = await recovered(m, w.log)
  m.failed = false
}

/**
 * After every step: what would a restart find right now? Opens a log on what a process kill
 * and what a power loss would leave (without crashing the real store) and checks invariants
 * 2–5 there, so a broken rule shows at the step that breaks it.
 */
const probe = async (m: Model, w: World): Promise<void> => {
  for (const mode of ['process', 'power'] as const) {
    const log = await openLog({ storage: w.store.crashView(mode, m.handedOut) })
    try {
      await recovered(m, log)
    } finally {
      await log.close()
    }
  }
}

// -------------------------------------------------------------------------------------
// commands
// -------------------------------------------------------------------------------------

type Cmd = fc.AsyncCommand<Model, World>

export class AppendCmd implements Cmd {
  constructor(readonly records: ReadonlyArray<RecordInput>) {}
  check = (): boolean => true
  async run(m: Model, w: World): Promise<void> {
    try {
      acknowledged(m, this.records, await w.log.append(this.records))
    } catch (error) {
      refused(m, this.records, error)
    }
  }
  toString = (): string => `append(${JSON.stringify(this.records)})`
}

export class ConcurrentAppendsCmd implements Cmd {
  constructor(readonly groups: ReadonlyArray<ReadonlyArray<RecordInput>>) {}
  check = (): boolean => true
  async run(m: Model, w: World): Promise<void> {
    const results = await Promise.allSettled(this.groups.map((g) => w.log.append(g)))
    // Appends commit in call order, so the model takes them in that order.
    results.forEach((result, i) => {
      const group = this.groups[i] ?? []
      if (result.status === 'fulfilled') acknowledged(m, group, result.value)
      else refused(m, group, result.reason)
    })
  }
  toString = (): string => `concurrent(${JSON.stringify(this.groups)})`
}

export class FlushCmd implements Cmd {
  check = (): boolean => true
  async run(m: Model, w: World): Promise<void> {
    try {
      await w.log.flush()
      for (const a of m.appends) if (a.start !== undefined) a.durable = true
      expect(w.log.durableSequence()).toBe(w.log.nextSequence())
    } catch (error) {
      expect(['IO_ERROR', 'WRITER_FAILED']).toContain(codeOf(error))
      m.failed = true
    }
  }
  toString = (): string => 'flush'
}

/** Scans, counts and follows; only while no write has failed (the live view is then exact). */
export class CheckCmd implements Cmd {
  constructor(
    readonly key: string,
    readonly from: number,
  ) {}
  check = (m: Readonly<Model>): boolean => !m.failed
  async run(m: Model, w: World): Promise<void> {
    const all = known(m)
    expect((await collect(w.log.scan())).map(show)).toEqual(all)
    expect(await w.log.count()).toBe(all.length)
    const ofKey = all.filter((e) => e.split('=')[0]?.endsWith(`:${this.key}`))
    expect((await collect(w.log.scan({ key: this.key }))).map(show)).toEqual(ofKey)
    expect(await w.log.count({ key: this.key })).toBe(ofKey.length)
    const expected = all.filter((e) => Number(e.split(':')[0]) >= this.from)
    const controller = new AbortController()
    const seen: string[] = []
    if (expected.length > 0) {
      for await (const e of w.log.follow({ from: this.from, signal: controller.signal })) {
        seen.push(show(e))
        if (seen.length === expected.length) break
      }
    }
    controller.abort()
    expect(seen).toEqual(expected)
  }
  toString = (): string => `check(key ${JSON.stringify(this.key)}, follow from ${this.from})`
}

/** A durable follower reads everything below the durable watermark; a crash may take none. */
export class DurableFollowCmd implements Cmd {
  check = (m: Readonly<Model>): boolean => !m.failed
  async run(m: Model, w: World): Promise<void> {
    const durable = w.log.durableSequence()
    const expected = known(m).filter((e) => Number(e.split(':')[0]) < durable)
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
  toString = (): string => `fault(${this.kind}, after ${this.skip})`
}

/** A failed read fails that read alone; the log goes on. */
export class ReadFaultCmd implements Cmd {
  check = (m: Readonly<Model>): boolean => !m.failed
  async run(m: Model, w: World): Promise<void> {
    w.store.failNext('read')
    await expect(collect(w.log.scan())).rejects.toMatchObject({ code: 'IO_ERROR' })
    expect((await collect(w.log.scan())).map(show)).toEqual(known(m))
  }
  toString = (): string => 'readFault'
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
  toString = (): string => `crash(${this.mode}, seed ${this.seed})`
}

export class CloseReopenCmd implements Cmd {
  check = (): boolean => true
  async run(m: Model, w: World): Promise<void> {
    try {
      await w.log.close()
    } catch (error) {
      expect(['IO_ERROR', 'WRITER_FAILED']).toContain(codeOf(error))
    }
    w.store = w.store.crash('process')
    w.log = await w.open(w.store)
    await recover(m, w)
  }
  toString = (): string => 'closeReopen'
}

// -------------------------------------------------------------------------------------
// arbitraries
// -------------------------------------------------------------------------------------

const arbRecords = fc.array(
  fc.record({ key: fc.constantFrom('a', 'b', 'c'), value: fc.string({ maxLength: 4 }) }),
  { minLength: 1, maxLength: 6 },
)

/** A command that probes what a restart would find after it ran. */
const probed = (cmd: fc.AsyncCommand<Model, World>): fc.AsyncCommand<Model, World> => ({
  check: (m) => cmd.check(m),
  run: async (m, w) => {
    await cmd.run(m, w)
    await probe(m, w)
  },
  toString: () => cmd.toString(),
})

export const crashCommands: ReadonlyArray<fc.Arbitrary<fc.AsyncCommand<Model, World>>> = [
  arbRecords.map((rs) => new AppendCmd(rs)),
  arbRecords.map((rs) => new AppendCmd(rs)),
  fc.array(arbRecords, { minLength: 2, maxLength: 4 }).map((gs) => new ConcurrentAppendsCmd(gs)),
  fc.constant(new FlushCmd()),
  fc.tuple(fc.constantFrom('a', 'b', 'c'), fc.nat({ max: 30 })).map(([k, f]) => new CheckCmd(k, f)),
  fc.constant(new DurableFollowCmd()),
  fc
    .tuple(fc.constantFrom('write' as const, 'sync' as const, 'ack' as const), fc.nat({ max: 2 }))
    .map(([kind, skip]) => new FaultCmd(kind, skip)),
  fc.constant(new ReadFaultCmd()),
  fc
    .tuple(fc.constantFrom('process' as const, 'power' as const), fc.integer())
    .map(([mode, seed]) => new CrashCmd(mode, seed)),
  fc
    .tuple(fc.constant('power' as const), fc.integer())
    .map(([mode, seed]) => new CrashCmd(mode, seed)),
  fc.constant(new CloseReopenCmd()),
].map((arbitrary) => arbitrary.map(probed))

/** The whole property for one way of opening a log (the real engine, or a mutant). */
export const crashProperty = (
  openOn: (
    store: CrashStorage,
    options: { blockSize: number; durability: 'sync' | 'buffered' },
  ) => Promise<Log>,
  openStore: () => CrashStorage,
): fc.IAsyncPropertyWithHooks<
  [number, 'sync' | 'buffered', Iterable<fc.AsyncCommand<Model, World>>]
> =>
  fc.asyncProperty(
    fc.integer({ min: 2, max: 8 }),
    fc.constantFrom('sync' as const, 'buffered' as const),
    fc.commands([...crashCommands], { maxCommands: 40, size: 'max' }),
    async (blockSize, durability, cmds) => {
      const open = (store: CrashStorage): Promise<Log> => openOn(store, { blockSize, durability })
      const store = openStore()
      const world: World = { store, log: await open(store), open }
      const model: Model = {
        appends: [],
        handedOut: 0,
        failed: false,
        durableSeen: new Map(),
        durability,
      }
      await fc.asyncModelRun(() => ({ model, real: world }), cmds)
      // The last step of every run: a power loss, and the checks of a recovery.
      await new CrashCmd('power', 0x5eed).run(model, world)
      await world.log.close()
    },
  )
