// Index layouts for Dynamic Consistency Boundaries (dcb.events): events carry tags, a query is a
// list of items (any of its types, all of its tags), and a conditional append fails when an
// event above `after` matches. Each layout is emulated with the raw addon alone, beside E, the
// events without an index, in the same process and run:
//
//   E   `E | position u64 BE` → the event: its type, its tags and 80 bytes of data. The check
//       reads the events above `after`.
//   P   E and one empty-valued posting per tag and per type of every event:
//       `T | tag 0x00 | position u64 BE` and `Y | type 0x00 | position u64 BE`. An item is a
//       leapfrog of seeks (`gte`, limit 1) over its tags (all of) and types (any of: the lowest
//       of one seek each) from `after + 1`, until every dimension agrees on a position.
//   P+  P, with each tag posting valued with the event's type and its other tags, so that an item
//       walks its tags' postings above `after` (a chunk of each at a time) and filters them by
//       value, with no second lookup; the walk that ends first has seen every match.
//   L   E and one key per tag and per type holding only its newest position, overwritten:
//       `t | tag` and `y | type` → u64. An item whose keys are not all above `after` cannot match
//       (a get each); otherwise L cannot tell whether one event holds them all and reads the
//       events above `after`. It has no way to read a query without reading the whole log.
//
//   npx tsx benchmarks/dcbLayouts.ts [--quick] [--out FILE]
//
// Logs of 10,000, 100,000 and 1,000,000 events (quick: 10,000 and 100,000), written in commits
// of 256 events, one `batch_do` each without sync, then compacted. Prints a markdown report;
// writes JSON to benchmarks/results/dcb-layouts.json (dcb-layouts-quick.json with --quick).
import { mkdir, writeFile } from 'node:fs/promises'
import { cpus, loadavg, platform, release } from 'node:os'
import { dirname, join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { parseArgs } from 'node:util'
import { makeTempDir, removeDir } from '../test/support/tmpdir.js'
import { LAYOUTS, type Layout, type LayoutId, type Work } from './dcbLayouts/candidates.js'
import {
  courseTag,
  events,
  firstMatch,
  studentPositions,
  studentTag,
  tagsOf,
  TAGS,
  TYPES,
  typeOf,
  type Events,
  type Item,
  type Query,
} from './dcbLayouts/events.js'
import { render, type CaseSpec, type LatencyRow, type WriteRow } from './dcbLayouts/report.js'
import { diskBytes, random } from './layouts/workloads.js'
import { percentile, summarise, time } from './measure.js'
import { openRaw, rawBindingInfo, type RawDb } from './raw.js'

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    out: { type: 'string' },
  },
})
const quick = args.quick ?? false

const SIZES = quick ? [10_000, 100_000] : [10_000, 100_000, 1_000_000]
const sizes = quick ? { rounds: 3, checks: 300, reads: 20 } : { rounds: 3, checks: 1000, reads: 50 }
/** Events per commit. */
const COMMIT = 256
/** A check's `after` is this far below the head: the window a decision made a moment ago missed. */
const GAP = 100
/** The entities a check asks about are those of an event among the newest this many. */
const RECENT = 1000
/** Unmeasured calls at the start of every round, on a freshly opened database. */
const WARM_UP = 50

const out =
  args.out ??
  join(
    new URL('..', import.meta.url).pathname,
    'benchmarks/results',
    quick ? 'dcb-layouts-quick.json' : 'dcb-layouts.json',
  )
const started = performance.now()
const log = (message: string): void => {
  const seconds = ((performance.now() - started) / 1000).toFixed(0).padStart(4)
  process.stderr.write(`${seconds} s  ${message}\n`)
}

const withDb = async <A>(path: string, work: (db: RawDb) => Promise<A>): Promise<A> => {
  const db = await openRaw(path)
  try {
    return await work(db)
  } finally {
    await db.close()
  }
}

// -------------------------------------------------------------------------------------
// writing
// -------------------------------------------------------------------------------------

/** Writes events `1..n` in commits of `COMMIT`; returns the puts and bytes handed to the addon. */
const writeLog = async (
  db: RawDb,
  layout: Layout,
  e: Events,
  n: number,
): Promise<{ puts: number; bytes: number }> => {
  let puts = 0
  let bytes = 0
  for (let from = 1; from <= n; from += COMMIT) {
    const ops = layout.encode(e, from, Math.min(n, from + COMMIT - 1))
    puts += ops.length
    for (const op of ops) bytes += op.key.length + op.value.length
    await db.batch(ops, false)
  }
  return { puts, bytes }
}

