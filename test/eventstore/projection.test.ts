// Inline projections: the documents are the fold of exactly the events up to the position saved
// with them, because both are written in one commit — checked commit by commit in the log, and
// across simulated process kills and power losses. Also: removing and recreating documents,
// skipped events, a failing fold that commits nothing, reads from any store on the log, the
// guard that lets one run write, rebuilds that switch atomically, and the run's options.
import fc from 'fast-check'
import { afterEach, describe, expect, it } from 'vitest'
import {
  openEventStore,
  partitionOf,
  type Documents,
  type EventStore,
  type Projection,
  type ProjectionOptions,
  type ReadEvent,
} from '../../src/eventstore/store.js'
import { DeltalogError } from '../../src/errors.js'
import type { EventInput, Json } from '../../src/eventstore/envelope.js'
import { documentPrefix, loadDocument, stateKey } from '../../src/eventstore/documents.js'
import { plan } from '../../src/eventstore/plan.js'
import type { Known, Request } from '../../src/eventstore/requests.js'
import { openLog, type Log } from '../../src/openLog.js'
import { openMemoryStorage } from '../../src/storage/memory.js'
import type { Storage } from '../../src/storage/port.js'
import { reopenableMemory } from '../log/storages.js'
import { openCrashStorage, type CrashStorage } from '../../src/testing/crashStorage.js'
import { verifyStorage } from '../../src/verify/verify.js'
import { numRuns, timeoutFor } from '../support/budget.js'
import { code } from '../support/codes.js'
import { makeTempDir, removeDir } from '../support/tmpdir.js'

const cleanup: Array<() => Promise<unknown>> = []
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f()
})

const opened = async (options: Parameters<typeof openEventStore>[0]): Promise<EventStore> => {
  const store = await openEventStore(options)
  cleanup.push(() => store.close().catch(() => undefined))
  return store
}

// -------------------------------------------------------------------------------------
// the fold under test, and the same fold done by hand
// -------------------------------------------------------------------------------------

/** A document per stream: what its `Add` events added, and the positions folded into it. */
type Doc = { readonly key: string; readonly n: number; readonly ps: ReadonlyArray<number> }

/** `Add` adds its `n` (times `factor`), `Del` removes the document, `Skip` has no key. */
const foldOf = (factor: () => number = () => 1) => ({
  init: (key: string): Doc => ({ key, n: 0, ps: [] }),
  evolve: (d: Doc, e: ReadEvent): Doc | undefined =>
    e.type === 'Del'
      ? undefined
      : { key: d.key, n: d.n + (e.data as { n: number }).n * factor(), ps: [...d.ps, e.position] },
  key: (e: ReadEvent): string | undefined => (e.type === 'Skip' ? undefined : e.streamId),
})

/** The documents the fold gives for the events at or below `through`. */
const expected = (
  events: ReadonlyArray<ReadEvent>,
  through: number,
  factor = 1,
): Record<string, Doc> => {
  const f = foldOf(() => factor)
  const docs = new Map<string, Doc>()
  for (const e of events) {
    const k = f.key(e)
    if (e.position > through || k === undefined) continue
    const next = f.evolve(docs.get(k) ?? f.init(k), e)
    if (next === undefined) docs.delete(k)
    else docs.set(k, next)
  }
  return Object.fromEntries([...docs].sort(([a], [b]) => (a < b ? -1 : 1)))
}

const add = (n: number): EventInput => ({ type: 'Add', data: { n } })
const del: EventInput = { type: 'Del' }
const skip: EventInput = { type: 'Skip' }

const collect = async <A>(it: AsyncIterable<A>): Promise<A[]> => {
  const out: A[] = []
  for await (const x of it) out.push(x)
  return out
}

/** The serving documents, by key, as a scan gives them. */
const scanned = async (documents: Documents): Promise<Record<string, Json>> =>
  Object.fromEntries((await collect(documents.scan())).map((d) => [d.key, d.document]))

/** The documents of one version, read under the projection's keys (not only the serving one). */
const versionDocs = async (
  log: Log,
  name: string,
  version: number,
): Promise<Record<string, Json>> => {
  const prefix = documentPrefix(name, version)
  const out: Record<string, Json> = {}
  for await (const raw of log.keys({ prefix })) {
    const k = TEXT.decode(raw).slice(prefix.length)
    const d = await loadDocument(log, name, version, k)
    if (d !== undefined) out[k] = d
  }
  return out
}

const TEXT = new TextDecoder()

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/**
 * Waits until `ok`; fails after 10 s, or at once when `run` (a projection's) has stopped: what
 * stopped it is the failure.
 */
const until = async (
  what: string,
  ok: () => Promise<boolean> | boolean,
  run?: { readonly done: Promise<void> },
): Promise<void> => {
  const end = Date.now() + 10_000
  let stopped: { readonly error: unknown } | undefined
  run?.done.then(
    () => (stopped = { error: new Error('the projection stopped') }),
    (error: unknown) => (stopped = { error }),
  )
  while (!(await ok())) {
    if (stopped !== undefined) throw stopped.error
    if (Date.now() > end) throw new Error(`timed out waiting until ${what}`)
    await sleep(1)
  }
}

/**
 * Waits until the projection's serving version has folded through `position`, no rebuild left.
 * A run that has read everything but saved less for a second has lost its way: it fails then.
 */
