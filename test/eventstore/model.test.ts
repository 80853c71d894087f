// Model-based test of the event store: fast-check drives a real store and a plain model through
// appends with every kind of expectation, concurrent appends, multi-stream appends, retries with
// event ids, id reuse and soft deletes, and compares results, errors and reads after each step.
import fc from 'fast-check'
import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import { openPostgresStorageTE as openPostgresStorage } from '../../src/postgres/storage.js'
import { connection, dropTables, freshTable, postgresRuns } from '../postgres/server.js'
import { DeltalogError, type ExpectedRevision } from '../../src/errors.js'
import { openEventStore, type EventStore, type ReadEvent } from '../../src/eventstore/store.js'
import { openMemoryStorage } from '../../src/storage/memory.js'
import { numRuns } from '../support/budget.js'

interface ModelEvent {
  readonly type: string
  readonly id: string | undefined
}

interface ModelStream {
  events: ModelEvent[]
  deletedBefore: number
}

interface Model {
  readonly streams: Map<string, ModelStream>
  /** Caller-given id → where it is stored. */
  readonly ids: Map<string, { readonly stream: string; readonly revision: number }>
  /** Successful appends, to retry. */
  readonly done: Array<{
    readonly stream: string
    readonly events: ReadonlyArray<ModelEvent>
    readonly expected: ExpectedRevision
  }>
}

interface Write {
  readonly stream: string
  readonly events: ReadonlyArray<ModelEvent>
  readonly expected: ExpectedRevision
}

type Outcome =
  | { readonly ok: true; readonly revisions: ReadonlyArray<number> }
  | { readonly ok: false; readonly code: string }

const streamOf = (m: Model, id: string): ModelStream =>
  m.streams.get(id) ?? { events: [], deletedBefore: 0 }
const last = (s: ModelStream): number => s.events.length - 1
const exists = (s: ModelStream): boolean => last(s) >= s.deletedBefore
const holds = (expected: ExpectedRevision, s: ModelStream): boolean =>
  expected === 'any' ||
  (expected === 'no_stream' && !exists(s)) ||
  (expected === 'stream_exists' && exists(s)) ||
  (typeof expected === 'number' && exists(s) && last(s) === expected)

/** The model's decision for one request of writes: all or nothing. */
const decide = (m: Model, writes: ReadonlyArray<Write>): Outcome => {
  const scratch = new Map<string, ModelStream>()
  const scratchIds = new Map<string, { stream: string; revision: number }>()
  const revisions: number[] = []
  const get = (id: string): ModelStream => {
    const s = scratch.get(id) ?? streamOf(m, id)
    return { events: [...s.events], deletedBefore: s.deletedBefore }
  }
  for (const w of writes) {
    const s = get(w.stream)
    const ids = w.events.map((e) => e.id)
    const given = ids.filter((id): id is string => id !== undefined)
    if (new Set(given).size < given.length) return { ok: false, code: 'EVENT_ID_CONFLICT' }
    const hits = given.map((id) => scratchIds.get(id) ?? m.ids.get(id))
    const first = hits[0]
    const isRetry =
      given.length === w.events.length &&
      given.length > 0 &&
      first !== undefined &&
      first.stream === w.stream &&
      hits.every(
        (h, i) => h !== undefined && h.stream === first.stream && h.revision === first.revision + i,
      )
    if (isRetry) {
      revisions.push(first.revision + w.events.length - 1)
      continue
    }
    if (hits.some((h) => h !== undefined)) return { ok: false, code: 'EVENT_ID_CONFLICT' }
    if (!holds(w.expected, s)) return { ok: false, code: 'WRONG_EXPECTED_REVISION' }
    for (const e of w.events) {
      s.events.push(e)
      if (e.id !== undefined) scratchIds.set(e.id, { stream: w.stream, revision: last(s) })
    }
    scratch.set(w.stream, s)
    revisions.push(last(s))
  }
  for (const [id, s] of scratch) m.streams.set(id, s)
  for (const [id, entry] of scratchIds) m.ids.set(id, entry)
  return { ok: true, revisions }
}

const outcomeOf = async (
  run: Promise<ReadonlyArray<{ nextExpectedRevision: number }>>,
): Promise<Outcome> => {
  try {
    return { ok: true, revisions: (await run).map((r) => r.nextExpectedRevision) }
  } catch (error) {
    return { ok: false, code: error instanceof DeltalogError ? error.code : String(error) }
  }
}