// -------------------------------------------------------------------------------------
// cases
// -------------------------------------------------------------------------------------

/** One call of a case: a check's query and the answer the model gives, or a read's item. */
interface Call {
  readonly query: Query
  /** A check's `after`. */
  readonly after: number
  readonly expected: ReadonlyArray<number>
}

interface Case extends CaseSpec {
  readonly kind: 'check' | 'read'
  /** The layouts that run the case, if not all. */
  readonly layouts?: ReadonlyArray<LayoutId>
  /** `count` calls on a log of `n` events, drawn with `next`. */
  readonly calls: (e: Events, n: number, next: () => number, count: number) => Call[]
}

const recent = (n: number, next: () => number): number =>
  n - Math.floor(next() * Math.min(n, RECENT))

/** Checks with `after = n - GAP` of the queries `draw` makes, answered by the model. */
const checks =
  (draw: (e: Events, n: number, next: () => number, i: number) => Query) =>
  (e: Events, n: number, next: () => number, count: number): Call[] =>
    Array.from({ length: count }, (_, i) => {
      const query = draw(e, n, next, i)
      const found = firstMatch(e, query, n - GAP, n)
      return { query, after: n - GAP, expected: found === undefined ? [] : [found] }
    })

const twoTags = (e: Events, p: number): Item => ({ tags: tagsOf(e, p) })

const CASES: ReadonlyArray<Case> = [
  {
    id: 'two-tags',
    kind: 'check',
    title: '(a) one item, two tags',
    setup:
      `the course and student tags of one of the newest ${RECENT} events, all of them; ` +
      `\`after\` = head − ${GAP}`,
    calls: checks((e, n, next) => [twoTags(e, recent(n, next))]),
  },
  {
    id: 'type-and-tag',
    kind: 'check',
    title: '(b) one item, a type and a tag',
    setup: `the type and course tag of one of the newest ${RECENT} events; \`after\` = head − ${GAP}`,
    calls: checks((e, n, next) => {
      const p = recent(n, next)
      return [{ types: [typeOf(e, p)], tags: [tagsOf(e, p)[0]] }]
    }),
  },
  {
    id: 'two-items',
    kind: 'check',
    title: '(c) two items',
    setup:
      `(a)'s item, and the type and student tag of another of the newest ${RECENT} events; ` +
      `\`after\` = head − ${GAP}`,
    calls: checks((e, n, next) => {
      const q = recent(n, next)
      return [twoTags(e, recent(n, next)), { types: [typeOf(e, q)], tags: [tagsOf(e, q)[1]] }]
    }),
  },
  {
    id: 'unused-tag',
    kind: 'check',
    title: '(d) a tag never used',
    setup: `one item of one tag no event carries; \`after\` = head − ${GAP}`,
    calls: checks((_e, _n, _next, i) => [{ tags: [`unused-${i}`] }]),
  },
  {
    id: 'no-after',
    kind: 'check',
    title: '(e) two tags, no `after`',
    setup:
      'the course and student tags of a random event of the whole log, with no `after`: ' +
      'whether any event ever held both (one always did); P and P+ only, as E and L read the ' +
      'log from its first event',
    layouts: ['P', 'P+'],
    calls: (e, n, next, count) => {
      const students = studentPositions(e, n)
      return Array.from({ length: count }, () => {
        const p = 1 + Math.floor(next() * n)
        const c = e.course[p] ?? 0
        const s = e.student[p] ?? 0
        const first = (students[s] ?? []).find((q) => e.course[q] === c)
        return {
          query: [{ tags: [courseTag(c), studentTag(s)] }],
          after: 0,
          expected: first === undefined ? [] : [first],
        }
      })
    },
  },
  {
    id: 'read-two-tags',
    kind: 'read',
    title: 'read(query), two tags',
    setup:
      'every position whose event holds the course and student tags of a random event of the ' +
      'whole log, read from the first event',
    calls: (e, n, next, count) => {
      const students = studentPositions(e, n)
      return Array.from({ length: count }, () => {
        const p = 1 + Math.floor(next() * n)
        const c = e.course[p] ?? 0
        const s = e.student[p] ?? 0
        return {
          query: [{ tags: [courseTag(c), studentTag(s)] }],
          after: 0,
          expected: (students[s] ?? []).filter((q) => e.course[q] === c),
        }
      })
    },
  },
]