const caughtUp = (documents: Documents | Projection<Doc>, position: number): Promise<void> => {
  const run = 'done' in documents ? documents : undefined
  let idleSince: number | undefined
  return until(
    `the projection has folded through ${position}`,
    async () => {
      const s = await documents.state()
      const saved = s?.active.position ?? -1
      if (run !== undefined && run.lag().positions === 0 && saved < position) {
        idleSince ??= Date.now()
        if (Date.now() - idleSince > 1000) {
          throw new Error(`the projection read everything, but saved only through ${saved}`)
        }
      } else idleSince = undefined
      return saved >= position && s?.rebuilding === undefined
    },
    run,
  )
}

const lastPosition = async (store: EventStore): Promise<number> =>
  (await collect(store.readAll({ reverse: true, limit: 1 })))[0]?.position ?? -1

const rejection = async (promise: Promise<unknown>): Promise<DeltalogError> => {
  try {
    await promise
  } catch (error) {
    expect(error).toBeInstanceOf(DeltalogError)
    return error as DeltalogError
  }
  throw new Error('expected a rejection')
}

/** What the run stopped with; a run still going after 3 s fails the test. */
const stopped = (run: { readonly done: Promise<void> }): Promise<void> =>
  Promise.race([
    run.done,
    sleep(3000).then(() => {
      throw new Error('the run is still going')
    }),
  ])

const project = (
  store: EventStore,
  options: Partial<ProjectionOptions<Doc>> = {},
  name = 'p',
): Promise<Projection<Doc>> => store.projection<Doc>(name, { ...foldOf(), ...options })

/**
 * A log that tells what each commit held (every `append` is one commit), and that can hold a
 * chosen commit back until the test lets it go.
 */
const watchedLog = (log: Log) => {
  const commits: Array<ReadonlyArray<string>> = []
  const attempts: Array<ReadonlyArray<string>> = []
  let hold: ((keys: ReadonlyArray<string>, values: ReadonlyArray<string>) => boolean) | undefined
  let reached = (): void => undefined
  let release = (): void => undefined
  const wrapped: Log = {
    ...log,
    append: async (records) => {
      const keys = records.map((r) => String(r.key))
      const values = records.map((r) =>
        typeof r.value === 'string' ? r.value : TEXT.decode(r.value),
      )
      if (hold?.(keys, values) === true) {
        hold = undefined
        const released = new Promise<void>((r) => (release = r))
        reached()
        await released
      }
      attempts.push(keys)
      const result = await log.append(records)
      commits.push(keys)
      return result
    },
  }
  return {
    log: wrapped,
    commits,
    /** The keys of every append tried, refused ones too. */
    attempts,
    /** Holds the first commit `when` picks; resolves once it is held, with its release. */
    holdWhen: (when: NonNullable<typeof hold>): Promise<() => void> =>
      new Promise((resolve) => {
        hold = when
        reached = () => resolve(() => release())
      }),
  }
}

// -------------------------------------------------------------------------------------
// exactly once
// -------------------------------------------------------------------------------------

const arbStream = fc.constantFrom('a', 'b', 'c', 'd')
const arbEvent = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 1, max: 9 }).map(add) },
  { weight: 1, arbitrary: fc.constant(del) },
  { weight: 1, arbitrary: fc.constant(skip) },
)
const arbAppend = fc.record({
  stream: arbStream,
  events: fc.array(arbEvent, { minLength: 1, maxLength: 4 }),
  // Whether the test waits for the projection before the next append.
  wait: fc.boolean(),
})

