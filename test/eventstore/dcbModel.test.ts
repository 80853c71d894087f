// Model-based test of tags, queries and conditional appends (the DCB specification's, dcb.events):
// fast-check drives a real store and a plain model — an array of events with their types, tags,
// streams and positions — through conditional appends started together (so that they share the
// writer's batches), stream appends with expected revisions and conditions, multi-stream appends,
// soft deletes, reads by query and crashes. After every step: an append the model says must
// succeed did, one it says must fail failed naming the model's first matching event above its
// `after`, and reads by query equal the model's filter. After every crash: the store holds what
// survived (every acknowledged durable append) and `verifyStorage` finds the index of tags and
// types in agreement with the events.
import { join } from 'node:path'
import fc from 'fast-check'
import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import { DeltalogError, type ExpectedRevision } from '../../src/errors.js'
import { decodeEvent, EVENTS } from '../../src/eventstore/envelope.js'
import { openEventStore, type EventStore, type Query } from '../../src/eventstore/store.js'
import { openPostgresStorage } from '../../src/postgres/storage.js'
import { openRocksStorage } from '../../src/storage/rocksdb.js'
import type { DisposableStorage, Storage } from '../../src/storage/port.js'
import { openCrashStorage, type CrashStorage } from '../../src/testing/crashStorage.js'
import { verifyStorage } from '../../src/verify/verify.js'
import { connection, dropTables, freshTable, postgresRuns } from '../postgres/server.js'
import { numRuns } from '../support/budget.js'
import { makeTempDir, removeDir } from '../support/tmpdir.js'

// -------------------------------------------------------------------------------------
// the model
// -------------------------------------------------------------------------------------

const TYPES = ['A', 'B', 'C'] as const
const TAGS = ['x', 'y', 'z'] as const
const STREAMS = ['s1', 's2'] as const

interface ModelEvent {
  /** Unique per run: the event's `data`, by which it is known after a crash. */
  readonly n: number
  readonly stream: string
  readonly revision: number
  readonly type: string
  readonly tags: ReadonlyArray<string>
  readonly position: number
}

interface ModelStream {
  readonly last: number
  readonly deletedBefore: number
}

/** A commit the store acknowledged, in order: what a crash may cut from the end. */
type Committed =
  | { readonly kind: 'append'; readonly ns: ReadonlyArray<number> }
  | { readonly kind: 'delete'; readonly stream: string; readonly deletedBefore: number }

interface Model {
  /** Every event written, deleted ones included, in position order. */
  events: ModelEvent[]
  streams: Map<string, ModelStream>
  committed: Committed[]
  next: number
}

const emptyStream: ModelStream = { last: -1, deletedBefore: 0 }
const streamOf = (m: Model, id: string): ModelStream => m.streams.get(id) ?? emptyStream
const exists = (s: ModelStream): boolean => s.last >= s.deletedBefore
const holds = (expected: ExpectedRevision, s: ModelStream): boolean =>
  expected === 'any' ||
  (expected === 'no_stream' && !exists(s)) ||
  (expected === 'stream_exists' && exists(s)) ||
  (typeof expected === 'number' && exists(s) && s.last === expected)
const visible = (m: Model, e: ModelEvent): boolean =>
  e.revision >= streamOf(m, e.stream).deletedBefore

/** The DCB spec's matching: any item; an item's types any of, its tags all of. */
const matches = (query: Query, e: { type: string; tags: ReadonlyArray<string> }): boolean =>
  query === 'all' ||
  query.items.some(
    (item) =>
      (item.types === undefined || item.types.includes(e.type)) &&
      (item.tags ?? []).every((t) => e.tags.includes(t)),
  )

// -------------------------------------------------------------------------------------
// requests and their outcomes
// -------------------------------------------------------------------------------------

interface EventSpec {
  readonly type: string
  readonly tags: ReadonlyArray<string>
}

/** A position picked from the model when the step runs: an event's, or one either side. */
interface PositionSpec {
  readonly pick: number
  readonly shift: -1 | 0 | 1
}

interface ConditionSpec {
  readonly query: Query
  readonly after: PositionSpec | undefined
}

/** An expected revision, or `'current'`: the stream's revision in the model when it runs. */
type ExpectedSpec = ExpectedRevision | 'current'

