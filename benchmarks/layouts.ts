// Format v2 candidates: layouts that store a run of entries (one key's consecutive sequences in
// one commit) as one RocksDB record, emulated with the raw addon alone and measured against L0,
// the raw layout of one record per entry, in the same process and run.
//
//   L0  one record per entry: format | type | escape(key) 0x00 | sequence u64 BE → the value.
//   LS  sequence-primary. One commit record per commit, C | firstSequence → a 40-byte header
//       (standing for the previous commit's end and a checksum), then every run packed:
//       varint(keyLength) key varint(count), then varint(valueLength) value per entry. And one
//       index record per run, K | escape(key) 0x00 | runFirstSequence → varint(count),
//       commitFirstSequence u64, varint(the run's byte offset in the commit record).
//   LK  key-primary. One run record per run, R | escape(key) 0x00 | runFirstSequence → the
//       run's values packed; and one commit record per commit, C | firstSequence → the header
//       and the runs as varint(keyLength) key varint(count), without values.
//   LH  hybrid: LS, except that a run whose packed values fit in `--inline` bytes (1024 unless
//       told) is also kept whole in its index record, so that a key scan of small runs needs no
//       get; larger runs keep the pointer.
//
//   npx tsx benchmarks/layouts.ts [--quick] [--inline BYTES] [--out FILE]
//
// Every commit is one `batch_do` without sync; values are 100 bytes. Prints a markdown report;
// writes JSON to benchmarks/results/layouts.json (layouts-quick.json with --quick).
import { mkdir, writeFile } from 'node:fs/promises'
import { cpus, loadavg, platform, release } from 'node:os'
import { dirname, join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { parseArgs } from 'node:util'
import { makeTempDir, removeDir } from '../test/support/tmpdir.js'
import { layouts, type Layout, type LayoutId } from './layouts/candidates.js'
import { VALUE_BYTES, type UserKey, type Visit } from './layouts/records.js'
import {
  render,
  type CaseResult,
  type DiskRow,
  type FigureResult,
  type FigureSpec,
} from './layouts/report.js'
import {
  bulkCommits,
  COMMIT_RECORDS,
  diskBytes,
  expectTally,
  KEYS,
  keySequences,
  MANY_KEYS,
  ONE_KEY,
  random,
  range,
  streams,
  STRIDE,
  tally,
  verify,
  writeCommits,
  type Spread,
} from './layouts/workloads.js'
import { inDir, percentile, perSecond, summarise, time, type Summary } from './measure.js'
import { openRaw, rawBindingInfo, type RawDb } from './raw.js'

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    inline: { type: 'string', default: '1024' },
    out: { type: 'string' },
  },
})
const quick = args.quick ?? false
const inline = Number(args.inline)
if (!Number.isInteger(inline) || inline < 0) throw new Error(`--inline ${args.inline}: bytes`)

// An append round is short (a tenth of a second for some layouts), so appends get more rounds.
const sizes = quick
  ? { bulk: 20_000, bulkRounds: 3, entries: 20_000, rounds: 3, keyScans: 200, reads: 200 }
  : { bulk: 300_000, bulkRounds: 9, entries: 1_000_000, rounds: 5, keyScans: 200, reads: 500 }
/** Unmeasured reads at the start of every latency round, on a freshly opened database. */
const WARM_UP = 50
const STREAMS = streams(5, 50, quick ? 100 : 1_000)

const out =
  args.out ??
  join(
    new URL('..', import.meta.url).pathname,
    'benchmarks/results',
    quick ? 'layouts-quick.json' : 'layouts.json',
  )
const started = performance.now()
/** Progress on stderr, each line with the seconds since the start. */
const log = (message: string): void => {
  const seconds = ((performance.now() - started) / 1000).toFixed(0).padStart(4)
  process.stderr.write(`${seconds} s  ${message}\n`)
}
const LAYOUTS = layouts(inline)

// -------------------------------------------------------------------------------------
// rounds
// -------------------------------------------------------------------------------------

/**
 * Runs `c.rounds` rounds of every layout. Each round starts one layout later than the one
 * before, so that no layout always runs first, on a cooler machine, or last, on a fuller disk.
 * `measure` returns one sample per figure, or undefined where the layout cannot do the case.
 */