describe('an inline projection', () => {
  it(
    'commits the documents with its position in one commit: after every batch they are the fold of the events up to it',
    async () => {
      const runs = numRuns(15)
      await fc.assert(
        fc.asyncProperty(
          fc.array(arbAppend, { minLength: 1, maxLength: 10 }),
          fc.integer({ min: 1, max: 4 }),
          async (appends, batch) => {
            const base = await openLog({ storage: await openMemoryStorage() })
            const watched = watchedLog(base)
            const store = await openEventStore({ log: watched.log })
            try {
              const p = await project(store, { batch })
              for (const a of appends) {
                const { position } = await store.appendToStream(a.stream, a.events)
                if (a.wait) await caughtUp(p, position)
              }
              await caughtUp(p, await lastPosition(store))
              await p.stop()
              const events = await collect(store.readAll())
              // Every commit that writes documents writes the state too.
              const committed = watched.commits.filter((keys) =>
                keys.some((k) => k.startsWith('p/')),
              )
              for (const keys of committed) expect(keys).toContain(stateKey('p'))
              // At each state record, the documents written so far are the fold up to its position.
              const docs = new Map<string, Json | undefined>()
              const prefix = documentPrefix('p', 1)
              let states = 0
              for await (const entry of base.scan()) {
                const k = TEXT.decode(entry.key)
                if (!k.startsWith(prefix) && k !== stateKey('p')) continue
                const value = JSON.parse(TEXT.decode(entry.value)) as {
                  d?: Json
                  a?: { p: number }
                }
                if (k.startsWith(prefix)) docs.set(k.slice(prefix.length), value.d)
                if (k !== stateKey('p')) continue
                states++
                const here = Object.fromEntries(
                  [...docs].filter(([, d]) => d !== undefined).sort(([a], [b]) => (a < b ? -1 : 1)),
                )
                expect(here).toEqual(expected(events, value.a?.p ?? -1))
              }
              expect(states).toBeGreaterThan(0)
              expect(await scanned(p)).toEqual(expected(events, Infinity))
            } finally {
              await store.close()
              await base.close()
            }
          },
        ),
        { numRuns: runs },
      )
    },
    timeoutFor(numRuns(15), 1000),
  )

  type Step =
    | { readonly kind: 'append'; readonly stream: string; readonly events: EventInput[] }
    | { readonly kind: 'turns'; readonly n: number }
    | { readonly kind: 'rebuild' }
    | { readonly kind: 'crash'; readonly mode: 'process' | 'power'; readonly seed: number }

  const arbStep: fc.Arbitrary<Step> = fc.oneof(
    {
      weight: 5,
      arbitrary: fc.record({
        kind: fc.constant('append' as const),
        stream: arbStream,
        events: fc.array(arbEvent, { minLength: 1, maxLength: 4 }),
      }),
    },
    {
      weight: 3,
      arbitrary: fc.record({ kind: fc.constant('turns' as const), n: fc.nat(30) }),
    },
    { weight: 2, arbitrary: fc.constant({ kind: 'rebuild' as const }) },
    {
      weight: 2,
      arbitrary: fc.record({
        kind: fc.constant('crash' as const),
        mode: fc.constantFrom('process' as const, 'power' as const),
        seed: fc.integer(),
      }),
    },
  )

  /** Stops a run and its store, which may have crashed under it. */
  const stopRun = async (store: EventStore, p: Projection<Doc>): Promise<void> => {
    await store.close().catch(() => undefined)
    await p.done.catch(() => undefined)
  }

  /**
   * What a restarted process finds: the serving version is the fold of the events up to its
   * position, a rebuild's version the fold up to its own, and no position is past the head.
   */
  const checkRestarted = async (store: EventStore): Promise<void> => {
    const state = await store.documents('p').state()
    const events = await collect(store.readAll())
    const head = store.log.nextSequence()
    const active = state?.active ?? { version: 1, position: -1 }
    expect(active.position).toBeLessThan(head)
    expect(await scanned(store.documents('p'))).toEqual(expected(events, active.position))
    expect(await versionDocs(store.log, 'p', active.version)).toEqual(
      expected(events, active.position),
    )
    if (state?.rebuilding !== undefined) {
      expect(state.rebuilding.version).toBeGreaterThan(active.version)
      expect(state.rebuilding.position).toBeLessThan(head)
      expect(await versionDocs(store.log, 'p', state.rebuilding.version)).toEqual(
        expected(events, state.rebuilding.position),
      )
    }
  }

  it(
    'never folds an event twice nor loses one across process kills and power losses, rebuilds included',
    async () => {
      const runs = numRuns(25)
      await fc.assert(
        fc.asyncProperty(
          fc.array(arbStep, { minLength: 1, maxLength: 20 }),
          fc.integer({ min: 1, max: 3 }),
          fc.constantFrom('sync' as const, 'buffered' as const),
          fc.record({ seed: fc.integer(), maxDelayTurns: fc.constantFrom(0, 3) }),
          async (steps, batch, durability, delays) => {
            let storage: CrashStorage = await openCrashStorage(delays)
            let store = await openEventStore({ storage, durability })
            let p = await project(store, { batch })
            try {
              for (const step of steps) {
                if (step.kind === 'append') await store.appendToStream(step.stream, step.events)
                else if (step.kind === 'turns') {
                  for (let i = 0; i < step.n; i++) await new Promise((r) => setImmediate(r))
                } else if (step.kind === 'rebuild') {
                  p.rebuild().catch(() => undefined)
                } else {
                  storage = storage.crash(step.mode, step.seed)
                  const old = stopRun(store, p)
                  store = await openEventStore({ storage, durability })
                  await checkRestarted(store)
                  await old
                  p = await project(store, { batch })
                }
              }
              await caughtUp(p, await lastPosition(store))
              expect(await scanned(p)).toEqual(expected(await collect(store.readAll()), Infinity))
              await p.stop()
              await store.close()
              storage = storage.crash('power', 0x5eed)
              store = await openEventStore({ storage, durability })
              await checkRestarted(store)
            } finally {
              await stopRun(store, p)
            }
          },
        ),
        { numRuns: runs },
      )
    },
    timeoutFor(numRuns(25), 1500),
  )

  it('removes a document when evolve gives undefined, and starts it again from init after', async () => {
    const store = await opened({ storage: await openMemoryStorage() })
    const p = await project(store)
    await store.appendToStream('a', [add(1), add(2)])
    await store.appendToStream('b', [add(5)])
    await caughtUp(p, await lastPosition(store))
    expect((await p.get('a'))?.n).toBe(3)
    await store.appendToStream('a', [add(4), del])
    await caughtUp(p, await lastPosition(store))
    expect(await p.get('a')).toBeUndefined()
    expect(Object.keys(await scanned(p))).toEqual(['b'])
    const { position } = await store.appendToStream('a', [add(7)])
    await caughtUp(p, position)
    expect(await p.get('a')).toEqual({ key: 'a', n: 7, ps: [position] })
  })

  it('skips an event whose key is undefined', async () => {
    const store = await opened({ storage: await openMemoryStorage() })
    const p = await project(store)
    await store.appendToStream('a', [add(1), skip, add(2)])
    const { position } = await store.appendToStream('b', [skip])
    await caughtUp(p, position)
    expect(await scanned(p)).toEqual({ a: { key: 'a', n: 3, ps: [2, 4] } })
    // The position covers the skipped events: a restart does not read them again.
    expect((await p.state())?.active.position).toBe(position)
  })

  it('folds several events of one key in one batch into one document', async () => {
    const store = await opened({ storage: await openMemoryStorage() })
    await store.appendToStream('a', [add(1), add(2), add(3)])
    await store.appendMulti([
      { streamId: 'a', events: [add(10)] },
      { streamId: 'b', events: [add(20)] },
    ])
    const p = await project(store)
    await caughtUp(p, await lastPosition(store))
    expect(await scanned(p)).toEqual(expected(await collect(store.readAll()), Infinity))
  })

  const failing: ReadonlyArray<
    readonly [string, Partial<ProjectionOptions<Doc>>, string | undefined]
  > = [
    [
      'evolve throws',
      {
        evolve: (d, e) => {
          if (e.type === 'Bad') throw new Error('no')
          return foldOf().evolve(d, e)
        },
      },
      undefined,
    ],
    [
      'key throws',
      {
        key: (e) => {
          if (e.type === 'Bad') throw new Error('no')
          return e.streamId
        },
      },
      undefined,
    ],
    [
      'evolve gives a document that is not JSON',
      { evolve: (d, e) => (e.type === 'Bad' ? { ...d, n: Number.NaN } : foldOf().evolve(d, e)) },
      undefined,
    ],
    [
      'evolve gives an instance of a class',
      {
        evolve: (d, e) =>
          e.type === 'Bad' ? (new Date() as unknown as Doc) : foldOf().evolve(d, e),
      },
      undefined,
    ],
    [
      'key is too long for the log',
      { key: (e) => (e.type === 'Bad' ? 'k'.repeat(4096) : e.streamId) },
      'INVALID_ARGUMENT',
    ],
    ['key is not an id', { key: (e) => (e.type === 'Bad' ? '' : e.streamId) }, 'INVALID_ARGUMENT'],
  ]

  it.each(failing)(
    'stops with HANDLER_FAILED and commits nothing of the batch when %s',
    async (_, options, cause) => {
      const store = await opened({ storage: await openMemoryStorage() })
      const p = await project(store, options)
      await store.appendToStream('a', [add(1)])
      const { position: before } = await store.appendToStream('b', [add(2)])
      await caughtUp(p, before)
      const docs = await scanned(p)
      const state = await p.state()
      // One commit: the projection reads the three in one batch, the bad one last.
      const [first, , bad] = await store.appendMulti([
        { streamId: 'a', events: [add(3)] },
        { streamId: 'c', events: [add(4)] },
        { streamId: 'b', events: [{ type: 'Bad' }] },
      ])
      const head = store.log.nextSequence()
      const error = await rejection(stopped(p))
      expect(error.code).toBe('HANDLER_FAILED')
      expect(error.error).toMatchObject({
        position: first?.position,
        through: bad?.position,
      })
      if (cause !== undefined) {
        expect(((error.error as { cause?: unknown }).cause as DeltalogError).code).toBe(cause)
      }
      expect(await p.state()).toEqual(state)
      expect(await scanned(p)).toEqual(docs)
      // Nothing at all was written after the events.
      expect(store.log.nextSequence()).toBe(head)
    },
  )

  it('stops with HANDLER_FAILED on a document too large for the log, failing no append that shares its commit', async () => {
    const base = await openLog({ storage: await openMemoryStorage(), maxValueBytes: 2000 })
    cleanup.push(() => base.close())
    const watched = watchedLog(base)
    const store = await opened({ log: watched.log })
    const big = store.appendToStream('a', [add(1), { type: 'Big', data: { n: 3000 } }])
    await big
    // The writer is held on another append while the projection reads and submits its batch.
    const held = watched.holdWhen((keys) => keys.includes('e/x'))
    const x = store.appendToStream('x', [add(1)])
    const release = await held
    const p = await project(store, {
      evolve: (d, e) =>
        e.type === 'Big'
          ? { ...d, ps: Array.from({ length: (e.data as { n: number }).n }, () => 1) }
          : foldOf().evolve(d, e),
    })
    await until('the projection has read its batch', () => p.lag().positions === 0)
    await sleep(20)
    const y = store.appendToStream('y', [add(2)])
    await sleep(5)
    release()
    const error = await rejection(stopped(p))
    expect(error.code).toBe('HANDLER_FAILED')
    expect(error.message).toMatch(/document of "a".*maxValueBytes is 2000/)
    await x
    expect((await y).position).toBeGreaterThan(0)
    // The projection's records were tried in one commit with the append, which then went alone.
    expect(
      watched.attempts.some((k) => k.includes('e/y') && k.some((r) => r.startsWith('p/'))),
    ).toBe(true)
    expect(await p.state()).toBeUndefined()
  })

  it('refuses a key too long for the log, and one that is no id, in get', async () => {
    const store = await opened({ storage: await openMemoryStorage() })
    const p = await project(store)
    const { position } = await store.appendToStream('a', [add(1)])
    await caughtUp(p, position)
    expect(await code(p.get('k'.repeat(4096)))).toBe('INVALID_ARGUMENT')
    expect(await code(p.get(''))).toBe('INVALID_ARGUMENT')
    expect(await code(store.documents('never').get(''))).toBe('INVALID_ARGUMENT')
    // The longest key that fits is read (it has no document).
    const longest = 4096 - TEXT.decode(new TextEncoder().encode(documentPrefix('p', 1))).length
    expect(await p.get('k'.repeat(longest))).toBeUndefined()
  })
})

