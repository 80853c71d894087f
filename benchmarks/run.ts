// The benchmark suite: every case against its baseline, in one process and one run. Writes the
// results as JSON and, for a full run, as docs/benchmarks.md with one chart per case in
// docs/benchmarks/; prints the table of targets, met or missed, at the end.
//
//   npm run bench                      full sizes; docs/benchmarks.md and its charts,
//                                      benchmarks/results/latest.json
//   npm run bench:quick [-- --out DIR] small sizes, about a second a case; only DIR/quick.json
//                                      (DIR defaults to a new temporary directory)
//   npm run bench -- --render          only rewrites docs/benchmarks.md and its charts from
//                                      latest.json
//   npm run bench -- --only ID         runs one case (by its id) and puts its results in
//                                      latest.json in place of that case's
//
// The PostgreSQL case runs on the server at DELTALOG_BENCH_POSTGRES_URL (or
// DELTALOG_TEST_POSTGRES_URL); `npm run bench` starts a throwaway one (.ci/with-postgres).
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { cpus, loadavg, platform, release, totalmem } from 'node:os'
import { dirname, join } from 'node:path'
import { parseArgs } from 'node:util'
import * as prettier from 'prettier'
import { makeTempDir, removeDir } from '../test/support/tmpdir.js'
import { bulkAppendManyKeys, bulkAppendOneKey } from './cases/append.js'
import { dcb, dcbPostgres } from './cases/dcb.js'
import { eventStore } from './cases/eventStore.js'
import { followLatency } from './cases/follow.js'
import { groupCommit } from './cases/groupCommit.js'
import { postgres } from './cases/postgres.js'
import { projectionCatchUp, projectionLag } from './cases/projections.js'
import { boundedMemory } from './cases/memory.js'
import { reads, writeDataset } from './cases/reads.js'
import { readStream } from './cases/readStream.js'
import { recovery } from './cases/recovery.js'
import { snapshotLoad } from './cases/snapshotLoad.js'
import { CEILING_ID } from './ceiling.js'
import { ceiling } from './cases/ceiling.js'
import { tracing } from './cases/tracing.js'
import { renderChart } from './chart.js'
import { renderCurve } from './curve.js'
import type { FormatsResult } from './formatsReport.js'
import type { CaseResult } from './measure.js'
import { rawBindingInfo } from './raw.js'
import {
  CHART_DIR,
  chartFile,
  headingOf,
  renderReport,
  sectionRefs,
  renderTargetsText,
  type SuiteResult,
} from './report.js'

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    only: { type: 'string' },
    out: { type: 'string' },
    render: { type: 'boolean', default: false },
  },
})
const quick = values.quick ?? false

const sizes = quick
  ? {
      ceiling: { ms: 40, rounds: 1, fsyncs: 20, roundTrips: 20 },
      tracing: { ms: 60, rounds: 1 },
      append: { records: 20_000, rounds: 3 },
      group: { ms: 150, rounds: 3 },
      eventStore: { ms: 150, rounds: 3 },
      readStream: { reads: 50, rounds: 3 },
      reads: { entries: 20_000, rounds: 3 },
      small: 2_000,
      follow: { appends: 200, rounds: 3 },
      memory: { records: 20_000, rounds: 1 },
      postgres: { ms: 150, records: 5_000, appends: 50, rounds: 3 },
      dcb: { events: 10_000, smallEvents: 1_000, ms: 150, appends: 30, checks: 100, rounds: 3 },
      dcbPostgres: { events: 5_000, ms: 150, rounds: 3 },
      catchUp: { events: 2_000, streams: 100, rounds: 3 },
      lag: { appends: 50, rounds: 3 },
      snapshot: { events: 5_000, every: 1_000, loads: 5, rounds: 3 },
    }
  : {
      ceiling: { ms: 2_000, rounds: 5, fsyncs: 1_000, roundTrips: 2_000 },
      tracing: { ms: 2_000, rounds: 5 },
      append: { records: 300_000, rounds: 5 },
      group: { ms: 2_000, rounds: 5 },
      eventStore: { ms: 2_000, rounds: 5 },
      readStream: { reads: 500, rounds: 5 },
      reads: { entries: 1_000_000, rounds: 5 },
      small: 10_000,
      follow: { appends: 2_000, rounds: 5 },
      memory: { records: 5_000_000, rounds: 3 },
      postgres: { ms: 2_000, records: 100_000, appends: 500, rounds: 5 },
      dcb: {
        events: 1_000_000,
        smallEvents: 10_000,
        ms: 2_000,
        appends: 500,
        checks: 2_000,
        rounds: 5,
      },
      dcbPostgres: { events: 100_000, ms: 2_000, rounds: 5 },
      catchUp: { events: 1_000_000, streams: 10_000, rounds: 3 },
      lag: { appends: 1_000, rounds: 5 },
      snapshot: { events: 100_000, every: 1_000, loads: 200, rounds: 5 },
    }

