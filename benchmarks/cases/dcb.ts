// DCB case (dcb.events): conditional appends on a store that already holds a large log of
// tagged events. Each event carries two tags, a course (100, skewed) and a student (9,900,
// uniform), as the DCB index layouts were measured with (dcbLayouts/events.ts). 256 producers
// each append one event on the condition that no event holding both of its tags lies above the
// newest position the process knows, durably, against better-sqlite3 doing the check and the
// insert in one `synchronous = FULL` transaction; then one producer's conditional append against
// a plain stream append on the same store, and what the check costs on a small and a large log.
// On PostgreSQL, the same workload against `pg` on a pool of 10 (`dcbPostgres`).
import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import * as E from 'fp-ts/lib/Either.js'
import pg from 'pg'
import { DeltalogError, openEventStore, type EventStore } from '../../src/index.js'
import { makeStateCache } from '../../src/eventstore/cache.js'
import { firstMatch } from '../../src/eventstore/lookup.js'
import { validateQuery, type Items } from '../../src/eventstore/query.js'
import { visibleAt } from '../../src/eventstore/streams.js'
import { openPostgresStorage } from '../../src/postgres/storage.js'
import type { Storage } from '../../src/storage/port.js'
import {
  COURSES,
  events,
  STUDENTS,
  courseTag,
  studentTag,
  tagsOf,
  typeName,
  typeOf,
} from '../dcbLayouts/events.js'
import { random } from '../layouts/workloads.js'
import {
  figure,
  inDir,
  paired,
  percentile,
  producers,
  target,
  type CaseResult,
  type Figure,
} from '../measure.js'
import {
  EVENT_DATA,
  openPostgresDcb,
  openSqliteDcb,
  type DcbSide,
  type Tags,
} from './dcbBaselines.js'

export interface DcbSizes {
  /** Events stored before anything is timed: the large log. */
  readonly events: number
  /** The small log the condition check's cost is compared on. */
  readonly smallEvents: number
  /** How long each side appends per round. */
  readonly ms: number
  /** Single appends of each kind per round, for the latencies. */
  readonly appends: number
  /** Appends of each kind per log per round, for the condition check's cost. */
  readonly checks: number
  readonly rounds: number
}

const PRODUCERS = 256
/** Events per append while preloading. */
const PRELOAD_BATCH = 1000
/** The type of every event the producers append. */
const TYPE = typeName(0)
// pg's default pool size, for both sides.
const POOL = 10
/** A check's `after` is this far below the head: the window a decision made a moment ago missed. */
const GAP = 100

// -------------------------------------------------------------------------------------
// the workload
// -------------------------------------------------------------------------------------

/** A course and a student drawn as the preloaded events' are: pairs are rarely repeated. */
const drawTags = (next: () => number): Tags => [
  courseTag(Math.floor(next() ** 2 * COURSES)),
  studentTag(Math.floor(next() * STUDENTS)),
]

/** Decided appends (appended or refused) per second, and how many of them were refused. */
interface Contention {
  readonly rate: number
  readonly appended: number
  readonly failed: number
}

/**
 * `count` producers appending one event each at a time for `ms`, each with the condition that
 * no event holding both its tags lies above the head the process knows when it appends.
 */
const contend = async (
  side: DcbSide,
  count: number,
  ms: number,
  seed: number,
): Promise<Contention> => {
  const draws = Array.from({ length: count }, (_, p) => random(seed * 1000 + p))
  let appended = 0
  let failed = 0
  const rate = await producers(count, ms, async (p) => {
    const tags = drawTags(draws[p] ?? Math.random)
    if (await side.append(TYPE, tags, side.head())) appended++
    else failed++
  })
  return { rate, appended, failed }
}

/** The total of several rounds' contention, for the notes. */
const tally = (xs: ReadonlyArray<Contention>): string => {
  const appended = xs.reduce((n, x) => n + x.appended, 0)
  const failed = xs.reduce((n, x) => n + x.failed, 0)
  return `${appended.toLocaleString('en-US')} appended, ${failed.toLocaleString('en-US')} refused`
}

// -------------------------------------------------------------------------------------
// deltalog
// -------------------------------------------------------------------------------------

const input = (type: string, tags: ReadonlyArray<string>) => ({ type, data: EVENT_DATA, tags })