const rounds = async (
  c: Omit<CaseResult, 'figures'>,
  figures: ReadonlyArray<FigureSpec>,
  measure: (layout: Layout, round: number) => Promise<ReadonlyArray<number> | undefined>,
): Promise<CaseResult> => {
  log(`${c.title}…`)
  const samples = new Map<LayoutId, Array<ReadonlyArray<number> | undefined>>(
    LAYOUTS.map((l) => [l.id, []]),
  )
  for (let round = 0; round < c.rounds; round++) {
    for (let i = 0; i < LAYOUTS.length; i++) {
      const layout = LAYOUTS[(round + i) % LAYOUTS.length] as Layout
      samples.get(layout.id)?.push(await measure(layout, round))
    }
  }
  const column = (id: LayoutId, f: number): ReadonlyArray<number> | undefined => {
    const all = samples.get(id) ?? []
    return all.every((s) => s !== undefined) ? all.map((s) => s?.[f] ?? NaN) : undefined
  }
  const result = (spec: FigureSpec, f: number): FigureResult => {
    const baseline = column('L0', f)
    const values: Partial<Record<LayoutId, Summary | null>> = {}
    const vsL0: Partial<Record<LayoutId, Summary | null>> = {}
    for (const { id } of LAYOUTS) {
      const own = column(id, f)
      values[id] = own === undefined ? null : summarise(own)
      vsL0[id] =
        own === undefined || baseline === undefined
          ? null
          : summarise(
              own.map((x, r) => {
                const b = baseline[r] ?? NaN
                return spec.better === 'higher' ? x / b : b / x
              }),
            )
    }
    return {
      ...spec,
      values: values as Record<LayoutId, Summary | null>,
      vsL0: vsL0 as Record<LayoutId, Summary | null>,
    }
  }
  return { ...c, figures: figures.map(result) }
}

const throughput = (label: string, unit: string): FigureSpec => ({ label, unit, better: 'higher' })
const latency = (label: string): FigureSpec => ({ label, unit: 'ms', better: 'lower' })

/** Opens a database for one piece of work, closing it whatever happens. */
const withDb = async <A>(path: string, work: (db: RawDb) => Promise<A>): Promise<A> => {
  const db = await openRaw(path)
  try {
    return await work(db)
  } finally {
    await db.close()
  }
}

/** The latencies of `reads` calls of `read`, after `WARM_UP` unmeasured ones, sorted. */
const latencies = async (reads: number, read: (i: number) => Promise<void>): Promise<number[]> => {
  const samples: number[] = []
  for (let i = 0; i < WARM_UP + reads; i++) {
    const start = performance.now()
    await read(i)
    if (i >= WARM_UP) samples.push(performance.now() - start)
  }
  return samples.sort((a, b) => a - b)
}

// -------------------------------------------------------------------------------------
// cases
// -------------------------------------------------------------------------------------

/** Bytes on disk after writing each data set, per layout (for appends, the last round's). */
const disk = new Map<string, DiskRow>()
const recordDisk = (dataset: string, entries: number, layout: LayoutId, bytes: number): void => {
  const row = disk.get(dataset) ?? { dataset, entries, bytes: {} }
  disk.set(dataset, { ...row, bytes: { ...row.bytes, [layout]: bytes } })
}

const spreadSetup = (spread: Spread): string =>
  spread === 'one key'
    ? 'to one key'
    : `to ${KEYS.toLocaleString('en-US')} keys, record j to stream-(j·${STRIDE} mod ${KEYS}), ` +
      'so every run is one entry'

const bulk = (spread: Spread): Promise<CaseResult> => {
  // Built once, before any timing: the values exist before an append, as a caller's would.
  const commits = [...bulkCommits(spread, sizes.bulk)]
  return rounds(
    {
      id: spread === 'one key' ? 'bulk-one-key' : 'bulk-many-keys',
      rounds: sizes.bulkRounds,
      title: `Bulk append, ${spread === 'one key' ? 'one key' : '10,000 keys'}`,
      setup:
        `${sizes.bulk.toLocaleString('en-US')} records per round in commits of ` +
        `${COMMIT_RECORDS} ${spreadSetup(spread)}; a fresh database per layout and round`,
    },
    [throughput('append', 'records/s')],
    (layout) =>
      inDir(`layouts-${layout.id}`, async (dir) => {
        const path = join(dir, 'db')
        const ms = await withDb(path, (db) => time(() => writeCommits(db, layout, commits)))
        recordDisk(`bulk append, ${spread}`, sizes.bulk, layout.id, await diskBytes(path))
        return [perSecond(sizes.bulk, ms)]
      }),
  )
}

/** One layout's databases for the read cases. */
interface Datasets {
  readonly oneKey: string
  readonly manyKeys: string
  readonly streams: string
}

/**
 * Writes one layout's read data sets, records their size on disk, compacts them and verifies
 * them. Compacted, every layout's reads meet a settled tree rather than the level-0 backlog its
 * bulk writes left (13 to 19 level-0 files for a million entries) and the compactions that
 * would otherwise run, on the same two cores, while they are timed.
 */