const root = new URL('..', import.meta.url).pathname
const log = (message: string): void => void process.stderr.write(`${message}\n`)

const postgresUrl =
  process.env['DELTALOG_BENCH_POSTGRES_URL'] ?? process.env['DELTALOG_TEST_POSTGRES_URL']

const run = async (): Promise<ReadonlyArray<CaseResult>> => {
  const results: CaseResult[] = []
  const wanted = (id: string): boolean => values.only === undefined || values.only === id
  const step = async (id: string, name: string, c: () => Promise<CaseResult>): Promise<void> => {
    if (!wanted(id)) return
    log(`${name}…`)
    results.push(await c())
  }
  // The machine's limits first, so that every later figure can be held against them.
  await step(CEILING_ID, 'ceiling: the machine and the durable throughput curve', () =>
    ceiling(sizes.ceiling, postgresUrl),
  )
  await step('bulk-append-one-key', 'bulk append, one key', () => bulkAppendOneKey(sizes.append))
  await step('bulk-append-many-keys', 'bulk append, many keys', () =>
    bulkAppendManyKeys(sizes.append),
  )
  await step('durable-group-commit', 'durable group commit', () => groupCommit(sizes.group))
  if (['reads', 'follow-latency', 'recovery'].some(wanted)) {
    const dir = await makeTempDir('bench-datasets')
    try {
      log('writing datasets…')
      const oneKey = await writeDataset(dir, sizes.reads.entries, 1)
      const manyKeys = await writeDataset(dir, sizes.reads.entries, 10_000)
      const small = await writeDataset(dir, sizes.small, 1)
      await step('reads', 'reads', () => reads(oneKey, manyKeys, sizes.reads.rounds))
      await step('follow-latency', 'follow latency', () => followLatency(sizes.follow))
      await step('recovery', 'recovery', () => recovery(oneKey, small, sizes.reads.rounds))
    } finally {
      await removeDir(dir)
    }
  }
  await step('bounded-memory', 'bounded memory', () => boundedMemory(sizes.memory))
  await step('event-store', 'event store', () => eventStore(sizes.eventStore))
  await step('read-stream', 'event store reads', () => readStream(sizes.readStream))
  if (postgresUrl !== undefined) {
    await step('postgres', 'on PostgreSQL', () => postgres(postgresUrl, sizes.postgres))
  }
  await step('dcb', 'conditional appends (DCB)', () => dcb(sizes.dcb))
  if (postgresUrl !== undefined) {
    await step('dcb-postgres', 'conditional appends (DCB) on PostgreSQL', () =>
      dcbPostgres(postgresUrl, sizes.dcbPostgres),
    )
  }
  await step('projection-catch-up', 'projection catch-up', () => projectionCatchUp(sizes.catchUp))
  await step('projection-lag', 'projection lag', () => projectionLag(sizes.lag))
  await step('snapshot-load', 'aggregate load with snapshots', () => snapshotLoad(sizes.snapshot))
  await step('tracing', 'tracing overhead', () => tracing(sizes.tracing))
  if (postgresUrl === undefined && wanted('postgres')) {
    log('on PostgreSQL: skipped, no server (npm run bench starts one)')
  }
  if (results.length === 0) throw new Error(`no case has the id ${String(values.only)}`)
  return results
}