interface WriteSpec {
  readonly stream: string
  readonly expected: ExpectedSpec
  readonly events: ReadonlyArray<EventSpec>
}

type RequestSpec =
  | { readonly kind: 'append'; readonly events: ReadonlyArray<EventSpec> }
  | { readonly kind: 'stream'; readonly write: WriteSpec }
  | { readonly kind: 'multi'; readonly writes: ReadonlyArray<WriteSpec> }

/** A request resolved against the model: its writes, each event with its `n`. */
interface Resolved {
  readonly kind: RequestSpec['kind']
  readonly writes: ReadonlyArray<{
    readonly stream: string
    readonly expected: ExpectedRevision
    readonly events: ReadonlyArray<EventSpec & { readonly n: number }>
  }>
  readonly condition: { readonly query: Query; readonly after: number | undefined } | undefined
}

type Outcome =
  | { readonly ok: true; readonly revisions: ReadonlyArray<number> }
  | { readonly ok: false; readonly code: string; readonly position?: number }

const positionOf = (m: Model, spec: PositionSpec): number => {
  const e = m.events[spec.pick % Math.max(1, m.events.length)]
  return e === undefined ? 0 : Math.max(0, e.position + spec.shift)
}

const resolveExpected = (m: Model, spec: ExpectedSpec, stream: string): ExpectedRevision => {
  if (spec !== 'current') return spec
  const s = streamOf(m, stream)
  return exists(s) ? s.last : 'no_stream'
}

const NO_STREAM = ''

const resolve = (m: Model, spec: RequestSpec, condition: ConditionSpec | undefined): Resolved => {
  const withN = (events: ReadonlyArray<EventSpec>) => events.map((e) => ({ ...e, n: m.next++ }))
  const writes =
    spec.kind === 'append'
      ? [{ stream: NO_STREAM, expected: 'any' as const, events: withN(spec.events) }]
      : (spec.kind === 'stream' ? [spec.write] : spec.writes).map((w) => ({
          stream: w.stream,
          expected: resolveExpected(m, w.expected, w.stream),
          events: withN(w.events),
        }))
  return {
    kind: spec.kind,
    writes,
    condition:
      condition === undefined
        ? undefined
        : {
            query: condition.query,
            after: condition.after === undefined ? undefined : positionOf(m, condition.after),
          },
  }
}

/**
 * The model's decision, as the store makes it: each write's expectation against the streams as
 * the earlier writes leave them, then the condition against the events a read would return —
 * none of a deleted stream's.
 */
const decide = (m: Model, r: Resolved): Outcome => {
  const scratch = new Map<string, ModelStream>()
  const revisions: number[] = []
  for (const w of r.writes) {
    const s = scratch.get(w.stream) ?? streamOf(m, w.stream)
    if (!holds(w.expected, s)) return { ok: false, code: 'WRONG_EXPECTED_REVISION' }
    scratch.set(w.stream, { ...s, last: s.last + w.events.length })
    revisions.push(s.last + w.events.length)
  }
  if (r.condition !== undefined) {
    const { query, after } = r.condition
    const first = m.events.find(
      (e) => e.position > (after ?? -1) && visible(m, e) && matches(query, e),
    )
    if (first !== undefined) {
      return { ok: false, code: 'APPEND_CONDITION_FAILED', position: first.position }
    }
  }
  return { ok: true, revisions: r.kind === 'append' ? [] : revisions }
}

/** Adds an accepted request's events at the positions the store gave their writes' last. */
const apply = (m: Model, r: Resolved, lastPositions: ReadonlyArray<number>): void => {
  const ns: number[] = []
  for (const [i, w] of r.writes.entries()) {
    const s = streamOf(m, w.stream)
    const last = lastPositions[i] ?? -1
    for (const [k, e] of w.events.entries()) {
      const position = last - (w.events.length - 1 - k)
      expect(position, 'a new event lies above every earlier one').toBeGreaterThan(
        m.events[m.events.length - 1]?.position ?? -1,
      )
      m.events.push({ ...e, stream: w.stream, revision: s.last + 1 + k, position })
      ns.push(e.n)
    }
    m.streams.set(w.stream, { ...s, last: s.last + w.events.length })
  }
  m.committed.push({ kind: 'append', ns })
}

const toInput = (e: EventSpec & { readonly n: number }) => ({
  type: e.type,
  data: { n: e.n },
  ...(e.tags.length === 0 ? {} : { tags: [...e.tags] }),
})