const writeDatasets = async (dir: string, layout: Layout): Promise<Datasets> => {
  const n = sizes.entries
  const paths = {
    oneKey: join(dir, 'one-key'),
    manyKeys: join(dir, 'many-keys'),
    streams: join(dir, 'streams'),
  }
  const specs = [
    {
      path: paths.oneKey,
      dataset: 'reads, one key',
      entries: n,
      write: (db: RawDb) => writeCommits(db, layout, bulkCommits('one key', n)),
      keys: [[ONE_KEY, range(1, n + 1)] as const],
    },
    {
      path: paths.manyKeys,
      dataset: 'reads, 10,000 keys',
      entries: n,
      write: (db: RawDb) => writeCommits(db, layout, bulkCommits('many keys', n)),
      keys: [0, 1, 4321, KEYS - 1].map(
        (k) => [MANY_KEYS[k] as UserKey, keySequences(k, n)] as const,
      ),
    },
    {
      path: paths.streams,
      dataset: 'readStream',
      entries: STREAMS.entries,
      write: (db: RawDb) => STREAMS.write(db, layout),
      keys: STREAMS.targets.map((key, t) => [key, STREAMS.sequencesOf(t)] as const),
    },
  ]
  for (const spec of specs) {
    await withDb(spec.path, spec.write)
    recordDisk(spec.dataset, spec.entries, layout.id, await diskBytes(spec.path))
    await withDb(spec.path, async (db) => {
      await db.compact(Buffer.of(0x00), Buffer.of(0xff))
      await verify(spec.dataset, layout, db, spec.entries, spec.keys)
    })
  }
  return paths
}

const reads = async (data: ReadonlyMap<LayoutId, Datasets>): Promise<CaseResult[]> => {
  const n = sizes.entries
  const pathOf = (layout: Layout, which: keyof Datasets): string => {
    const sets = data.get(layout.id)
    if (sets === undefined) throw new Error(`no data sets for ${layout.id}`)
    return sets[which]
  }
  const scanRate =
    (which: keyof Datasets, scan: (layout: Layout, db: RawDb, visit: Visit) => Promise<void>) =>
    (layout: Layout): Promise<ReadonlyArray<number>> =>
      withDb(pathOf(layout, which), async (db) => {
        const { t, visit } = tally()
        const ms = await time(() => scan(layout, db, visit))
        expectTally(`${layout.id} scan`, t, range(1, n + 1))
        return [perSecond(t.n, ms)]
      })
  const written = `${n.toLocaleString('en-US')} entries written in commits of ${COMMIT_RECORDS}`
  return [
    await rounds(
      {
        id: 'global-scan-one-key',
        rounds: sizes.rounds,
        title: 'Global scan, one key',
        setup: `${written} ${spreadSetup('one key')}; every value read`,
      },
      [throughput('global scan', 'entries/s')],
      scanRate('oneKey', (layout, db, visit) => layout.globalScan(db, visit)),
    ),
    await rounds(
      {
        id: 'global-scan-many-keys',
        rounds: sizes.rounds,
        title: 'Global scan, 10,000 keys',
        setup: `${written} ${spreadSetup('many keys')}; every value read`,
      },
      [throughput('global scan', 'entries/s')],
      scanRate('manyKeys', (layout, db, visit) => layout.globalScan(db, visit)),
    ),
    await rounds(
      {
        id: 'key-scan-one-key',
        rounds: sizes.rounds,
        title: 'Key scan, one key',
        setup: `the one-key data set; every value of the key read`,
      },
      [throughput('key scan', 'entries/s')],
      scanRate('oneKey', (layout, db, visit) => layout.keyScan(db, ONE_KEY, visit)),
    ),
    await rounds(
      {
        id: 'key-scan-many-keys',
        rounds: sizes.rounds,
        title: 'Key scan, one of 10,000 keys',
        setup:
          `the 10,000-key data set (${Math.round(n / KEYS)} entries a key); ` +
          `${sizes.keyScans} scans of random keys per round`,
      },
      [latency('key scan p50')],
      (layout, round) =>
        withDb(pathOf(layout, 'manyKeys'), async (db) => {
          const next = random(1000 + round)
          const samples = await latencies(sizes.keyScans, async () => {
            const k = Math.floor(next() * KEYS)
            const { t, visit } = tally()
            await layout.keyScan(db, MANY_KEYS[k] as UserKey, visit)
            expectTally(`${layout.id} key scan`, t, keySequences(k, n))
          })
          return [percentile(samples, 0.5)]
        }),
    ),
    await rounds(
      {
        id: 'read-stream',
        rounds: sizes.rounds,
        title: 'readStream',
        setup:
          `${STREAMS.targets.length} keys of ${STREAMS.events} entries, each entry a ` +
          `single-entry commit followed by a single-entry commit to each of ` +
          `${STREAMS.others.toLocaleString('en-US')} other keys; ${sizes.reads} key scans of ` +
          `a whole key per round, cycling through the ${STREAMS.targets.length} keys`,
      },
      [latency('readStream p50'), latency('readStream p99')],
      (layout) =>
        withDb(pathOf(layout, 'streams'), async (db) => {
          const samples = await latencies(sizes.reads, async (i) => {
            const target = i % STREAMS.targets.length
            const { t, visit } = tally()
            await layout.keyScan(db, STREAMS.targets[target] as UserKey, visit)
            expectTally(`${layout.id} readStream`, t, STREAMS.sequencesOf(target))
          })
          return [percentile(samples, 0.5), percentile(samples, 0.99)]
        }),
    ),
    await rounds(
      {
        id: 'point-read',
        rounds: sizes.rounds,
        title: 'Point read by sequence',
        setup: `the 10,000-key data set; ${sizes.reads} reads of random sequences per round`,
      },
      [latency('point read p50')],
      async (layout, round) => {
        const pointRead = layout.pointRead
        if (pointRead === undefined) return undefined
        return withDb(pathOf(layout, 'manyKeys'), async (db) => {
          const next = random(2000 + round)
          const samples = await latencies(sizes.reads, async () => {
            const sequence = 1 + Math.floor(next() * n)
            const value = await pointRead(db, sequence)
            if (value.length !== VALUE_BYTES || value.readUInt32BE(4) !== sequence) {
              throw new Error(`${layout.id}: wrong value at ${sequence}`)
            }
          })
          return [percentile(samples, 0.5)]
        })
      },
    ),
  ]
}