const same = (a: ReadonlyArray<number>, b: ReadonlyArray<number>): boolean =>
  a.length === b.length && a.every((x, i) => x === b[i])

/** One round of a case on one layout: p50 and p99 in µs and the work done besides seeks. */
const round = async (
  db: RawDb,
  layout: Layout,
  c: Case,
  calls: ReadonlyArray<Call>,
  n: number,
): Promise<{ p50: number; p99: number; work: Work; matched: number }> => {
  const run = async (call: Call, work: Work): Promise<ReadonlyArray<number>> => {
    if (c.kind === 'read') {
      const read = layout.read
      if (read === undefined) throw new Error(`${layout.id} cannot read`)
      return read(db, call.query[0] as Item)
    }
    const found = await layout.check(db, call.query, call.after, n, work)
    return found === undefined ? [] : [found]
  }
  const idle: Work = { fallbacks: 0, scanned: 0 }
  for (let i = 0; i < WARM_UP; i++) await run(calls[i % calls.length] as Call, idle)
  const work: Work = { fallbacks: 0, scanned: 0 }
  const samples: number[] = []
  let matched = 0
  for (const call of calls) {
    const start = performance.now()
    const got = await run(call, work)
    samples.push((performance.now() - start) * 1000)
    if (!same(got, call.expected)) {
      throw new Error(
        `${layout.id}, ${c.id}, ${n} events: ${JSON.stringify(call.query)} gave ` +
          `${got.slice(0, 5).join()} (${got.length}), expected ` +
          `${call.expected.slice(0, 5).join()} (${call.expected.length})`,
      )
    }
    matched += c.kind === 'read' ? got.length : got.length > 0 ? 1 : 0
  }
  samples.sort((a, b) => a - b)
  return { p50: percentile(samples, 0.5), p99: percentile(samples, 0.99), work, matched }
}

// -------------------------------------------------------------------------------------
// main
// -------------------------------------------------------------------------------------

const NOTES = [
  `${TAGS.toLocaleString('en-US')} distinct tags once the log is large enough: 100 courses ` +
    '(skewed, the most common on about a tenth of the events) and 9,900 students (uniform); ' +
    `${TYPES} types (skewed, the most common on about a third). Every event has one of each tag.`,
  `Every layout writes the same events in commits of ${COMMIT}, one \`batch_do\` without sync, ` +
    'timed from the first commit to the last (encoding included); then the bytes on disk are ' +
    'taken (database closed) and the log is compacted, untimed, so that the reads meet a ' +
    'settled tree at every size rather than whatever level-0 backlog the writes left.',
  'Every timed call is checked against the answer of an in-memory model of the events: a check ' +
    'must give the first matching position above `after`, a read every matching position.',
  `Latency rounds open the database and make ${WARM_UP} unmeasured calls before measuring; each ` +
    'round starts one layout later than the one before. One seek is an iterator opened with ' +
    '`gte`/`lte` and a limit of 1, one `next` and its end: three calls into the addon.',
  'A query names its tags in the order the event holds them, course first: P+ walks every ' +
    'tag of an item at once and stops at the shortest walk, so the order does not matter to it.',
  'E and L read no index for a query: L has no way to list the events of a tag, and a read ' +
    'by E or L is a scan of the whole log (n/a here).',
  `E's and L's checks read the events above \`after\` (L only when every key of an item is ` +
    `above it): they are flat here because \`after\` stays ${GAP} below the head at every ` +
    'size, and grow with the distance from `after` to the head, whatever the log’s size.',
  'Without `after` (case e) and in a read, P and P+ cost in proportion to the postings of the ' +
    'item’s rarest tag (about n / 9,900 for a student): P makes a seek per posting up to the ' +
    'first match, P+ reads them a chunk at a time, but its other walks (the course’s, up to ' +
    '1000 postings a chunk) read a whole chunk too.',
]

interface Result {
  readonly writes: WriteRow[]
  readonly latencies: LatencyRow[]
}

/** Each layout's database of each size, by size, then layout. */
type Paths = ReadonlyMap<number, ReadonlyMap<LayoutId, string>>