// -------------------------------------------------------------------------------------
// reading documents
// -------------------------------------------------------------------------------------

describe("a projection's documents", () => {
  const keyed = (e: ReadEvent): string => (e.data as { id: string }).id
  const withIds = async (store: EventStore, ids: ReadonlyArray<string>): Promise<number> => {
    let last = -1
    for (const id of ids) {
      last = (await store.appendToStream(id, [{ type: 'Add', data: { n: 1, id } }])).position
    }
    return last
  }

  it('are scanned in the byte order of their keys, from a prefix, removed ones skipped', async () => {
    const store = await opened({ storage: await openMemoryStorage() })
    const p = await project(store, { key: keyed })
    await withIds(store, ['user-2', 'team-1', 'user-1', 'user-10', 'users'])
    const { position } = await store.appendToStream('user-10', [
      { type: 'Del', data: { id: 'user-10' } },
    ])
    await caughtUp(p, position)
    const keys = async (prefix?: string) =>
      (await collect(p.scan(prefix === undefined ? {} : { prefix }))).map((d) => d.key)
    expect(await keys()).toEqual(['team-1', 'user-1', 'user-2', 'users'])
    expect(await keys('user-')).toEqual(['user-1', 'user-2'])
    expect(await keys('nobody')).toEqual([])
    const all = await collect(p.scan())
    expect(all[0]).toMatchObject({ key: 'team-1', document: { key: 'team-1', n: 1 } })
  })

  it('stop a scan with ABORTED when its signal aborts, before or during it', async () => {
    const store = await opened({ storage: await openMemoryStorage() })
    const p = await project(store, { key: keyed })
    await caughtUp(p, await withIds(store, ['a', 'b', 'c']))
    const before = new AbortController()
    before.abort()
    expect(await code(p.scan({ signal: before.signal }).next())).toBe('ABORTED')
    const during = new AbortController()
    const scan = p.scan({ signal: during.signal })
    expect((await scan.next()).value).toMatchObject({ key: 'a' })
    during.abort()
    expect(await code(scan.next())).toBe('ABORTED')
    expect(await code(p.scan({ prefix: 1 } as never).next())).toBe('INVALID_ARGUMENT')
  })

  it('of a projection never run: get gives undefined, scan nothing, state undefined', async () => {
    const store = await opened({ storage: await openMemoryStorage() })
    await store.appendToStream('a', [add(1)])
    const documents = store.documents('never')
    expect(await documents.get('a')).toBeUndefined()
    expect(await collect(documents.scan())).toEqual([])
    expect(await documents.state()).toBeUndefined()
    expect(await code(store.documents(42 as never).get('a'))).toBe('INVALID_ARGUMENT')
  })

  it('are read as committed by a read-only store on the same memory storage', async () => {
    const storage = await openMemoryStorage()
    const store = await opened({ storage })
    const p = await project(store)
    await store.appendToStream('a', [add(1), add(2)])
    await store.appendToStream('b', [add(3), del])
    await caughtUp(p, await lastPosition(store))
    const reader = await opened({ storage, readOnly: true })
    const documents = reader.documents<Doc>('p')
    expect(await documents.state()).toEqual(await p.state())
    expect(await documents.get('a')).toEqual(await p.get('a'))
    expect(await documents.get('b')).toBeUndefined()
    expect(await scanned(documents)).toEqual(await scanned(p))
    // A read-only store runs no projection of its own: it has nowhere to write.
    expect(await code(project(reader))).toBe('READ_ONLY')
  })

  it('are read as committed by a read-only store on the same RocksDB directory', async () => {
    const dir = await makeTempDir('projection')
    cleanup.push(() => removeDir(dir))
    const store = await opened({ path: dir })
    const p = await project(store)
    await store.appendToStream('a', [add(1), add(2)])
    await store.appendToStream('b', [add(3)])
    await caughtUp(p, await lastPosition(store))
    const reader = await opened({ path: dir, readOnly: true })
    const events = await collect(reader.readAll())
    expect(await scanned(reader.documents('p'))).toEqual(expected(events, Infinity))
    expect(await reader.documents('p').get('b')).toEqual(expected(events, Infinity).b)
    expect(await reader.documents('p').state()).toEqual(await p.state())
  })
})