/** Starts a request on the store, synchronously up to its queueing. */
const start = (
  store: EventStore,
  r: Resolved,
): Promise<{ revisions: number[]; positions: number[] }> => {
  const condition = r.condition === undefined ? {} : { condition: conditionOf(r.condition) }
  const [first] = r.writes
  if (r.kind === 'append') {
    return store
      .append((first?.events ?? []).map(toInput), condition)
      .then((x) => ({ revisions: [], positions: [x.position] }))
  }
  if (r.kind === 'stream' && first !== undefined) {
    return store
      .appendToStream(first.stream, first.events.map(toInput), {
        expectedRevision: first.expected,
        ...condition,
      })
      .then((x) => ({ revisions: [x.nextExpectedRevision], positions: [x.position] }))
  }
  return store
    .appendMulti(
      r.writes.map((w) => ({
        streamId: w.stream,
        events: w.events.map(toInput),
        expectedRevision: w.expected,
      })),
      condition,
    )
    .then((xs) => ({
      revisions: xs.map((x) => x.nextExpectedRevision),
      positions: xs.map((x) => x.position),
    }))
}

const conditionOf = (c: NonNullable<Resolved['condition']>) => ({
  failIfEventsMatch: c.query,
  ...(c.after === undefined ? {} : { after: c.after }),
})

const settle = async (
  run: Promise<{ revisions: number[]; positions: number[] }>,
): Promise<{ outcome: Outcome; positions: number[] }> => {
  try {
    const { revisions, positions } = await run
    return { outcome: { ok: true, revisions }, positions }
  } catch (error) {
    if (!(error instanceof DeltalogError)) throw error
    const position = (error.error as { position?: number }).position
    return {
      outcome: { ok: false, code: error.code, ...(position === undefined ? {} : { position }) },
      positions: [],
    }
  }
}

// -------------------------------------------------------------------------------------
// the store under test
// -------------------------------------------------------------------------------------

interface Real {
  store: EventStore
  /** Crashes (or, on a storage that cannot, stops without closing) and reopens: verify's violations. */
  readonly crash: (mode: 'process' | 'power', seed: number) => Promise<ReadonlyArray<string>>
  /** Whether a crash may lose acknowledged commits (a power crash with buffered durability). */
  readonly mayLose: (mode: 'process' | 'power') => boolean
  /** Closes the store: verify's violations. */
  readonly close: () => Promise<ReadonlyArray<string>>
}

type Cmd = fc.AsyncCommand<Model, Real>

const collect = async <A>(it: AsyncIterable<A>): Promise<A[]> => {
  const out: A[] = []
  for await (const x of it) out.push(x)
  return out
}

const brief = (e: { n: number; type: string; tags: ReadonlyArray<string>; position: number }) =>
  `${e.n}:${e.type}[${[...e.tags].sort().join(',')}]@${e.position}`

const readBrief = async (store: EventStore, query: Query, options: object = {}) =>
  (await collect(store.read(query, options))).map((e) =>
    brief({ n: (e.data as { n: number }).n, type: e.type, tags: e.tags, position: e.position }),
  )

/** The queries every full check reads: everything, each tag and each type. */
const CHECKED: ReadonlyArray<Query> = [
  'all',
  ...TAGS.map((t) => ({ items: [{ tags: [t] }] })),
  ...TYPES.map((t) => ({ items: [{ types: [t] }] })),
]

/** Reads by every checked query equal the model's visible events. */
const checkReads = async (m: Model, store: EventStore): Promise<void> => {
  for (const query of CHECKED) {
    const expected = m.events.filter((e) => visible(m, e) && matches(query, e)).map(brief)
    expect(await readBrief(store, query), `read(${JSON.stringify(query)})`).toEqual(expected)
  }
}

// -------------------------------------------------------------------------------------
// commands
// -------------------------------------------------------------------------------------