/** The condition of an append of an event tagged `tags`: no event holding both above `after`. */
const conditionOn = (tags: Tags, after: number) => ({
  condition: { failIfEventsMatch: { items: [{ tags }] }, after },
})

/** Appends the model's events in appends of PRELOAD_BATCH; the last one's position. */
const preloadStore = async (store: EventStore, n: number): Promise<number> => {
  const e = events(n)
  let head = 0
  for (let from = 1; from <= n; from += PRELOAD_BATCH) {
    const batch = []
    for (let p = from; p < from + PRELOAD_BATCH && p <= n; p++) {
      batch.push(input(typeOf(e, p), tagsOf(e, p)))
    }
    head = (await store.append(batch)).position
  }
  return head
}

/** deltalog as a side of the case: the head is the newest position an append resolved to. */
const deltalogSide = (store: EventStore, preloaded: number): DcbSide => {
  let head = preloaded
  return {
    append: async (type, tags, after) => {
      try {
        const r = await store.append([input(type, tags)], conditionOn(tags, after))
        head = Math.max(head, r.position)
        return true
      } catch (error) {
        if (error instanceof DeltalogError && error.code === 'APPEND_CONDITION_FAILED') {
          return false
        }
        throw error
      }
    },
    head: () => head,
  }
}

const p50 = (xs: ReadonlyArray<number>): number =>
  percentile(
    [...xs].sort((a, b) => a - b),
    0.5,
  )

/** Milliseconds of each call of `a` and of `b`, `n` of each, alternating. */
const alternate = async (
  n: number,
  a: (i: number) => Promise<unknown>,
  b: (i: number) => Promise<unknown>,
): Promise<{ readonly a: ReadonlyArray<number>; readonly b: ReadonlyArray<number> }> => {
  const as: number[] = []
  const bs: number[] = []
  const timed = async (f: (i: number) => Promise<unknown>, i: number, out: number[]) => {
    const start = performance.now()
    await f(i)
    out.push(performance.now() - start)
  }
  for (let i = 0; i < n; i++) {
    // Each goes first every other time, so that neither always follows the other's commit.
    if (i % 2 === 0) {
      await timed(a, i, as)
      await timed(b, i, bs)
    } else {
      await timed(b, i, bs)
      await timed(a, i, as)
    }
  }
  return { a: as, b: bs }
}

/**
 * p50s of one producer's conditional appends (a fresh pair of tags, after the head) and of plain
 * `appendToStream` calls (no condition, no tags) on the same store, alternating.
 */
const latencies = async (store: EventStore, side: DcbSide, n: number, round: number) => {
  const next = random(round + 77)
  const r = await alternate(
    n,
    () => side.append(TYPE, drawTags(next), side.head()),
    () => store.appendToStream(`plain-${round}`, [{ type: TYPE, data: EVENT_DATA }]),
  )
  return { conditional: p50(r.a), plain: p50(r.b) }
}

/** A checked query of one item, both tags: what a condition's check is handed. */
const itemsOf = (tags: Tags): Items => {
  const checked = validateQuery({ items: [{ tags }] }, 'query', {})
  if (E.isLeft(checked)) throw new Error(checked.left.message)
  return checked.right
}

/**
 * µs of the condition check alone, p50 of `n`: the store's own lookup (`firstMatch`, what its
 * writer runs for every conditional append, with the same test of a match's visibility) of a
 * drawn pair of tags, `GAP` below the head.
 */
const checkAlone = async (store: EventStore, head: number, n: number, round: number) => {
  const next = random(round + 501)
  const streams = { log: store.log, states: makeStateCache() }
  const visible = (position: number) => visibleAt(streams, position)
  const samples: number[] = []
  for (let i = 0; i < n; i++) {
    const items = itemsOf(drawTags(next))
    const start = performance.now()
    await firstMatch(store.log, items, head - GAP, visible)
    samples.push((performance.now() - start) * 1000)
  }
  return p50(samples)
}

/**
 * µs that a condition adds to one producer's append on a store opened buffered, so that no
 * fsync hides it: the p50 of conditional appends less the p50 of the same appends without
 * their condition, alternating. Each append adds an event: this runs once per log.
 */