// -------------------------------------------------------------------------------------
// one run writes: the guard
// -------------------------------------------------------------------------------------

describe('the guard of a projection', () => {
  it('refuses a second run of the same name in the same store; the next run goes on from the state', async () => {
    const store = await opened({ storage: await openMemoryStorage() })
    const p = await project(store)
    expect(await code(project(store))).toBe('INVALID_ARGUMENT')
    const { position } = await store.appendToStream('a', [add(1), add(2)])
    await caughtUp(p, position)
    await p.stop()
    await store.appendToStream('a', [add(3)])
    const again = await project(store)
    await caughtUp(again, await lastPosition(store))
    expect(await scanned(again)).toEqual(expected(await collect(store.readAll()), Infinity))
  })

  const known = (guarded: Record<string, string>, head = 10): Known => ({
    streams: new Map(),
    ids: new Map(),
    matched: new Map(),
    guarded: new Map(Object.entries(guarded)),
    head,
    now: 0,
    versionOf: () => 1,
    newId: () => 'id',
  })
  const records = (value: string, expectedValue: string | undefined, below?: number): Request => ({
    kind: 'records',
    records: [
      { key: 'p/1:p/1/a', value: new TextEncoder().encode(`doc ${value}`) },
      { key: 'q/p', value: new TextEncoder().encode(value) },
    ],
    ...(below === undefined ? {} : { below }),
    guard: { key: 'q/p', expected: expectedValue, what: 'the projection p' },
  })
  const codes = (k: Known, requests: ReadonlyArray<Request>) => {
    const planned = plan(k, requests)
    return {
      outcomes: planned.outcomes.map((o) => (o._tag === 'Left' ? o.left.code : 'ok')),
      keys: planned.records.map((r) => r.key),
    }
  }

  it('lets a write through only if the guarded key holds what its writer last saw', () => {
    expect(codes(known({ 'q/p': 'A' }), [records('B', 'A')]).outcomes).toEqual(['ok'])
    expect(codes(known({ 'q/p': 'A' }), [records('B', 'stale')])).toEqual({
      outcomes: ['FENCED'],
      keys: [],
    })
    // No state yet: only a writer that saw none may write.
    expect(codes(known({}), [records('A', undefined)]).outcomes).toEqual(['ok'])
    expect(codes(known({}), [records('A', 'A')]).outcomes).toEqual(['FENCED'])
    expect(codes(known({ 'q/p': 'A' }), [records('B', undefined)]).outcomes).toEqual(['FENCED'])
  })

  it('sees what an earlier request of the same batch wrote to the guarded key', () => {
    const planned = codes(known({ 'q/p': 'A' }), [
      records('B', 'A'),
      records('C', 'B'),
      records('D', 'A'),
      records('E', 'C'),
    ])
    expect(planned.outcomes).toEqual(['ok', 'ok', 'FENCED', 'ok'])
    expect(planned.keys).toEqual(['p/1:p/1/a', 'q/p', 'p/1:p/1/a', 'q/p', 'p/1:p/1/a', 'q/p'])
  })

  it('refuses a position at or past the head (below)', () => {
    expect(codes(known({ 'q/p': 'A' }, 10), [records('B', 'A', 9)]).outcomes).toEqual(['ok'])
    expect(codes(known({ 'q/p': 'A' }, 10), [records('B', 'A', 10)])).toEqual({
      outcomes: ['INVALID_ARGUMENT'],
      keys: [],
    })
    expect(codes(known({}, 10), [records('B', undefined, 11)]).outcomes).toEqual([
      'INVALID_ARGUMENT',
    ])
  })
})