const writeDoc = async (suite: SuiteResult): Promise<void> => {
  // The profile and reason behind a missed or narrow target are written by hand in
  // benchmarks/explanations.json and printed under that target's figures.
  const explanations = JSON.parse(
    await readFile(join(root, 'benchmarks', 'explanations.json'), 'utf8'),
  ) as Record<string, ReadonlyArray<string>>
  // Written by `npm run bench:formats`; absent until it has run.
  const formats: FormatsResult | undefined = await readFile(
    join(root, 'benchmarks', 'results', 'formats.json'),
    'utf8',
  )
    .then((text) => JSON.parse(text) as FormatsResult)
    .catch(() => undefined)
  const doc = join(root, 'docs', 'benchmarks.md')
  // Formatted as the format check wants it, so that a run leaves the tree passing `npm test`.
  const markdown = await prettier.format(renderReport(suite, explanations, formats), {
    ...(await prettier.resolveConfig(doc)),
    filepath: doc,
  })
  await writeFile(doc, markdown)
  log(`wrote ${doc}`)
  // Earlier charts go first, so that no chart of a removed or renamed case stays behind.
  const charts = join(root, 'docs', CHART_DIR)
  await mkdir(charts, { recursive: true })
  for (const file of await readdir(charts)) {
    if (file.endsWith('.svg')) await rm(join(charts, file))
  }
  for (const { ref, c } of sectionRefs(suite.cases)) {
    const render = c.id === CEILING_ID ? renderCurve : renderChart
    await writeFile(join(root, 'docs', chartFile(c.id)), render(c, headingOf(ref, c)))
  }
  log(`wrote ${suite.cases.length} charts in ${charts}`)
}

const latest = join(root, 'benchmarks', 'results', 'latest.json')
if (values.render ?? false) {
  const suite = JSON.parse(await readFile(latest, 'utf8')) as SuiteResult
  await writeDoc(suite)
  process.stdout.write(`\n${renderTargetsText(suite)}\n`)
} else {
  const loadAtStart = loadavg()[0] ?? 0
  const measured = await run()
  const machine = {
    cores: cpus().length,
    cpu: cpus()[0]?.model.trim() ?? 'unknown',
    memoryGiB: totalmem() / 1024 ** 3,
    node: process.versions.node,
    platform: `${platform()} ${release()}`,
    date: new Date().toISOString(),
    load: [loadAtStart, loadavg()[0] ?? 0] as const,
  }
  // One case run alone takes the place of its earlier results among the others'; the report's
  // date and load stay those of the run that measured the rest, and the case says its own.
  const alone = values.only !== undefined && !quick
  const earlier = alone ? (JSON.parse(await readFile(latest, 'utf8')) as SuiteResult) : undefined
  const ran = alone
    ? measured.map((c) => ({
        ...c,
        notes: [
          ...c.notes,
          `Measured alone (\`--only ${c.id}\`) on ${machine.date}, load average ` +
            `${machine.load[0].toFixed(2)} at the start and ${machine.load[1].toFixed(2)} at the end.`,
        ],
      }))
    : measured
  const before = earlier?.cases ?? []
  const cases = before.some((c) => c.id === values.only)
    ? before.map((c) => ran.find((r) => r.id === c.id) ?? c)
    : [...before, ...ran]
  const suite: SuiteResult = {
    machine: earlier?.machine ?? machine,
    quick,
    binding: await rawBindingInfo(),
    cases,
  }
  // A quick run never touches the committed report or the full run's results.
  const outDir = values.out ?? (quick ? await makeTempDir('bench-quick') : dirname(latest))
  await mkdir(outDir, { recursive: true })
  const jsonPath = join(outDir, quick ? 'quick.json' : 'latest.json')
  await writeFile(jsonPath, `${JSON.stringify(suite, null, 2)}\n`)
  log(`wrote ${jsonPath}`)
  if (!quick) await writeDoc(suite)
  process.stdout.write(`\n${renderTargetsText(suite)}\n`)
}
