// Renders a suite run as the Markdown of docs/benchmarks.md: the machine, the table of targets,
// met or missed, then one section per case with each figure beside its baseline, their ratio
// and the case's chart. Also renders the targets as plain text, for the console.
import { formatNumber, type CaseResult, type Figure, type Summary, type Target } from './measure.js'
import type { RawBindingInfo } from './raw.js'

import { CEILING_ID } from './ceiling.js'
import { fractionLine, renderCeilingSection } from './ceilingReport.js'
import { FORMATS_EXPLANATION, renderFormats, type FormatsResult } from './formatsReport.js'

export { formatNumber }

/** The machine and run a report describes. */
export interface Machine {
  readonly cores: number
  readonly cpu: string
  readonly memoryGiB: number
  readonly node: string
  readonly platform: string
  readonly date: string
  /** 1-minute load average when the run started and when it ended. */
  readonly load: readonly [number, number]
}

/** A whole run, as written to the JSON file. */
export interface SuiteResult {
  readonly machine: Machine
  readonly quick: boolean
  /** The addon behind the "rocksdb binding" baselines; absent in results of older runs. */
  readonly binding?: RawBindingInfo
  readonly cases: ReadonlyArray<CaseResult>
}

const summary = (s: Summary): string =>
  `${formatNumber(s.median)} (${formatNumber(s.min)}–${formatNumber(s.max)})`

const ratio = (s: Summary): string =>
  `**${s.median.toFixed(2)}×** (${s.min.toFixed(2)}–${s.max.toFixed(2)})`

const row = (f: Figure): string =>
  `| ${f.label} | ${summary(f.subject)} | ${f.baselineLabel} | ${summary(f.baseline)} | ${f.unit} | ${ratio(f.ratio)} |`

/** The directory of the charts, relative to docs/. */
export const CHART_DIR = 'benchmarks'

/** Where a case's chart is written, relative to docs/ (and linked from docs/benchmarks.md). */
export const chartFile = (caseId: string): string => `${CHART_DIR}/${caseId}.svg`

/** The figure a target is on; figures of one case can share a label, never with one baseline. */
export const figureOf = (c: CaseResult, t: Target): Figure | undefined =>
  c.figures.find((f) => f.label === t.figure && f.baselineLabel === t.baseline)

const operator = (t: Target): string => (t.op === '>=' ? '≥' : '≤')

/** The threshold as written in the tables: `≥ 3×` for a ratio, `≤ 250 MB` for a figure. */
export const thresholdText = (t: Target, unit: string): string =>
  t.on === 'ratio' ? `${operator(t)} ${t.threshold}×` : `${operator(t)} ${t.threshold} ${unit}`

/** A target's actual value: `0.67×` for a ratio, `302 MB` for a figure. */
export const actualText = (t: Target, unit: string): string =>
  t.on === 'ratio' ? `${t.actual.toFixed(2)}×` : `${formatNumber(t.actual)} ${unit}`

const targetLine = (c: CaseResult, t: Target): string => {
  const unit = figureOf(c, t)?.unit ?? ''
  const what =
    t.on === 'ratio' ? `ratio ${t.actual.toFixed(2)}× to ${t.baseline}` : actualText(t, unit)
  return `- ${t.met ? 'Met' : '**Missed**'}: ${t.figure}, ${what} (target ${thresholdText(t, unit)}).`
}

/**
 * Each case with its reference in the report: the numbers of its sections, and `C` for the
 * ceiling, whose section stands before them unnumbered.
 */
export const sectionRefs = (
  cases: ReadonlyArray<CaseResult>,
): ReadonlyArray<{ readonly ref: string; readonly c: CaseResult }> => {
  let n = 0
  return cases.map((c) => ({ ref: c.id === CEILING_ID ? 'C' : String(++n), c }))
}

/** A case's heading: `3. Durable group commit`, or the ceiling's title alone. */
export const headingOf = (ref: string, c: CaseResult): string =>
  ref === 'C' ? c.title : `${ref}. ${c.title}`

/** Every target of a run, each with the case it belongs to and its reference in the report. */
const allTargets = (
  suite: SuiteResult,
): ReadonlyArray<{ readonly n: string; readonly c: CaseResult; readonly t: Target }> =>
  sectionRefs(suite.cases).flatMap(({ ref, c }) => c.targets.map((t) => ({ n: ref, c, t })))

/** The targets as a plain-text table: result, actual, threshold, then what is measured. */
export const renderTargetsText = (suite: SuiteResult): string => {
  const rows = allTargets(suite).map(({ n, c, t }) => {
    const unit = figureOf(c, t)?.unit ?? ''
    return [
      t.met ? 'met' : 'MISSED',
      actualText(t, unit),
      thresholdText(t, unit),
      `${headingOf(n, c)}: ${t.figure}${t.on === 'ratio' ? ` vs ${t.baseline}` : ''}`,
    ]
  })
  const header = ['result', 'actual', 'target', 'case: deltalog vs baseline']
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]?.length ?? 0)))
  const line = (r: ReadonlyArray<string>): string =>
    r
      .map((cell, i) =>
        i === r.length - 1
          ? cell
          : i === 1
            ? cell.padStart(widths[i] ?? 0)
            : cell.padEnd(widths[i] ?? 0),
      )
      .join('  ')
  const missed = rows.filter((r) => r[0] === 'MISSED').length
  return [
    `Targets: ${rows.length - missed} of ${rows.length} met${suite.quick ? ' (quick sizes: indicative only)' : ''}`,
    line(header),
    ...rows.map(line),
  ].join('\n')
}

