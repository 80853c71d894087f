// The layout benchmark's results and their markdown: every figure per layout with its ratio to
// L0, the targets format v2 is chosen against, and the bytes each layout leaves on disk.
import type { Summary } from '../measure.js'
import type { LayoutId } from './candidates.js'

/** One measured figure of a case; `better` says which way the ratio to L0 is taken. */
export interface FigureSpec {
  readonly label: string
  readonly unit: string
  readonly better: 'higher' | 'lower'
}

export interface FigureResult extends FigureSpec {
  /** Per layout; null where the layout cannot do the case. */
  readonly values: Record<LayoutId, Summary | null>
  /** Per layout, round by round: throughput as layout / L0, latency as L0 / layout. */
  readonly vsL0: Record<LayoutId, Summary | null>
}

export interface CaseResult {
  readonly id: string
  readonly title: string
  readonly setup: string
  readonly rounds: number
  readonly figures: ReadonlyArray<FigureResult>
}

/** Bytes on disk after writing one data set, per layout. */
export interface DiskRow {
  readonly dataset: string
  readonly entries: number
  readonly bytes: Partial<Record<LayoutId, number>>
}

export interface LayoutsReport {
  readonly quick: boolean
  readonly layouts: ReadonlyArray<{ readonly id: LayoutId; readonly name: string }>
  readonly cases: ReadonlyArray<CaseResult>
  readonly disk: ReadonlyArray<DiskRow>
  readonly seconds: number
  readonly load: { readonly start: number; readonly end: number }
  readonly notes: ReadonlyArray<string>
}

/** The targets format v2 is chosen against: the median ratio of a figure to L0. */
export const TARGETS: ReadonlyArray<{
  readonly case: string
  readonly figure: string
  readonly threshold: number
}> = [
  { case: 'bulk-one-key', figure: 'append', threshold: 3 },
  { case: 'bulk-many-keys', figure: 'append', threshold: 0.9 },
  { case: 'key-scan-one-key', figure: 'key scan', threshold: 3 },
  { case: 'global-scan-one-key', figure: 'global scan', threshold: 3 },
  { case: 'global-scan-many-keys', figure: 'global scan', threshold: 1 },
  { case: 'read-stream', figure: 'readStream p50', threshold: 1 },
]

const significant = (x: number): string =>
  x >= 1000
    ? Math.round(x).toLocaleString('en-US')
    : x.toLocaleString('en-US', { maximumSignificantDigits: 3 })

const ratio = (x: number): string => `${x.toFixed(2)}×`

export const render = (r: LayoutsReport): string => {
  const ids = r.layouts.map((l) => l.id)
  const others = ids.filter((id) => id !== 'L0')
  const lines: string[] = []
  const row = (cells: ReadonlyArray<string>): void => void lines.push(`| ${cells.join(' | ')} |`)
  // The first `text` columns are left-aligned, the rest as `align` says.
  const header = (cells: ReadonlyArray<string>, align: string, text = 2): void => {
    row(cells)
    row(cells.map((_, i) => (i < text ? '---' : align)))
  }
  const figures = r.cases.flatMap((c) => c.figures.map((f) => [c, f] as const))

  lines.push(
    `## Format v2 layouts against L0${r.quick ? ' (quick sizes)' : ''}`,
    '',
    ...r.layouts.map((l) => `- **${l.id}**: ${l.name}`),
    '',
    'Medians over each case’s rounds; in brackets the median of the per-round ratios to L0 ' +
      '(throughput: layout / L0; latency: L0 / layout; above 1 is better). ' +
      `${r.seconds.toFixed(0)} s; 1-minute load ${r.load.start.toFixed(2)} at the start, ` +
      `${r.load.end.toFixed(2)} at the end.`,
    '',
  )
  header(['Case', 'Figure', ...ids], '---:')
  for (const [c, f] of figures) {
    row([
      c.title,
      `${f.label} (${f.unit})`,
      ...ids.map((id) => {
        const v = f.values[id]
        const x = f.vsL0[id]
        if (v === null) return 'n/a'
        return id === 'L0' || x === null
          ? significant(v.median)
          : `${significant(v.median)} (${ratio(x.median)})`
      }),
    ])
  }

  lines.push('', '### Targets: median ratio to L0', '')
  header(['Case', 'Target', ...others], ':---:')
  for (const t of TARGETS) {
    const c = r.cases.find((x) => x.id === t.case)
    const f = c?.figures.find((x) => x.label === t.figure)
    if (c === undefined || f === undefined) continue
    row([
      c.title,
      `≥ ${t.threshold}×`,
      ...others.map((id) => {
        const x = f.vsL0[id]
        return x === null
          ? 'n/a'
          : `${x.median >= t.threshold ? 'met' : 'missed'}, ${ratio(x.median)}`
      }),
    ])
  }

  lines.push('', '### Ratio to L0, lowest and highest round', '')
  header(['Case', 'Figure', ...others], '---:')
  for (const [c, f] of figures) {
    row([
      c.title,
      f.label,
      ...others.map((id) => {
        const x = f.vsL0[id]
        return x === null ? 'n/a' : `${ratio(x.min)} – ${ratio(x.max)}`
      }),
    ])
  }

  lines.push('', '### Bytes on disk after writing: SST and WAL files, database closed', '')
  header(['Data set', 'Entries', ...ids.map((id) => `${id}, B/entry`)], '---:', 1)
  for (const { dataset, entries, bytes } of r.disk) {
    const base = bytes.L0
    row([
      dataset,
      entries.toLocaleString('en-US'),
      ...ids.map((id) => {
        const b = bytes[id]
        if (b === undefined) return 'n/a'
        const perEntry = (b / entries).toFixed(1)
        return id === 'L0' || base === undefined ? perEntry : `${perEntry} (${ratio(b / base)})`
      }),
    ])
  }

  lines.push('', '### Cases', '')
  for (const c of r.cases) lines.push(`- **${c.title}**: ${c.setup}; ${c.rounds} rounds.`)
  lines.push('', '### Notes', '', ...r.notes.map((n) => `- ${n}`))
  return lines.join('\n')
}
