// The Ceiling section of docs/benchmarks.md: the machine's limits, the durable throughput curve
// with its table and chart, and the suite's other durable figures as fractions of their
// ceilings. Until a run has measured it, the section says so and states the model.
import {
  CEILING_ID,
  durableFractions,
  PRODUCER_COUNTS,
  type Latency,
  type Limits,
} from './ceiling.js'
import { formatNumber, type CaseResult } from './measure.js'

const MODEL = [
  'The ceiling is what the machine allows a durable figure, measured first in the same run. For',
  "deltalog's group commit with P producers it is P appends per raw synced batch: the raw addon",
  '(`benchmarks/raw.ts`) writes, back to back, synced batches of exactly the puts one of',
  "deltalog's commits of P single-record appends writes (their count and their keys' and values'",
  'sizes, recorded from a commit; fresh keys each batch), and the ceiling is P ÷ their mean',
  'latency. It leaves out everything but RocksDB and the disk: no validation, no encoding, no',
  "settling of callers, and no time between two batches. A figure's fraction is its median over",
  "the ceiling's median. On PostgreSQL the ceiling is 256 ÷ (a `SELECT 1` round trip on one",
  'connection + a synced 4 KiB write on this disk), p50s: one commit per round trip and flush,',
  "leaving out the server's work on the rows.",
]

const ms = (n: number): string => `${n.toFixed(n >= 10 ? 1 : 2)} ms`

const latencyRow = (what: string, l: Latency | undefined, absent: string): string =>
  l === undefined
    ? `| ${what} | — | — | ${absent} |`
    : `| ${what} | ${ms(l.p50)} | ${ms(l.p99)} | ${l.samples} |`

const limitsTable = (limits: Limits): ReadonlyArray<string> => [
  '| limit | p50 | p99 | samples |',
  '| --- | --- | --- | --- |',
  latencyRow(
    'a synced 4 KiB write: `write` then `fdatasync`, appending to a file',
    limits.fsync,
    '',
  ),
  latencyRow(
    'a PostgreSQL round trip: `SELECT 1` on one `pg` connection',
    limits.postgres,
    'not measured: no server',
  ),
]

const curveTable = (c: CaseResult, limits: Limits): ReadonlyArray<string> => [
  '| producers | deltalog, appends/s | ceiling, appends/s | fraction | puts per commit | bytes per commit | raw batch p50 | raw batch p99 |',
  '| --- | --- | --- | --- | --- | --- | --- | --- |',
  ...PRODUCER_COUNTS.flatMap((n, i) => {
    const f = c.figures[i]
    const b = limits.batches.find((x) => x.producers === n)
    if (f === undefined || b === undefined) return []
    const fraction = f.subject.median / f.baseline.median
    return [
      `| ${n} | ${formatNumber(f.subject.median)} | ${formatNumber(f.baseline.median)} | ` +
        `**${(fraction * 100).toFixed(0)}%** (${(f.ratio.min * 100).toFixed(0)}–${(f.ratio.max * 100).toFixed(0)}%) | ` +
        `${b.puts.toLocaleString('en-US')} | ${b.bytes.toLocaleString('en-US')} | ${ms(b.latency.p50)} | ${ms(b.latency.p99)} |`,
    ]
  }),
]

/** A line under a case's section: its durable figure as a fraction of its ceiling. */
export const fractionLine = (cases: ReadonlyArray<CaseResult>, c: CaseResult): string[] =>
  durableFractions(cases)
    .filter((f) => f.caseId === c.id)
    .map(
      (f) =>
        `${f.label}: ${formatNumber(f.value)} appends/s, **${(f.fraction * 100).toFixed(0)}%** ` +
        `of its ceiling of ${formatNumber(f.ceiling)} (${f.model}; section Ceiling).`,
    )

/**
 * The section: `chart` is the curve's path relative to docs/, `targetLines` the rendered lines
 * of the ceiling case's targets.
 */
export const renderCeilingSection = (
  cases: ReadonlyArray<CaseResult>,
  chart: string,
  targetLines: ReadonlyArray<string>,
): ReadonlyArray<string> => {
  const c = cases.find((x) => x.id === CEILING_ID)
  const lines = ['', '## Ceiling', '', ...MODEL]
  if (c?.limits === undefined) {
    return [
      ...lines,
      '',
      `**Not yet measured**: no full run since this section was added. The next \`npm run bench\` measures the limits and the curve (${PRODUCER_COUNTS.join(', ')} producers) before every other case.`,
    ]
  }
  const fractions = durableFractions(cases)
  return [
    ...lines,
    '',
    `${c.setup[0]?.toUpperCase() ?? ''}${c.setup.slice(1)}; ${c.rounds} rounds.`,
    '',
    ...limitsTable(c.limits),
    '',
    ...curveTable(c, c.limits),
    '',
    `![The durable throughput curve: deltalog's sync group commit beside its ceiling, by producers](${chart})`,
    ...(targetLines.length > 0 ? ['', ...targetLines] : []),
    ...(fractions.length === 0
      ? []
      : [
          '',
          "The suite's other durable figures against their ceilings:",
          '',
          '| case | deltalog | appends/s | ceiling | fraction | ceiling model |',
          '| --- | --- | --- | --- | --- | --- |',
          ...fractions.map(
            (f) =>
              `| ${f.title} | ${f.label} | ${formatNumber(f.value)} | ${formatNumber(f.ceiling)} | **${(f.fraction * 100).toFixed(0)}%** | ${f.model} |`,
          ),
        ]),
  ]
}