/** Requests started at once: queued in call order, decided in that order, often in one batch. */
class BatchCmd implements Cmd {
  constructor(
    readonly requests: ReadonlyArray<{ spec: RequestSpec; condition: ConditionSpec | undefined }>,
  ) {}
  check = (): boolean => true
  async run(m: Model, real: Real): Promise<void> {
    const resolved = this.requests.map((r) => resolve(m, r.spec, r.condition))
    const settled = await Promise.all(resolved.map((r) => settle(start(real.store, r))))
    for (const [i, r] of resolved.entries()) {
      const { outcome, positions } = settled[i]!
      expect(outcome, `request ${i}: ${JSON.stringify(r)}`).toEqual(decide(m, r))
      if (outcome.ok) apply(m, r, positions)
    }
    await checkReads(m, real.store)
  }
  toString = (): string => `batch(${JSON.stringify(this.requests)})`
}

class DeleteCmd implements Cmd {
  constructor(readonly stream: string) {}
  check = (): boolean => true
  async run(m: Model, real: Real): Promise<void> {
    await real.store.deleteStream(this.stream)
    const s = streamOf(m, this.stream)
    if (exists(s)) {
      m.streams.set(this.stream, { ...s, deletedBefore: s.last + 1 })
      m.committed.push({ kind: 'delete', stream: this.stream, deletedBefore: s.last + 1 })
    }
  }
  toString = (): string => `delete(${this.stream})`
}

interface RangeSpec {
  readonly lower: { readonly from: PositionSpec } | { readonly after: PositionSpec } | undefined
  readonly to: PositionSpec | undefined
  readonly limit: number | undefined
}

class ReadCmd implements Cmd {
  constructor(
    readonly query: Query,
    readonly range: RangeSpec,
  ) {}
  check = (): boolean => true
  async run(m: Model, real: Real): Promise<void> {
    const { lower, to: toSpec, limit } = this.range
    const from = lower !== undefined && 'from' in lower ? positionOf(m, lower.from) : undefined
    const after = lower !== undefined && 'after' in lower ? positionOf(m, lower.after) : undefined
    const to = toSpec === undefined ? undefined : positionOf(m, toSpec)
    const expected = m.events
      .filter(
        (e) =>
          visible(m, e) &&
          matches(this.query, e) &&
          (from === undefined || e.position >= from) &&
          (after === undefined || e.position > after) &&
          (to === undefined || e.position < to),
      )
      .slice(0, limit)
      .map(brief)
    const options = {
      ...(from === undefined ? {} : { from }),
      ...(after === undefined ? {} : { after }),
      ...(to === undefined ? {} : { to }),
      ...(limit === undefined ? {} : { limit }),
    }
    expect(await readBrief(real.store, this.query, options), JSON.stringify(options)).toEqual(
      expected,
    )
  }
  toString = (): string => `read(${JSON.stringify(this.query)}, ${JSON.stringify(this.range)})`
}

class CrashCmd implements Cmd {
  constructor(
    readonly mode: 'process' | 'power',
    readonly seed: number,
  ) {}
  check = (): boolean => true
  async run(m: Model, real: Real): Promise<void> {
    expect(await real.crash(this.mode, this.seed), 'verify after the crash').toEqual([])
    if (real.mayLose(this.mode)) await survive(m, real.store)
    await checkReads(m, real.store)
  }
  toString = (): string => `crash(${this.mode}, ${this.seed})`
}

/** The `n` of every event the log holds, deleted ones included. */
const storedNs = async (store: EventStore): Promise<Set<number>> => {
  const ns = new Set<number>()
  const untext = new TextDecoder()
  for await (const entry of store.log.scan()) {
    if (!untext.decode(entry.key).startsWith(EVENTS)) continue
    const event = decodeEvent(entry.value)
    if (E.isRight(event)) ns.add((event.right.data as { n: number }).n)
  }
  return ns
}

/**
 * Cuts the model to what survived a crash that may lose acknowledged commits: a prefix of them,
 * each whole. A delete between the last append that survived and the first that did not is
 * known by whether the events it hid are hidden.
 */