// -------------------------------------------------------------------------------------
// rebuilds
// -------------------------------------------------------------------------------------

describe('rebuild()', () => {
  /** A store on a watched log, the projection `p` (batch 2) over 12 events, caught up. */
  const setUp = async (storage?: Storage) => {
    const base = await openLog({ storage: storage ?? (await openMemoryStorage()) })
    cleanup.push(() => base.close())
    const watched = watchedLog(base)
    const store = await opened({ log: watched.log })
    const factor = { value: 1 }
    const options = { ...foldOf(() => factor.value), batch: 2 }
    // The streams' events interleaved: a rebuild's batch holds a part of a stream's.
    for (const n of [1, 2, 3, 4])
      for (const s of ['a', 'b', 'c']) await store.appendToStream(s, [add(n)])
    const p = await store.projection<Doc>('p', options)
    await caughtUp(p, await lastPosition(store))
    /** Holds the `n`-th commit of a state that names a rebuild. */
    const holdRebuild = (n: number) => {
      let seen = 0
      return watched.holdWhen(
        (keys, values) =>
          values.some((v, i) => keys[i] === stateKey('p') && v.includes('"r"')) && ++seen === n,
      )
    }
    return { base, store, p, factor, options, holdRebuild }
  }

  it('serves the old version while it runs, and the new one, the fold of every event, once it resolves', async () => {
    const { store, p, factor, holdRebuild } = await setUp()
    const before = await scanned(p)
    factor.value = 10
    const held = holdRebuild(2)
    const rebuilt = p.rebuild()
    const release = await held
    // The first commit of the rebuild is in: the old version still serves reads.
    const state = await p.state()
    expect(state?.active.version).toBe(1)
    expect(state?.rebuilding?.version).toBe(2)
    expect(await p.get('a')).toEqual(before.a)
    expect(await scanned(p)).toEqual(before)
    expect(await scanned(store.documents('p'))).toEqual(before)
    // Live events come in while the rebuild has not reached the end.
    const live = store.appendToStream('d', [add(5)])
    release()
    const { position } = await live
    await rebuilt
    expect((await p.state())?.active.version).toBe(2)
    await caughtUp(p, position)
    const after = await p.state()
    expect(after?.rebuilding).toBeUndefined()
    expect(after?.active.version).toBe(2)
    expect(await scanned(p)).toEqual(expected(await collect(store.readAll()), Infinity, 10))
    expect(p.lag().position).toBe(after?.active.position)
  })

  it('keeps the old version folding live events while it runs', async () => {
    const { base, store, p, holdRebuild } = await setUp()
    const held = holdRebuild(2)
    const rebuilt = p.rebuild()
    const release = await held
    // An event of a stream the rebuild has already folded a part of.
    const live = store.appendToStream('a', [add(5)])
    release()
    const { position } = await live
    await rebuilt
    const events = await collect(store.readAll())
    let old = -1
    for await (const e of base.scan({ key: stateKey('p') })) {
      const s = JSON.parse(TEXT.decode(e.value)) as { a: { v: number; p: number } }
      if (s.a.v === 1) old = s.a.p
    }
    // The old version folded the live event before the switch, from its own documents.
    expect(old).toBeGreaterThanOrEqual(position)
    expect(await versionDocs(base, 'p', 1)).toEqual(expected(events, old))
    await caughtUp(p, position)
    expect(await scanned(p)).toEqual(expected(events, Infinity))
  })

  it('switches in the commit that brings the new version level with the old', async () => {
    const { base, store, p, factor } = await setUp()
    factor.value = 10
    await p.rebuild()
    const events = await collect(store.readAll())
    // Every state record says which version serves; each is the fold up to its position.
    const states: Array<{ a: { v: number; p: number }; r?: { v: number; p: number } }> = []
    for await (const e of base.scan({ key: stateKey('p') })) {
      states.push(JSON.parse(TEXT.decode(e.value)) as (typeof states)[number])
    }
    // A rebuild level with the serving version switches at once: it never trails it at par.
    for (const s of states) if (s.r !== undefined) expect(s.r.p).toBeLessThan(s.a.p)
    const switched = states.findIndex((s) => s.a.v === 2)
    expect(switched).toBeGreaterThan(0)
    expect(states.slice(0, switched).every((s) => s.a.v === 1)).toBe(true)
    const last = states[switched - 1]
    expect(last?.r?.v).toBe(2)
    expect(states[switched]?.a.p).toBeGreaterThanOrEqual(last?.a.p ?? Infinity)
    expect(await scanned(p)).toEqual(expected(events, Infinity, 10))
  })

  it('gives a higher version each time; two calls share one rebuild', async () => {
    const { p, store } = await setUp()
    await Promise.all([p.rebuild(), p.rebuild()])
    expect((await p.state())?.active.version).toBe(2)
    await p.rebuild()
    expect((await p.state())?.active.version).toBe(3)
    expect(await scanned(p)).toEqual(expected(await collect(store.readAll()), Infinity))
  })

  it('interrupted by a close, goes on at the next run and completes, in the same version', async () => {
    const { base, store, p, factor, options, holdRebuild } = await setUp()
    factor.value = 10
    const held = holdRebuild(2)
    const rebuilt = p.rebuild()
    const release = await held
    const closing = store.close()
    release()
    await closing
    expect(await code(rebuilt)).toBe('ABORTED')
    const reopened = await opened({ log: base })
    const interrupted = await reopened.documents('p').state()
    expect(interrupted?.rebuilding?.version).toBe(2)
    expect(interrupted?.rebuilding?.position).toBeGreaterThanOrEqual(0)
    const again = await reopened.projection<Doc>('p', options)
    await again.rebuild()
    expect((await again.state())?.active.version).toBe(2)
    expect(await scanned(again)).toEqual(expected(await collect(reopened.readAll()), Infinity, 10))
  })

  it('interrupted by a close, completes at the next run even if no one asks again', async () => {
    const { base, store, p, options, holdRebuild } = await setUp()
    const held = holdRebuild(1)
    const rebuilt = p.rebuild()
    const release = await held
    const closing = store.close()
    release()
    await closing
    await rebuilt.catch(() => undefined)
    const reopened = await opened({ log: base })
    const again = await reopened.projection<Doc>('p', options)
    await caughtUp(again, await lastPosition(reopened))
    expect(await again.state()).toMatchObject({ active: { version: 2 } })
    expect(await scanned(again)).toEqual(expected(await collect(reopened.readAll()), Infinity))
  })

  it('interrupted by a power loss, completes at the next run, in the same version', async () => {
    const storage = await openCrashStorage()
    const { store, p, options, holdRebuild } = await setUp(storage)
    const held = holdRebuild(2)
    const rebuilt = p.rebuild()
    const release = await held
    const restarted = storage.crash('power', 7)
    release()
    expect(await code(rebuilt)).not.toBe('ABORTED')
    await store.close().catch(() => undefined)
    const reopened = await opened({ storage: restarted })
    const interrupted = await reopened.documents('p').state()
    expect(interrupted).toMatchObject({ active: { version: 1 }, rebuilding: { version: 2 } })
    const again = await reopened.projection<Doc>('p', options)
    await caughtUp(again, await lastPosition(reopened))
    expect(await again.state()).toMatchObject({ active: { version: 2 } })
    expect(await scanned(again)).toEqual(expected(await collect(reopened.readAll()), Infinity))
  })

  it('rejects once the run has stopped, or if it stops first', async () => {
    const { p, store } = await setUp()
    const held = p.rebuild()
    await p.stop()
    // At most the batch in hand was folded: 12 events at 2 a batch take more.
    expect(await code(held)).toBe('ABORTED')
    expect(await code(p.rebuild())).toBe('ABORTED')
    const failing = await project(
      store,
      {
        evolve: () => {
          throw new Error('no')
        },
      },
      'q',
    )
    expect(await code(stopped(failing))).toBe('HANDLER_FAILED')
    expect(await code(failing.rebuild())).toBe('HANDLER_FAILED')
  })
})