const checkInAppends = async (store: EventStore, side: DcbSide, n: number): Promise<number> => {
  const next = random(909)
  const r = await alternate(
    n,
    () => side.append(TYPE, drawTags(next), side.head()),
    () => store.append([input(TYPE, drawTags(next))]),
  )
  return (p50(r.a) - p50(r.b)) * 1000
}

// -------------------------------------------------------------------------------------
// the cases
// -------------------------------------------------------------------------------------

const count = (n: number): string => n.toLocaleString('en-US')

/** A store at `path` or on `storage` holding the model's first `n` events, open buffered. */
const openPreloaded = async (at: { path: string } | { storage: Storage }, n: number) => {
  const store = await openEventStore({ ...at, durability: 'buffered' })
  const head = await preloadStore(store, n)
  return { store, side: deltalogSide(store, head), head }
}

/** The condition check's cost on a large and a small log, both open buffered. */
const measureChecks = async (dir: string, sizes: DcbSizes) => {
  const large = await openPreloaded({ path: join(dir, 'large') }, sizes.events)
  const small = await openPreloaded({ path: join(dir, 'small') }, sizes.smallEvents)
  try {
    const check = figure(
      `condition check alone, ${count(sizes.events)} events stored`,
      'µs',
      `the same, ${count(sizes.smallEvents)} events stored`,
      await paired(
        sizes.rounds,
        (round) => checkAlone(large.store, large.head, sizes.checks, round),
        (round) => checkAlone(small.store, small.head, sizes.checks, round),
      ),
    )
    const inAppends = [
      await checkInAppends(large.store, large.side, sizes.checks),
      await checkInAppends(small.store, small.side, sizes.checks),
    ] as const
    return { check, inAppends, head: large.side.head() }
  } finally {
    await small.store.close()
    await large.store.close()
  }
}

/** 256 producers' conditional appends on `side` against `baseline`'s (`theirs` producers). */
const measureContention = async (
  side: DcbSide,
  baseline: DcbSide,
  theirs: number,
  sizes: Pick<DcbSizes, 'ms' | 'rounds'>,
  labels: { readonly subject: string; readonly baseline: string },
) => {
  const ours: Contention[] = []
  const their: Contention[] = []
  const contention = figure(
    labels.subject,
    'appends/s',
    labels.baseline,
    await paired(
      sizes.rounds,
      async (round) => (ours[round] = await contend(side, PRODUCERS, sizes.ms, round)).rate,
      async (round) => (their[round] = await contend(baseline, theirs, sizes.ms, round)).rate,
    ),
  )
  return { contention, ours: tally(ours), theirs: tally(their) }
}

export const dcb = async (sizes: DcbSizes): Promise<CaseResult> =>
  inDir('dcb', async (dir) => {
    const sqlite = openSqliteDcb(join(dir, 'baseline.sqlite'))
    try {
      sqlite.preload(events(sizes.events))
      const checks = await measureChecks(dir, sizes)
      // The preload was buffered; from here every append is durable.
      const store = await openEventStore({ path: join(dir, 'large'), durability: 'sync' })
      try {
        const side = deltalogSide(store, checks.head)
        // better-sqlite3 is synchronous: one producer, one durable transaction at a time.
        const c = await measureContention(side, sqlite, 1, sizes, {
          subject: `deltalog, ${PRODUCERS} producers, conditional appends, sync`,
          baseline: 'better-sqlite3, WAL, synchronous = FULL, check and insert in one transaction',
        })
        const rounds = []
        for (let round = 0; round < sizes.rounds; round++) {
          rounds.push(await latencies(store, side, sizes.appends, round))
        }
        const latency = figure(
          "one producer's conditional append p50, sync",
          'ms',
          'appendToStream p50 on the same store, no condition, no tags',
          { subject: rounds.map((r) => r.conditional), baseline: rounds.map((r) => r.plain) },
        )
        return dcbResult(sizes, { ...c, latency, ...checks })
      } finally {
        await store.close()
      }
    } finally {
      sqlite.close()
    }
  })