type Cmd = fc.AsyncCommand<Model, EventStore>

class AppendCmd implements Cmd {
  constructor(readonly write: Write) {}
  check = (): boolean => true
  async run(m: Model, store: EventStore): Promise<void> {
    const real = await outcomeOf(
      store
        .appendToStream(
          this.write.stream,
          this.write.events.map((e) => ({
            type: e.type,
            ...(e.id === undefined ? {} : { id: e.id }),
          })),
          { expectedRevision: this.write.expected },
        )
        .then((r) => [r]),
    )
    const expected = decide(m, [this.write])
    expect(real).toEqual(expected)
    if (expected.ok) m.done.push(this.write)
  }
  toString = (): string => `append(${JSON.stringify(this.write)})`
}

class MultiCmd implements Cmd {
  constructor(readonly writes: ReadonlyArray<Write>) {}
  check = (): boolean => true
  async run(m: Model, store: EventStore): Promise<void> {
    const real = await outcomeOf(
      store.appendMulti(
        this.writes.map((w) => ({
          streamId: w.stream,
          events: w.events.map((e) => ({
            type: e.type,
            ...(e.id === undefined ? {} : { id: e.id }),
          })),
          expectedRevision: w.expected,
        })),
      ),
    )
    expect(real).toEqual(decide(m, this.writes))
  }
  toString = (): string => `multi(${JSON.stringify(this.writes)})`
}

class ConcurrentCmd implements Cmd {
  constructor(readonly writes: ReadonlyArray<Write>) {}
  check = (): boolean => true
  async run(m: Model, store: EventStore): Promise<void> {
    // Queued in call order, decided in that order.
    const real = await Promise.all(
      this.writes.map((w) =>
        outcomeOf(
          store
            .appendToStream(
              w.stream,
              w.events.map((e) => ({ type: e.type, ...(e.id === undefined ? {} : { id: e.id }) })),
              { expectedRevision: w.expected },
            )
            .then((r) => [r]),
        ),
      ),
    )
    const expected = this.writes.map((w) => decide(m, [w]))
    expect(real).toEqual(expected)
  }
  toString = (): string => `concurrent(${JSON.stringify(this.writes)})`
}

class RetryCmd implements Cmd {
  constructor(readonly pick: number) {}
  check = (m: Readonly<Model>): boolean =>
    m.done.some((d) => d.events.every((e) => e.id !== undefined))
  async run(m: Model, store: EventStore): Promise<void> {
    const retryable = m.done.filter((d) => d.events.every((e) => e.id !== undefined))
    const write = retryable[this.pick % retryable.length]
    if (write === undefined) return
    await new AppendCmd(write).run(m, store)
  }
  toString = (): string => `retry(#${this.pick})`
}

class DeleteCmd implements Cmd {
  constructor(readonly stream: string) {}
  check = (): boolean => true
  async run(m: Model, store: EventStore): Promise<void> {
    await store.deleteStream(this.stream)
    const s = streamOf(m, this.stream)
    if (exists(s)) m.streams.set(this.stream, { events: s.events, deletedBefore: last(s) + 1 })
  }
  toString = (): string => `delete(${this.stream})`
}

const collect = async <A>(it: AsyncIterable<A>): Promise<A[]> => {
  const out: A[] = []
  for await (const x of it) out.push(x)
  return out
}
const brief = (e: ReadEvent): string => `${e.streamId}#${e.revision}:${e.type}`

/** A read's range of revisions: `from` inclusive or `after` exclusive, `to` exclusive. */
interface RevisionRange {
  readonly from?: number
  readonly after?: number
  readonly to?: number
}