// -------------------------------------------------------------------------------------
// options: into, filter, query, partition
// -------------------------------------------------------------------------------------

describe('a projection with', () => {
  it('into: keeps its documents and state in another store, and rebuilds on a still log', async () => {
    const events = await opened({ storage: await openMemoryStorage() })
    const target = await opened({ storage: await openMemoryStorage() })
    await events.appendToStream('a', [add(1), add(2)])
    await events.appendToStream('b', [add(3)])
    const p = await project(events, { into: target })
    const last = await lastPosition(events)
    await caughtUp(p, last)
    const all = await collect(events.readAll())
    expect(await scanned(target.documents('p'))).toEqual(expected(all, Infinity))
    expect(await events.documents('p').state()).toBeUndefined()
    // The events' log has nothing past its last event: the rebuild must still switch.
    expect(events.log.nextSequence()).toBe(last + 2)
    await Promise.race([
      p.rebuild(),
      sleep(5000).then(() => {
        throw new Error('the rebuild never switched')
      }),
    ])
    const state = await target.documents('p').state()
    expect(state?.rebuilding).toBeUndefined()
    expect(state?.active.version).toBe(2)
    expect(state?.active.position).toBeGreaterThanOrEqual(last)
    expect(await scanned(p)).toEqual(expected(all, Infinity))
    // The target's runs: a second run of the name writing there is refused.
    expect(await code(project(target))).toBe('INVALID_ARGUMENT')
    expect(await code(project(events, { into: {} }, 'x'))).toBe('INVALID_ARGUMENT')
  })

  it('into, from a read-only store of the events', async () => {
    const storage = await openMemoryStorage()
    const writer = await opened({ storage })
    await writer.appendToStream('a', [add(1), add(2)])
    const reader = await opened({ storage, readOnly: true })
    const target = await opened({ storage: await openMemoryStorage() })
    const p = await project(reader, { into: target })
    await caughtUp(p, await lastPosition(reader))
    expect(await scanned(target.documents('p'))).toEqual({ a: { key: 'a', n: 3, ps: [2, 3] } })
  })

  const mixed = async (store: EventStore): Promise<void> => {
    await store.appendToStream('a-1', [add(1), { type: 'Sub', data: { n: 2 } }])
    await store.appendToStream('b-1', [add(3)])
    await store.append([{ type: 'Add', data: { n: 4 }, tags: ['x'] }])
    await store.appendToStream('a-2', [{ type: 'Add', data: { n: 5 }, tags: ['x'] }, del])
    for (let i = 0; i < 12; i++) await store.appendToStream(`s${i}`, [add(i)])
  }

  it.each([
    ['filter by type', { filter: { eventTypes: ['Add'] } }, (e: ReadEvent) => e.type === 'Add'],
    [
      'filter by stream',
      { filter: { streamPrefix: 'a-' } },
      (e: ReadEvent) => e.streamId.startsWith('a-'),
    ],
    [
      'query',
      { query: { items: [{ types: ['Add'], tags: ['x'] }, { types: ['Sub'] }] } },
      (e: ReadEvent) => (e.type === 'Add' && e.tags.includes('x')) || e.type === 'Sub',
    ],
    [
      'partition',
      { partition: { index: 1, count: 3 } },
      (e: ReadEvent) => partitionOf(e.streamId, 3) === 1,
    ],
  ] as const)('%s: folds only the events it selects', async (_, options, selects) => {
    const store = await opened({ storage: await openMemoryStorage() })
    await mixed(store)
    const key = (e: ReadEvent) => (e.streamId === '' ? 'none' : e.streamId)
    const p = await project(store, {
      ...(options as Partial<ProjectionOptions<Doc>>),
      key,
      evolve: (d, e) =>
        e.type === 'Del'
          ? undefined
          : { ...d, n: d.n + (e.data as { n: number }).n, ps: [...d.ps, e.position] },
    })
    const chosen = (await collect(store.readAll())).filter((e) => selects(e))
    const last = chosen.at(-1)?.position ?? -1
    expect(last).toBeGreaterThan(0)
    await caughtUp(p, last)
    await sleep(20)
    const want = new Map<string, Doc>()
    for (const e of chosen) {
      const k = key(e)
      if (e.type === 'Del') want.delete(k)
      else {
        const d = want.get(k) ?? { key: k, n: 0, ps: [] }
        want.set(k, { ...d, n: d.n + (e.data as { n: number }).n, ps: [...d.ps, e.position] })
      }
    }
    expect(await scanned(p)).toEqual(
      Object.fromEntries([...want].sort(([a], [b]) => (a < b ? -1 : 1))),
    )
    expect((await p.state())?.active.position).toBe(last)
  })
})