/** Cases added since the results were written: their sections say they are not yet measured. */
const PENDING: ReadonlyArray<{
  readonly id: string
  readonly title: string
  readonly what: string
}> = [
  {
    id: 'tracing',
    title: 'Tracing overhead',
    what:
      'append throughput with one subscriber on every tracing channel against none (target: ' +
      'the subscriber costs at most 5%)',
  },
]

const renderPending = (cases: ReadonlyArray<CaseResult>): ReadonlyArray<string> =>
  PENDING.filter((p) => !cases.some((c) => c.id === p.id)).flatMap((p) => [
    '',
    `## ${p.title}`,
    '',
    `**Not yet measured**: no full run since this case was added. It measures ${p.what}.`,
  ])

/**
 * The explanation of each of a case's figures that carry a target, by `case id: figure label`;
 * a missed one with none says so. One label can carry targets against several baselines.
 */
const whyOf = (
  c: CaseResult,
  explanations: Readonly<Record<string, ReadonlyArray<string>>>,
): ReadonlyArray<string> =>
  [...new Set(c.targets.map((t) => t.figure))].flatMap((label) => {
    const met = c.targets.every((t) => t.figure !== label || t.met)
    return (
      explanations[`${c.id}: ${label}`] ??
      (met ? [] : [`**${label}: missed in this run, with no profile recorded for it yet.**`])
    )
  })

/**
 * The Markdown report. `explanations` hold, by `case id: figure label`, the profile and reason
 * behind a target that is missed or only just met; a missed target without one says so.
 */
export const renderReport = (
  suite: SuiteResult,
  explanations: Readonly<Record<string, ReadonlyArray<string>>>,
  formats?: FormatsResult,
): string => {
  const m = suite.machine
  const lines: string[] = [
    '# Benchmarks',
    '',
    'Generated by `npm run bench` (`benchmarks/run.ts`); the same run writes',
    '`benchmarks/results/latest.json`. Every figure is measured in the same process and run as',
    'the baseline beside it; rounds alternate which side runs first. Figures are medians over',
    'the rounds with min–max in parentheses; the ratio is deltalog / baseline, computed round',
    'by round.',
    ...(suite.binding === undefined
      ? []
      : [
          '',
          `The "rocksdb binding" baselines call \`${suite.binding.package}\` ${suite.binding.version}` +
            (suite.binding.rocksdb === undefined ? ',' : ` (RocksDB ${suite.binding.rocksdb}),`),
          'the addon deltalog itself loads, through its own functions (`benchmarks/raw.ts`): no',
          'deltalog code is in their path.',
        ]),
    '',
    `Machine: ${m.cores} cores (${m.cpu}), ${m.memoryGiB.toFixed(1)} GiB memory, Node.js ${m.node},`,
    `${m.platform}; run on ${m.date}. Load average (1 min) ${m.load[0].toFixed(2)} at the start`,
    `and ${m.load[1].toFixed(2)} at the end; the suite keeps one to two cores busy itself, so a`,
    'load above 2 means other processes shared the machine and the absolute figures are low.',
  ]
  lines.push(
    '',
    '## Targets',
    '',
    "A ratio target is on the ratio of the medians, deltalog's over the baseline's (the ratio",
    'column of each section, a median of per-round ratios, can differ from it a little); the peak',
    "RSS target is on deltalog's median itself. Each section's chart draws the medians as bars,",
    "with the target as a dashed line where deltalog's bar has to reach (or stay below): the",
    "threshold times the baseline's median, or for peak RSS the threshold itself.",
    '',
    '| # | Case | deltalog | Baseline | Target | Actual | Result |',
    '| --- | --- | --- | --- | --- | --- | --- |',
    ...allTargets(suite).map(({ n, c, t }) => {
      const unit = figureOf(c, t)?.unit ?? ''
      return `| ${n} | ${c.title} | ${t.figure} | ${t.on === 'ratio' ? t.baseline : '—'} | ${thresholdText(t, unit)} | ${actualText(t, unit)} | ${t.met ? 'Met' : '**Missed**'} |`
    }),
  )
  const ceiling = suite.cases.find((c) => c.id === CEILING_ID)
  lines.push(
    ...renderCeilingSection(
      suite.cases,
      chartFile(CEILING_ID),
      ceiling === undefined
        ? []
        : [
            ...ceiling.targets.map((t) => targetLine(ceiling, t)),
            ...whyOf(ceiling, explanations).flatMap((paragraph) => ['', paragraph]),
          ],
    ),
  )
  for (const { ref, c } of sectionRefs(suite.cases)) {
    if (c.id === CEILING_ID) continue
    lines.push(
      '',
      `## ${headingOf(ref, c)}`,
      '',
      `${c.setup[0]?.toUpperCase() ?? ''}${c.setup.slice(1)}; ${c.rounds} rounds.`,
      '',
      '| deltalog | median (min–max) | baseline | median (min–max) | unit | ratio |',
      '| --- | --- | --- | --- | --- | --- |',
      ...c.figures.map(row),
      '',
      `![${c.title}: deltalog's medians beside its baselines, with the targets](${chartFile(c.id)})`,
    )
    if (c.targets.length > 0) lines.push('', ...c.targets.map((t) => targetLine(c, t)))
    for (const fraction of fractionLine(suite.cases, c)) lines.push('', fraction)
    for (const note of c.notes) lines.push('', note)
    for (const paragraph of whyOf(c, explanations)) lines.push('', paragraph)
  }
  lines.push(
    ...renderPending(suite.cases),
    ...renderFormats(formats, explanations[FORMATS_EXPLANATION]),
  )
  return `${lines.join('\n')}\n`
}
