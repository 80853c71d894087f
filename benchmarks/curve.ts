// The chart of the ceiling case: the durable throughput curve, deltalog's sync group commit at
// each producer count beside its ceiling, both axes on log scales, as plain SVG written by hand
// like the other charts (chart.ts). Each of deltalog's points is labelled with its fraction
// of the ceiling.
import type { CaseResult } from './measure.js'

const WIDTH = 800
const HEIGHT = 420
const LEFT = 84
const RIGHT = 32
const TOP = 72
const BOTTOM = 56
const PLOT_W = WIDTH - LEFT - RIGHT
const PLOT_H = HEIGHT - TOP - BOTTOM

const COLOR = {
  background: '#ffffff',
  border: '#d0d7de',
  grid: '#eaeef2',
  text: '#1f2328',
  muted: '#59636e',
  deltalog: '#0969da',
  ceiling: '#cf222e',
} as const

const FONT = "-apple-system, BlinkMacSystemFont, 'Segoe UI', Helvetica, Arial, sans-serif"

/** One point of the curve: a producer count, deltalog's median and the ceiling's. */
export interface CurvePoint {
  readonly producers: number
  readonly deltalog: number
  readonly ceiling: number
}

/** The curve's points, from the ceiling case's figures (one per producer count). */
export const curvePoints = (c: CaseResult): ReadonlyArray<CurvePoint> =>
  c.figures.flatMap((f) => {
    const producers = Number(/(\d+) producers?/.exec(f.label)?.[1])
    return Number.isFinite(producers)
      ? [{ producers, deltalog: f.subject.median, ceiling: f.baseline.median }]
      : []
  })

/** The decades a log axis spans to hold `values`: from the one at or below the smallest. */
export const decades = (values: ReadonlyArray<number>): ReadonlyArray<number> => {
  const shown = values.filter((v) => Number.isFinite(v) && v > 0)
  const low = Math.floor(Math.log10(shown.length === 0 ? 10 : Math.min(...shown)))
  const high = Math.max(
    low + 1,
    Math.ceil(Math.log10(shown.length === 0 ? 10 : Math.max(...shown))),
  )
  return Array.from({ length: high - low + 1 }, (_, i) => 10 ** (low + i))
}

const escape = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')

const at = (n: number): string => String(+n.toFixed(1))

const text = (x: number, y: number, content: string, attributes: string): string =>
  `<text x="${at(x)}" y="${at(y)}"${attributes === '' ? '' : ` ${attributes}`}>${content}</text>`

/**
 * The SVG of the durable throughput curve under `heading`: x is log2 of the producer count, y
 * log10 of appends/s, so that the gap between the two lines shows the fraction at every count;
 * deltalog's points (`class="deltalog-point"`) on a solid line, the ceiling's
 * (`class="ceiling-point"`) on a dashed one.
 */
export const renderCurve = (c: CaseResult, heading: string): string => {
  const points = [...curvePoints(c)].sort((a, b) => a.producers - b.producers)
  const logs = points.map((p) => Math.log2(p.producers))
  const [minLog, maxLog] = [Math.min(...logs, 0), Math.max(...logs, 1)]
  const grid = decades(points.flatMap((p) => [p.deltalog, p.ceiling]))
  const [lowLog, highLog] = [Math.log10(grid[0] ?? 1), Math.log10(grid[grid.length - 1] ?? 10)]
  const x = (producers: number): number =>
    LEFT + ((Math.log2(producers) - minLog) / (maxLog - minLog)) * PLOT_W
  // A value the axis cannot show (none, or not positive) sits on its floor.
  const y = (value: number): number =>
    TOP +
    PLOT_H -
    ((Math.log10(Number.isFinite(value) && value > 0 ? value : 10 ** lowLog) - lowLog) /
      (highLog - lowLog)) *
      PLOT_H
  const lines = grid.map(
    (v) =>
      `<line x1="${LEFT}" y1="${at(y(v))}" x2="${WIDTH - RIGHT}" y2="${at(y(v))}" stroke="${COLOR.grid}"/>\n` +
      text(
        LEFT - 8,
        y(v) + 4,
        v.toLocaleString('en-US'),
        `fill="${COLOR.muted}" text-anchor="end"`,
      ),
  )
  const ticks = points.map((p) =>
    text(
      x(p.producers),
      TOP + PLOT_H + 18,
      String(p.producers),
      `fill="${COLOR.muted}" text-anchor="middle"`,
    ),
  )
  const line = (pick: (p: CurvePoint) => number, color: string, dash: string): string =>
    `<polyline fill="none" stroke="${color}" stroke-width="2"${dash} points="${points
      .map((p) => `${at(x(p.producers))},${at(y(pick(p)))}`)
      .join(' ')}"/>`
  const dots = (pick: (p: CurvePoint) => number, color: string, kind: string): string[] =>
    points.map(
      (p) =>
        `<circle class="${kind}-point" data-producers="${p.producers}" cx="${at(x(p.producers))}" ` +
        `cy="${at(y(pick(p)))}" r="4" fill="${color}"/>`,
    )
  const fractions = points.map((p) =>
    text(
      x(p.producers),
      Math.min(y(p.deltalog), y(p.ceiling)) - 10,
      `${Math.round((p.deltalog / p.ceiling) * 100)}%`,
      `fill="${COLOR.deltalog}" text-anchor="middle" font-weight="600"`,
    ),
  )
  const legend =
    `<tspan fill="${COLOR.muted}">appends/s, medians of ${c.rounds} round${c.rounds === 1 ? '' : 's'}; ` +
    `both axes on log scales; % is deltalog's share of the ceiling</tspan>` +
    `<tspan dx="16" fill="${COLOR.deltalog}">● deltalog</tspan>` +
    `<tspan dx="12" fill="${COLOR.ceiling}">┄ ceiling</tspan>`
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" ` +
      `viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="${FONT}" font-size="12">`,
    `<title>${escape(heading)}</title>`,
    `<rect x="0.5" y="0.5" width="${WIDTH - 1}" height="${HEIGHT - 1}" rx="6" ` +
      `fill="${COLOR.background}" stroke="${COLOR.border}"/>`,
    text(16, 26, escape(heading), `fill="${COLOR.text}" font-size="15" font-weight="600"`),
    text(16, 46, legend, ''),
    ...lines,
    ...ticks,
    text(LEFT + PLOT_W / 2, HEIGHT - 12, 'producers', `fill="${COLOR.muted}" text-anchor="middle"`),
    `<g class="ceiling">${line((p) => p.ceiling, COLOR.ceiling, ' stroke-dasharray="6 4"')}</g>`,
    `<g class="deltalog">${line((p) => p.deltalog, COLOR.deltalog, '')}</g>`,
    ...dots((p) => p.ceiling, COLOR.ceiling, 'ceiling'),
    ...dots((p) => p.deltalog, COLOR.deltalog, 'deltalog'),
    ...fractions,
    '</svg>',
    '',
  ].join('\n')
}
