// The chart of one case for docs/benchmarks.md, written as SVG by hand: for each figure,
// deltalog's median and its baseline's as two horizontal bars with their values, and each target
// on the figure as a dashed line where deltalog's bar has to reach (or stay below). The explicit
// white background keeps the chart legible in GitHub's light and dark themes alike.
import type { CaseResult, Figure, Target } from './measure.js'
import { actualText, figureOf, formatNumber, thresholdText } from './report.js'

const WIDTH = 800
const MARGIN = 16
/** Room right of the longest bar for its value and unit. */
const VALUE_ROOM = 136
const BAR_WIDTH = WIDTH - 2 * MARGIN - VALUE_ROOM
const BAR = 16
/** The height of a line of text above a bar. */
const LABEL = 18
const TOP = 64
const GROUP_GAP = 14
const GROUP = 2 * (LABEL + BAR) + 4 + GROUP_GAP
/** Above this spread between the figures' largest values, each figure gets its own scale. */
const ONE_SCALE_SPREAD = 10

const COLOR = {
  background: '#ffffff',
  border: '#d0d7de',
  text: '#1f2328',
  muted: '#59636e',
  deltalog: '#0969da',
  baseline: '#8c959f',
  target: '#cf222e',
  met: '#1a7f37',
  missed: '#cf222e',
} as const

const FONT = "-apple-system, BlinkMacSystemFont, 'Segoe UI', Helvetica, Arial, sans-serif"

const escape = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')

const finite = (n: number): number => (Number.isFinite(n) && n > 0 ? n : 0)

/** Where deltalog's median meets a target: the threshold, or that multiple of the baseline's. */
const targetAt = (t: Target, f: Figure): number =>
  t.on === 'subject' ? t.threshold : t.threshold * f.baseline.median

const targetNote = (t: Target, f: Figure): string => {
  const threshold = thresholdText(t, f.unit) + (t.on === 'ratio' ? ' the baseline' : '')
  return (
    `<tspan dx="8" fill="${COLOR.muted}">· target ${escape(threshold)}:</tspan>` +
    `<tspan dx="4" fill="${t.met ? COLOR.met : COLOR.missed}" font-weight="600">` +
    `${t.met ? 'met' : 'missed'}, ${escape(actualText(t, f.unit))}</tspan>`
  )
}

const text = (x: number, y: number, content: string, attributes = ''): string =>
  `<text x="${+x.toFixed(1)}" y="${y}"${attributes === '' ? '' : ` ${attributes}`}>${content}</text>`

/** A generous width for text at 12px, for placing it clear of the lines it would cross. */
const textWidth = (s: string): number => s.length * 7.5

/** A bar and its value; the value moves right past any of the target lines `avoid` it meets. */
const bar = (
  y: number,
  value: number,
  scale: number,
  color: string,
  unit: string,
  avoid: ReadonlyArray<number> = [],
): string => {
  const width = (finite(value) / scale) * BAR_WIDTH
  const label = `${formatNumber(value)} ${unit}`
  let at = MARGIN + width + 6
  for (const x of [...avoid].sort((a, b) => a - b)) {
    if (x >= at - 4 && x <= at + textWidth(label)) at = x + 6
  }
  return [
    `<rect x="${MARGIN}" y="${y}" width="${width.toFixed(1)}" height="${BAR}" fill="${color}"/>`,
    // The halo keeps the value legible should a target line still cross it.
    text(
      at,
      y + BAR - 4,
      escape(label),
      `fill="${COLOR.text}" stroke="${COLOR.background}" stroke-width="3" paint-order="stroke"`,
    ),
  ].join('\n')
}

const group = (y: number, f: Figure, targets: ReadonlyArray<Target>, scale: number): string => {
  const subjectBar = y + LABEL
  const baselineBar = subjectBar + BAR + 4 + LABEL
  const xs = targets.map((t) => MARGIN + (finite(targetAt(t, f)) / scale) * BAR_WIDTH)
  const lines = xs.map(
    (x) =>
      `<line x1="${x.toFixed(1)}" y1="${subjectBar - 4}" x2="${x.toFixed(1)}" ` +
      `y2="${subjectBar + BAR + 4}" stroke="${COLOR.target}" stroke-width="2" ` +
      'stroke-dasharray="4 3"/>',
  )
  return [
    text(
      MARGIN,
      subjectBar - 5,
      `${escape(f.label)}${targets.map((t) => targetNote(t, f)).join('')}`,
      `fill="${COLOR.text}"`,
    ),
    bar(subjectBar, f.subject.median, scale, COLOR.deltalog, f.unit, xs),
    ...lines,
    text(MARGIN, baselineBar - 5, escape(f.baselineLabel), `fill="${COLOR.muted}"`),
    bar(baselineBar, f.baseline.median, scale, COLOR.baseline, f.unit),
  ].join('\n')
}

/**
 * The SVG chart of a case under `heading`. One scale serves every figure when their largest
 * values (bars and target lines) lie within a factor of 10 of each other; otherwise each figure
 * is drawn to its own scale, and the chart says so.
 */
export const renderChart = (c: CaseResult, heading: string): string => {
  const targetsOf = (f: Figure): ReadonlyArray<Target> =>
    c.targets.filter((t) => figureOf(c, t) === f)
  const largest = c.figures.map(
    (f) =>
      Math.max(
        finite(f.subject.median),
        finite(f.baseline.median),
        ...targetsOf(f).map((t) => finite(targetAt(t, f))),
      ) || 1,
  )
  const oneScale = Math.max(...largest) / Math.min(...largest) <= ONE_SCALE_SPREAD
  const scaleOf = (i: number): number =>
    oneScale ? Math.max(...largest) : (largest[i] ?? Math.max(...largest))
  const units = [...new Set(c.figures.map((f) => f.unit))].join(', ')
  const height = TOP + c.figures.length * GROUP
  const legend = [
    `<tspan fill="${COLOR.muted}">${escape(units)}, ${c.rounds === 1 ? 'one round' : `medians of ${c.rounds} rounds`}` +
      `${oneScale ? '' : ', each pair to its own scale'}</tspan>`,
    // Separate tspans, spaced by dx: renderers drop a space at a tspan's edge.
    `<tspan dx="16" fill="${COLOR.deltalog}">■ deltalog</tspan>`,
    `<tspan dx="12" fill="${COLOR.baseline}">■ baseline</tspan>`,
    `<tspan dx="12" fill="${COLOR.target}">┆ target</tspan>`,
  ].join('')
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" ` +
      `viewBox="0 0 ${WIDTH} ${height}" font-family="${FONT}" font-size="12">`,
    `<title>${escape(heading)}</title>`,
    `<rect x="0.5" y="0.5" width="${WIDTH - 1}" height="${height - 1}" rx="6" ` +
      `fill="${COLOR.background}" stroke="${COLOR.border}"/>`,
    text(MARGIN, 26, escape(heading), `fill="${COLOR.text}" font-size="15" font-weight="600"`),
    text(MARGIN, 46, legend),
    ...c.figures.map((f, i) => group(TOP + i * GROUP, f, targetsOf(f), scaleOf(i))),
    '</svg>',
    '',
  ].join('\n')
}
