// The DCB index benchmark's results and their markdown: the write cost of each layout against
// the events alone, and the condition check's and read's latency at each log size, with the
// ratio from the smallest log to the largest (the ≤ 1.3× flatness target).
import type { Summary } from '../measure.js'
import type { LayoutId } from './candidates.js'

/** What writing one log cost a layout. */
export interface WriteRow {
  readonly events: number
  readonly layout: LayoutId
  /** Median over rounds of the time to write the log, per event. */
  readonly microsPerEvent: number
  /** Keys and values handed to `batch_do`, per event. */
  readonly batchBytesPerEvent: number
  /** Puts per event. */
  readonly putsPerEvent: number
  /** SST and WAL bytes after writing, database closed, per event. */
  readonly diskBytesPerEvent: number
}

/** One case's latencies for one layout at one log size; null where it cannot do the case. */
export interface LatencyRow {
  readonly case: string
  readonly events: number
  readonly layout: LayoutId
  readonly p50: Summary
  readonly p99: Summary
  /** Of the timed calls, the share that read events from the log, and events read per call. */
  readonly fallbackShare: number
  readonly scannedPerCall: number
  /** Of the timed calls, the share that found a match (or, for reads, matches per read). */
  readonly matched: number
}

export interface CaseSpec {
  readonly id: string
  readonly title: string
  readonly setup: string
}

export interface DcbLayoutsReport {
  readonly quick: boolean
  readonly sizes: ReadonlyArray<number>
  readonly layouts: ReadonlyArray<{ readonly id: LayoutId; readonly name: string }>
  readonly writes: ReadonlyArray<WriteRow>
  readonly cases: ReadonlyArray<CaseSpec>
  readonly latencies: ReadonlyArray<LatencyRow>
  readonly seconds: number
  readonly load: { readonly start: number; readonly end: number }
  readonly notes: ReadonlyArray<string>
}

/** The flatness target: p50 at the largest log over p50 at the smallest. */
export const FLAT = 1.3

const sig = (x: number): string =>
  x >= 1000
    ? Math.round(x).toLocaleString('en-US')
    : x.toLocaleString('en-US', { maximumSignificantDigits: 3 })
const ratio = (x: number): string => `${x.toFixed(2)}×`
const count = (n: number): string => n.toLocaleString('en-US')

export const render = (r: DcbLayoutsReport): string => {
  const lines: string[] = []
  const row = (cells: ReadonlyArray<string>): void => void lines.push(`| ${cells.join(' | ')} |`)
  const header = (cells: ReadonlyArray<string>, text: number): void => {
    row(cells)
    row(cells.map((_, i) => (i < text ? '---' : '---:')))
  }
  const ids = r.layouts.map((l) => l.id)
  const small = r.sizes[0] ?? NaN
  const large = r.sizes[r.sizes.length - 1] ?? NaN
  const find = (c: string, n: number, id: LayoutId): LatencyRow | undefined =>
    r.latencies.find((x) => x.case === c && x.events === n && x.layout === id)

  lines.push(
    `## DCB index layouts${r.quick ? ' (quick sizes)' : ''}`,
    '',
    ...r.layouts.map((l) => `- **${l.id}**: ${l.name}`),
    '',
    `${r.seconds.toFixed(0)} s; 1-minute load ${r.load.start.toFixed(2)} at the start, ` +
      `${r.load.end.toFixed(2)} at the end.`,
    '',
    '### Writing: cost per event, in brackets the ratio to E (the events alone)',
    '',
  )
  header(['Events', 'Layout', 'µs/event', 'puts/event', 'batch B/event', 'disk B/event'], 2)
  for (const w of r.writes) {
    const base = r.writes.find((x) => x.events === w.events && x.layout === 'E')
    const cell = (v: number, b: number | undefined): string =>
      w.layout === 'E' || b === undefined ? sig(v) : `${sig(v)} (${ratio(v / b)})`
    row([
      count(w.events),
      w.layout,
      cell(w.microsPerEvent, base?.microsPerEvent),
      sig(w.putsPerEvent),
      cell(w.batchBytesPerEvent, base?.batchBytesPerEvent),
      cell(w.diskBytesPerEvent, base?.diskBytesPerEvent),
    ])
  }

  for (const [label, pick] of [
    ['p50', (x: LatencyRow) => x.p50.median],
    ['p99', (x: LatencyRow) => x.p99.median],
  ] as const) {
    lines.push(
      '',
      `### ${label} latency (µs), median over rounds; last column the ratio ` +
        `${count(large)} / ${count(small)} events (target ≤ ${FLAT}× for the checks)`,
      '',
    )
    header(['Case', 'Layout', ...r.sizes.map((n) => count(n)), 'ratio'], 2)
    for (const c of r.cases) {
      for (const id of ids) {
        const cells = r.sizes.map((n) => find(c.id, n, id))
        if (cells.every((x) => x === undefined)) continue
        const a = find(c.id, small, id)
        const b = find(c.id, large, id)
        row([
          c.title,
          id,
          ...cells.map((x) => (x === undefined ? 'n/a' : sig(pick(x)))),
          a === undefined || b === undefined ? 'n/a' : ratio(pick(b) / pick(a)),
        ])
      }
    }
  }

  lines.push('', '### Work besides seeks: calls that read the log, events read per call', '')
  header(['Case', 'Layout', ...r.sizes.map((n) => count(n))], 2)
  for (const c of r.cases) {
    for (const id of ids) {
      const cells = r.sizes.map((n) => find(c.id, n, id))
      if (cells.every((x) => x === undefined || x.fallbackShare === 0)) continue
      row([
        c.title,
        id,
        ...cells.map((x) =>
          x === undefined
            ? 'n/a'
            : `${(x.fallbackShare * 100).toFixed(1)}%, ${sig(x.scannedPerCall)}`,
        ),
      ])
    }
  }

  lines.push('', '### Matches: share of checks that failed the condition; events per read', '')
  header(['Case', ...r.sizes.map((n) => count(n))], 1)
  for (const c of r.cases) {
    const cells = r.sizes.map((n) => find(c.id, n, 'E') ?? find(c.id, n, 'P'))
    row([c.title, ...cells.map((x) => (x === undefined ? 'n/a' : sig(x.matched)))])
  }

  lines.push('', '### Cases', '')
  for (const c of r.cases) lines.push(`- **${c.title}**: ${c.setup}.`)
  lines.push('', '### Notes', '', ...r.notes.map((n) => `- ${n}`))
  return lines.join('\n')
}