// -------------------------------------------------------------------------------------
// verification
// -------------------------------------------------------------------------------------

describe('a projection of more documents than it keeps in memory', () => {
  it('reads a document it wrote and forgot from the log, in a version it began', async () => {
    const store = await opened({ storage: await openMemoryStorage() })
    // 10,001 documents: the first is forgotten (the run keeps 10,000) before its second event.
    const streams = Array.from({ length: 10_001 }, (_, i) => `s-${i}`)
    for (let i = 0; i < streams.length; i += 1000) {
      await store.appendMulti(
        streams.slice(i, i + 1000).map((streamId) => ({ streamId, events: [add(1)] })),
      )
    }
    const projection = await store.projection<Doc>('big', { ...foldOf(), batch: 5000 })
    cleanup.push(() => projection.stop())
    await projection.caughtUp()
    await store.appendToStream('s-0', [add(1)])
    await projection.caughtUp()
    expect((await projection.get('s-0'))?.n).toBe(2)
    expect((await projection.get('s-10000'))?.n).toBe(1)
  }, 60_000)
})

describe('verifyStorage', () => {
  it('finds nothing wrong in a store with projections, rebuilds and snapshots', async () => {
    const memory = reopenableMemory()
    const store = await openEventStore({ storage: memory.open() })
    const p = await project(store, { batch: 2 })
    for (const s of ['a', 'b', 'c']) await store.appendToStream(s, [add(1), add(2), del, add(3)])
    await caughtUp(p, await lastPosition(store))
    await p.rebuild()
    const snapshot = { every: 2, version: 1 }
    const count = await store.aggregateStream('a', {
      initialState: 0,
      evolve: (n: number) => n + 1,
      snapshot,
    })
    expect(count).toBe(4)
    await store.appendToStream('a', [add(4), add(5)])
    await store.aggregateStream('a', { initialState: 0, evolve: (n: number) => n + 1, snapshot })
    await store.deleteStream('b')
    await store.close()
    const report = await verifyStorage(memory.base)
    expect(report.violations).toEqual([])
    const keys = new Set<string>()
    const log = await openLog({ storage: memory.open(), readOnly: true })
    for await (const k of log.keys()) keys.add(TEXT.decode(k).slice(0, 2))
    await log.close()
    expect([...keys]).toEqual(expect.arrayContaining(['p/', 'q/', 's/']))
  })
})