const survive = async (m: Model, store: EventStore): Promise<void> => {
  const stored = await storedNs(store)
  const kept: Committed[] = []
  let lost = false
  for (const c of m.committed) {
    if (c.kind === 'append') {
      const here = c.ns.filter((n) => stored.has(n)).length
      expect([0, c.ns.length], `a commit of ${c.ns.length} events is partly there`).toContain(here)
      if (here > 0) expect(lost, 'the commits that survived are a prefix').toBe(false)
      lost ||= here === 0
      if (!lost) kept.push(c)
    } else if (!lost) kept.push(c)
  }
  for (const n of stored)
    expect(
      m.events.some((e) => e.n === n),
      `event ${n} is known`,
    ).toBe(true)
  // Deletes after the last surviving append: each survived if its last hidden event is hidden.
  while (kept[kept.length - 1]?.kind === 'delete') {
    const d = kept[kept.length - 1] as Committed & { kind: 'delete' }
    const revisions = (await collect(store.readStream(d.stream))).map((e) => e.revision)
    if (!revisions.includes(d.deletedBefore - 1)) break
    kept.pop()
  }
  m.committed = kept
  m.events = m.events.filter((e) => stored.has(e.n))
  m.streams = new Map()
  for (const e of m.events) {
    m.streams.set(e.stream, { ...streamOf(m, e.stream), last: e.revision })
  }
  for (const c of kept) {
    if (c.kind === 'delete') {
      m.streams.set(c.stream, { ...streamOf(m, c.stream), deletedBefore: c.deletedBefore })
    }
  }
}

// -------------------------------------------------------------------------------------
// arbitraries
// -------------------------------------------------------------------------------------

const arbEvent: fc.Arbitrary<EventSpec> = fc.record({
  type: fc.constantFrom(...TYPES),
  tags: fc.shuffledSubarray([...TAGS], { maxLength: 2 }),
})
const arbEvents = fc.array(arbEvent, { minLength: 1, maxLength: 3 })
const arbPosition: fc.Arbitrary<PositionSpec> = fc.record({
  pick: fc.nat(),
  shift: fc.constantFrom(-1 as const, 0 as const, 1 as const),
})
const arbItem = fc
  .record({
    types: fc.option(fc.subarray([...TYPES], { minLength: 1, maxLength: 2 }), { nil: undefined }),
    tags: fc.option(fc.shuffledSubarray([...TAGS], { minLength: 1, maxLength: 2 }), {
      nil: undefined,
    }),
  })
  .filter((i) => i.types !== undefined || i.tags !== undefined)
  .map((i) => ({
    ...(i.types === undefined ? {} : { types: i.types }),
    ...(i.tags === undefined ? {} : { tags: i.tags }),
  }))
const arbQuery: fc.Arbitrary<Query> = fc.oneof(
  { weight: 1, arbitrary: fc.constant('all' as const) },
  {
    weight: 8,
    arbitrary: fc.array(arbItem, { minLength: 1, maxLength: 2 }).map((items) => ({ items })),
  },
)
const arbCondition: fc.Arbitrary<ConditionSpec> = fc.record({
  query: arbQuery,
  after: fc.option(arbPosition, { nil: undefined, freq: 3 }),
})
const arbExpected: fc.Arbitrary<ExpectedSpec> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom('any' as const, 'current' as const) },
  {
    weight: 1,
    arbitrary: fc.constantFrom('no_stream' as const, 'stream_exists' as const, 0, 1, 2),
  },
)
const arbWrite: fc.Arbitrary<WriteSpec> = fc.record({
  stream: fc.constantFrom(...STREAMS),
  expected: arbExpected,
  events: arbEvents,
})
const arbRequest: fc.Arbitrary<RequestSpec> = fc.oneof(
  { weight: 3, arbitrary: arbEvents.map((events) => ({ kind: 'append' as const, events })) },
  { weight: 2, arbitrary: arbWrite.map((write) => ({ kind: 'stream' as const, write })) },
  {
    weight: 1,
    arbitrary: fc
      .array(arbWrite, { minLength: 1, maxLength: 2 })
      .map((writes) => ({ kind: 'multi' as const, writes })),
  },
)
const arbRange: fc.Arbitrary<RangeSpec> = fc.record({
  lower: fc.option(
    fc.oneof(
      arbPosition.map((from) => ({ from })),
      arbPosition.map((after) => ({ after })),
    ),
    { nil: undefined, freq: 3 },
  ),
  to: fc.oneof(
    { weight: 2, arbitrary: fc.constant(undefined) },
    { weight: 1, arbitrary: arbPosition },
  ),
  limit: fc.option(fc.integer({ min: 1, max: 4 }), { nil: undefined }),
})