class ReadCmd implements Cmd {
  constructor(
    readonly stream: string,
    readonly range: RevisionRange,
    readonly reverse: boolean,
    readonly limit: number | undefined,
  ) {}
  check = (): boolean => true
  async run(m: Model, store: EventStore): Promise<void> {
    const s = streamOf(m, this.stream)
    const { from, after, to } = this.range
    // `reverse` orders a range; it never changes which revisions the range holds.
    let visible = s.events
      .map((e, revision) => ({ e, revision }))
      .filter(
        (x) =>
          x.revision >= s.deletedBefore &&
          (from === undefined || x.revision >= from) &&
          (after === undefined || x.revision > after) &&
          (to === undefined || x.revision < to),
      )
    if (this.reverse) visible = visible.reverse()
    visible = visible.slice(0, this.limit ?? visible.length)
    const read = await collect(
      store.readStream(this.stream, {
        reverse: this.reverse,
        ...this.range,
        ...(this.limit === undefined ? {} : { limit: this.limit }),
      }),
    )
    expect(read.map(brief)).toEqual(visible.map((x) => `${this.stream}#${x.revision}:${x.e.type}`))
    // Every stream read through readAll agrees, in increasing positions.
    const all = await collect(store.readAll())
    for (let i = 1; i < all.length; i++) {
      expect((all[i]?.position ?? 0) > (all[i - 1]?.position ?? 0)).toBe(true)
    }
    const expectedAll = [...m.streams.entries()].flatMap(([id, st]) =>
      st.events.flatMap((e, revision) =>
        revision >= st.deletedBefore ? [`${id}#${revision}:${e.type}`] : [],
      ),
    )
    expect(all.map(brief).sort()).toEqual(expectedAll.sort())
  }
  toString = (): string =>
    `read(${this.stream}, ${JSON.stringify(this.range)}, ${this.reverse ? 'reverse' : 'forwards'}, limit ${String(this.limit)})`
}

const arbStream = fc.constantFrom('s1', 's2', 's3')
const arbEvents = fc.array(
  fc.record({
    type: fc.constantFrom('A', 'B'),
    id: fc.option(fc.constantFrom('i1', 'i2', 'i3', 'i4', 'i5', 'i6', 'i7', 'i8'), {
      nil: undefined,
    }),
  }),
  { minLength: 1, maxLength: 3 },
)
const arbExpected: fc.Arbitrary<ExpectedRevision> = fc.oneof(
  fc.constantFrom('any' as const, 'no_stream' as const, 'stream_exists' as const),
  fc.nat({ max: 6 }),
)
const arbWrite: fc.Arbitrary<Write> = fc.record({
  stream: arbStream,
  events: arbEvents,
  expected: arbExpected,
})

const commands = [
  arbWrite.map((w) => new AppendCmd(w)),
  arbWrite.map((w) => new AppendCmd(w)),
  fc.array(arbWrite, { minLength: 1, maxLength: 3 }).map((ws) => new MultiCmd(ws)),
  fc.array(arbWrite, { minLength: 2, maxLength: 4 }).map((ws) => new ConcurrentCmd(ws)),
  fc.nat().map((n) => new RetryCmd(n)),
  arbStream.map((s) => new DeleteCmd(s)),
  fc
    .tuple(
      arbStream,
      fc
        .tuple(
          fc.oneof(
            fc.constant({}),
            fc.nat({ max: 6 }).map((from) => ({ from })),
            fc.nat({ max: 6 }).map((after) => ({ after })),
          ),
          fc.option(fc.nat({ max: 7 }), { nil: undefined }),
        )
        .map(([lower, to]): RevisionRange => ({ ...lower, ...(to === undefined ? {} : { to }) })),
      fc.boolean(),
      fc.option(fc.nat({ max: 4 }), { nil: undefined }),
    )
    .map(([s, f, b, n]) => new ReadCmd(s, f, b, n)),
]

describe('event store against a model', () => {
  it('agrees on expectations, retries, id reuse, multi-stream appends and deletes', async () => {
    await fc.assert(
      fc.asyncProperty(fc.commands(commands, { maxCommands: 30, size: 'max' }), async (cmds) => {
        const store = await openEventStore({ storage: await openMemoryStorage() })
        const model: Model = { streams: new Map(), ids: new Map(), done: [] }
        try {
          await fc.asyncModelRun(() => ({ model, real: store }), cmds)
        } finally {
          await store.close()
        }
      }),
      { numRuns: numRuns(100) },
    )
  })

  it.runIf(postgresRuns)('agrees on PostgreSQL', async () => {
    await fc.assert(
      fc.asyncProperty(fc.commands(commands, { maxCommands: 30, size: 'max' }), async (cmds) => {
        const table = freshTable()
        const storage = await openPostgresStorage({ connection: connection(), table })()
        if (E.isLeft(storage)) throw new Error(storage.left.message)
        const store = await openEventStore({ storage: storage.right })
        const model: Model = { streams: new Map(), ids: new Map(), done: [] }
        try {
          await fc.asyncModelRun(() => ({ model, real: store }), cmds)
        } finally {
          await store.close()
          await dropTables(table)
        }
      }),
      { numRuns: numRuns(20) },
    )
  })
})