// -------------------------------------------------------------------------------------
// main
// -------------------------------------------------------------------------------------

const NOTES = [
  `Values are ${VALUE_BYTES} bytes, distinct and pseudo-random, so Snappy (on by default in the ` +
    'addon) finds nothing to compress in any layout.',
  "L0's global scan reads the entry records in key order, as v1's benchmark baseline does; over " +
    'many keys that is not the global sequence order that LS, LK and LH deliver.',
  'L0 has no sequence index, so it has no point read by sequence (n/a): v1 finds a sequence ' +
    'through its commit index, which L0 does not write.',
  'An append is timed from a commit already built, its values included, as a caller hands ' +
    'them over: L0 passes each value to the addon as it is, the other layouts copy them into ' +
    'their records; the time covers encoding and `batch_do`.',
  'The 40-byte commit header is space only: no checksum is computed on write or checked on read.',
  'Scans read 1 MiB iterator chunks, as deltalog’s adapter does. The scans that wait on gets (LS ' +
    'and LH key scans, the LK global scan) keep up to 256 gets in flight, ask for the next ' +
    'iterator chunk before decoding the current one, and get a commit record once for ' +
    'consecutive runs in it.',
  'The read data sets are compacted once after they are written (untimed), so that reads ' +
    "meet settled trees rather than each layout's level-0 backlog and the compactions it sets " +
    'off; the bytes on disk are measured before that compaction.',
  `Latency rounds open the database and make ${WARM_UP} unmeasured reads before measuring. ` +
    'The read data sets are written once per layout and read back byte for byte (a global ' +
    'scan, key scans, point reads) before anything is timed; timed reads check count, ' +
    'sequences and a byte of every value.',
  `LH inlines runs of up to ${inline} packed bytes. Every run here is either one entry ` +
    `(${VALUE_BYTES + 1} bytes packed) or ${COMMIT_RECORDS} entries, so any limit from ` +
    `${VALUE_BYTES + 1} bytes to ${(COMMIT_RECORDS * (VALUE_BYTES + 1)).toLocaleString('en-US')} ` +
    'stores the same records.',
]

const main = async (): Promise<void> => {
  const loadAtStart = loadavg()[0] ?? NaN
  const cases: CaseResult[] = [await bulk('one key'), await bulk('many keys')]
  const dirs: string[] = []
  try {
    const data = new Map<LayoutId, Datasets>()
    for (const layout of LAYOUTS) {
      log(`writing, compacting and verifying ${layout.id}'s read data sets…`)
      const dir = await makeTempDir(`bench-layouts-${layout.id}`)
      dirs.push(dir)
      data.set(layout.id, await writeDatasets(dir, layout))
    }
    cases.push(...(await reads(data)))
  } finally {
    for (const dir of dirs) await removeDir(dir)
  }
  const report = {
    quick,
    layouts: LAYOUTS.map(({ id, name }) => ({ id, name })),
    cases,
    disk: [...disk.values()],
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
  const json = { machine, binding: await rawBindingInfo(), sizes, inline, ...report }
  await mkdir(dirname(out), { recursive: true })
  await writeFile(out, `${JSON.stringify(json, null, 2)}\n`)
  log(`done; wrote ${out}`)
}

await main()