const commands = [
  fc
    .array(
      fc.record({
        spec: arbRequest,
        condition: fc.option(arbCondition, { nil: undefined, freq: 4 }),
      }),
      { minLength: 1, maxLength: 4 },
    )
    .map((rs) => new BatchCmd(rs)),
  fc.constantFrom(...STREAMS).map((s) => new DeleteCmd(s)),
  fc.tuple(arbQuery, arbRange).map(([q, r]) => new ReadCmd(q, r)),
  fc
    .tuple(fc.constantFrom('process' as const, 'power' as const), fc.integer())
    .map(([mode, seed]) => new CrashCmd(mode, seed)),
]
const commandWeights = [4, 1, 2, 1]
const weighted = commands.flatMap((c, i) => Array.from({ length: commandWeights[i] ?? 1 }, () => c))

const run = async (real: Real, cmds: Iterable<Cmd>): Promise<void> => {
  const model: Model = { events: [], streams: new Map(), committed: [], next: 0 }
  try {
    await fc.asyncModelRun(() => ({ model, real }), cmds)
  } catch (error) {
    await real.close().catch(() => [])
    throw error
  }
  expect(await real.close(), 'verify after the last close').toEqual([])
}

const violations = async (storage: Storage): Promise<ReadonlyArray<string>> =>
  (await verifyStorage(storage)).violations

// -------------------------------------------------------------------------------------
// storages
// -------------------------------------------------------------------------------------

/** The crash-simulating storage: process kills and power losses, reopened. */
const crashReal = async (
  durability: 'sync' | 'buffered',
  delays: { seed: number; maxDelayTurns: number },
): Promise<Real> => {
  let storage: CrashStorage = await openCrashStorage(delays)
  const open = (): Promise<EventStore> => openEventStore({ storage, durability })
  const real: Real = {
    store: await open(),
    crash: async (mode, seed) => {
      storage = storage.crash(mode, seed)
      const found = await violations(storage)
      real.store = await open()
      return found
    },
    mayLose: (mode) => mode === 'power' && durability === 'buffered',
    close: async () => {
      await real.store.close()
      return violations(storage.crashView('process'))
    },
  }
  return real
}

/**
 * A storage that cannot crash in this process (RocksDB, PostgreSQL): its "crash" closes the
 * storage under the open store, which is dropped unclosed, and opens the storage again.
 */
const stoppingReal = async (
  openStorage: () => Promise<DisposableStorage>,
  cleanUp: () => Promise<void>,
): Promise<Real> => {
  let storage = await openStorage()
  const real: Real = {
    store: await openEventStore({ storage }),
    crash: async () => {
      const dropped = real.store
      await storage.close()()
      await dropped.close().catch(() => undefined)
      storage = await openStorage()
      const found = await violations(storage)
      real.store = await openEventStore({ storage })
      return found
    },
    mayLose: () => false,
    close: async () => {
      await real.store.close()
      storage = await openStorage()
      try {
        return await violations(storage)
      } finally {
        await storage.close()()
        await cleanUp()
      }
    },
  }
  return real
}

const property = (makeReal: () => Promise<Real>) =>
  fc.asyncProperty(fc.commands(weighted, { maxCommands: 25, size: 'max' }), async (cmds) =>
    run(await makeReal(), cmds),
  )

describe('conditional appends and reads by query against a model of the DCB specification', () => {
  it('agree on the crash-simulating storage, through process kills and power losses', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('sync' as const, 'buffered' as const),
        fc.record({ seed: fc.integer(), maxDelayTurns: fc.constantFrom(0, 3) }),
        fc.commands(weighted, { maxCommands: 25, size: 'max' }),
        async (durability, delays, cmds) => run(await crashReal(durability, delays), cmds),
      ),
      { numRuns: numRuns(100) },
    )
  })

  it('agree on RocksDB, through stops and reopens', async () => {
    await fc.assert(
      property(async () => {
        const dir = await makeTempDir('dcb-model')
        const path = join(dir, 'store')
        return stoppingReal(
          () => openRocksStorage(path),
          () => removeDir(dir),
        )
      }),
      { numRuns: numRuns(10) },
    )
  })

  it.runIf(postgresRuns)('agree on PostgreSQL, through stops and reopens', async () => {
    await fc.assert(
      property(async () => {
        const table = freshTable()
        return stoppingReal(
          () => openPostgresStorage({ connection: connection(), table }),
          () => dropTables(table),
        )
      }),
      { numRuns: numRuns(8) },
    )
  })
})