/** Writes, measures and compacts every layout's log of `n` events in `root`. */
const writeSize = async (
  root: string,
  e: Events,
  n: number,
  writes: WriteRow[],
): Promise<ReadonlyMap<LayoutId, string>> => {
  const paths = new Map<LayoutId, string>()
  for (const layout of LAYOUTS) {
    log(`${n} events: writing ${layout.id}…`)
    const path = join(root, `${layout.id}-${n}`)
    paths.set(layout.id, path)
    let written = { puts: 0, bytes: 0 }
    const ms = await withDb(path, (db) =>
      time(async () => {
        written = await writeLog(db, layout, e, n)
      }),
    )
    const disk = await diskBytes(path)
    await withDb(path, (db) => db.compact(Buffer.of(0x00), Buffer.of(0xff)))
    writes.push({
      events: n,
      layout: layout.id,
      microsPerEvent: (ms * 1000) / n,
      batchBytesPerEvent: written.bytes / n,
      putsPerEvent: written.puts / n,
      diskBytesPerEvent: disk / n,
    })
  }
  return paths
}

/**
 * Runs `sizes.rounds` rounds of a case on every layout and log size. Each round starts one size
 * and one layout later than the one before, so that none always runs first, on a cold process.
 */
const measureCase = async (e: Events, c: Case, paths: Paths): Promise<LatencyRow[]> => {
  log(`${c.title}…`)
  const count = c.kind === 'read' ? sizes.reads : sizes.checks
  const calls = new Map(
    SIZES.map((n) => {
      const next = random(n + c.id.length)
      return [n, Array.from({ length: sizes.rounds }, () => c.calls(e, n, next, count))] as const
    }),
  )
  const able = LAYOUTS.filter(
    (l) =>
      (c.layouts === undefined || c.layouts.includes(l.id)) &&
      (c.kind === 'check' || l.read !== undefined),
  )
  const rounds = new Map<string, Array<Awaited<ReturnType<typeof round>>>>()
  for (let r = 0; r < sizes.rounds; r++) {
    for (let s = 0; s < SIZES.length; s++) {
      const n = SIZES[(r + s) % SIZES.length] as number
      for (let i = 0; i < able.length; i++) {
        const layout = able[(r + i) % able.length] as Layout
        const path = paths.get(n)?.get(layout.id) ?? ''
        const one = await withDb(path, (db) => round(db, layout, c, calls.get(n)?.[r] ?? [], n))
        const key = `${n} ${layout.id}`
        rounds.set(key, [...(rounds.get(key) ?? []), one])
      }
    }
  }
  return SIZES.flatMap((n) =>
    able.map((layout) => {
      const rs = rounds.get(`${n} ${layout.id}`) ?? []
      const total = rs.length * count
      return {
        case: c.id,
        events: n,
        layout: layout.id,
        p50: summarise(rs.map((x) => x.p50)),
        p99: summarise(rs.map((x) => x.p99)),
        fallbackShare: rs.reduce((a, x) => a + x.work.fallbacks, 0) / total,
        scannedPerCall: rs.reduce((a, x) => a + x.work.scanned, 0) / total,
        matched: rs.reduce((a, x) => a + x.matched, 0) / total,
      }
    }),
  )
}

const main = async (): Promise<void> => {
  const loadAtStart = loadavg()[0] ?? NaN
  const e = events(Math.max(...SIZES))
  const result: Result = { writes: [], latencies: [] }
  const root = await makeTempDir('bench-dcb-layouts')
  try {
    const paths = new Map<number, ReadonlyMap<LayoutId, string>>()
    for (const n of SIZES) paths.set(n, await writeSize(root, e, n, result.writes))
    for (const c of CASES) result.latencies.push(...(await measureCase(e, c, paths)))
  } finally {
    await removeDir(root)
  }
  const report = {
    quick,
    sizes: SIZES,
    layouts: LAYOUTS.map(({ id, name }) => ({ id, name })),
    writes: result.writes,
    cases: CASES.map(({ id, title, setup }) => ({ id, title, setup })),
    latencies: result.latencies,
    seconds: (performance.now() - started) / 1000,
    load: { start: loadAtStart, end: loadavg()[0] ?? NaN },
    notes: NOTES,
  }
  console.log(render(report))
  const machine = {
    cores: cpus().length,
    cpu: cpus()[0]?.model ?? 'unknown',
    node: process.versions.node,
    platform: `${platform()} ${release()}`,
    date: new Date().toISOString(),
  }
  const json = {
    machine,
    binding: await rawBindingInfo(),
    parameters: { ...sizes, COMMIT, GAP, RECENT },
    ...report,
  }
  await mkdir(dirname(out), { recursive: true })
  await writeFile(out, `${JSON.stringify(json, null, 2)}\n`)
  log(`done; wrote ${out}`)
}

await main()