const dcbResult = (
  sizes: DcbSizes,
  r: {
    readonly contention: Figure
    readonly latency: Figure
    readonly check: Figure
    readonly ours: string
    readonly theirs: string
    readonly inAppends: readonly [number, number]
  },
): CaseResult => ({
  id: 'dcb',
  title: 'Conditional appends (DCB)',
  setup:
    `${count(sizes.events)} events with two tags each (${count(COURSES + STUDENTS)} distinct ` +
    `tags) stored before timing; ${PRODUCERS} producers appending one event each, on the ` +
    'condition that no event holding both its tags lies above the newest position known, for ' +
    `${sizes.ms} ms per side per round; ${count(sizes.appends)} single appends of each kind ` +
    `per round; ${count(sizes.checks)} checks per log per round`,
  rounds: sizes.rounds,
  figures: [r.contention, r.latency, r.check],
  targets: [
    target(r.contention, 'ratio', '>=', 10),
    target(r.latency, 'ratio', '<=', 1.5),
    target(r.check, 'ratio', '<=', 1.3),
  ],
  notes: [
    `Conditions decided: deltalog ${r.ours}; better-sqlite3 ${r.theirs}. A refused append ` +
      "counts as decided: it is the condition's answer.",
    'The baseline has the layout `eventsourcing` found fastest for DCB: events (position ' +
      'INTEGER PRIMARY KEY, type, data) with an index on type, and tags (tag, position) as a ' +
      'WITHOUT ROWID B-tree; its check joins the two tags above `after`, LIMIT 1.',
    "The check alone is the store's lookup of the first event holding both tags above " +
      `\`after\`, ${GAP} positions below the head, as its writer runs it for every conditional ` +
      "append. In one producer's appends on stores opened buffered, the p50 of conditional " +
      'appends less that of the same appends without their condition was ' +
      `${r.inAppends[0].toFixed(1)} µs with ${count(sizes.events)} events stored and ` +
      `${r.inAppends[1].toFixed(1)} µs with ${count(sizes.smallEvents)}.`,
  ],
})

export interface DcbPostgresSizes {
  /** Events stored before anything is timed, on each side. */
  readonly events: number
  /** How long each side appends per round. */
  readonly ms: number
  readonly rounds: number
}

/** The same 256 producers on PostgreSQL: deltalog/postgres against `pg` on a pool of 10. */
export const dcbPostgres = async (url: string, sizes: DcbPostgresSizes): Promise<CaseResult> => {
  const pool = new pg.Pool({ connectionString: url, max: POOL })
  const table = `bench_${randomBytes(6).toString('hex')}`
  const storage = () => openPostgresStorage({ pool, table })
  try {
    const baseline = await openPostgresDcb(pool, `${table}_sql`)
    await baseline.preload(events(sizes.events))
    const preloaded = await openPreloaded({ storage: await storage() }, sizes.events)
    await preloaded.store.close()
    const store = await openEventStore({ storage: await storage(), durability: 'sync' })
    try {
      const c = await measureContention(
        deltalogSide(store, preloaded.head),
        baseline,
        PRODUCERS,
        sizes,
        {
          subject: `deltalog on PostgreSQL, ${PRODUCERS} producers, conditional appends, sync`,
          baseline: `pg, ${PRODUCERS} producers on a pool of ${POOL}, check and insert in one transaction`,
        },
      )
      return {
        id: 'dcb-postgres',
        title: 'Conditional appends (DCB) on PostgreSQL',
        setup:
          `${count(sizes.events)} events with two tags each stored on each side before timing; ` +
          `${PRODUCERS} producers appending one event each on a condition on its two tags, ` +
          `for ${sizes.ms} ms per side per round`,
        rounds: sizes.rounds,
        figures: [c.contention],
        targets: [target(c.contention, 'ratio', '>=', 5)],
        notes: [
          `Conditions decided: deltalog ${c.ours}; pg ${c.theirs}.`,
          'The baseline has the tables and B-tree indexes of the SQLite one; each append is ' +
            'one call of a PL/pgSQL function that locks the events table in EXCLUSIVE mode, ' +
            'checks and inserts, as `eventsourcing` does on PostgreSQL: without the lock, two ' +
            'transactions could pass their checks before either commits. Both commit with ' +
            'synchronous_commit = on.',
        ],
      }
    } finally {
      await store.close()
    }
  } finally {
    await pool.query(
      `DROP TABLE IF EXISTS "${table}", "${table}_meta", "${table}_sql", "${table}_sql_tags"; ` +
        `DROP FUNCTION IF EXISTS "${table}_sql_append"`,
    )
    await pool.end()
  }
}
