/**
 * Progress of long commands (import, verify, demo): a bar on a terminal, drawn by cli-progress
 * on stderr, and otherwise a plain line on stderr now and then, so that piped output stays
 * clean and logs stay readable.
 */
import cliProgress from 'cli-progress'

/** A running progress display. */
export interface Progress {
  readonly update: (value: number) => void
  readonly stop: () => void
}

// A plain line at most this often.
const PLAIN_EVERY_MS = 1000

/**
 * Shows progress of `label`, counted in `unit`. With a `total` the bar fills up; without one the
 * count alone is shown.
 */
export const makeProgress = (label: string, unit: string, total?: number): Progress => {
  if (process.stdout.isTTY && process.stderr.isTTY) {
    const bar = new cliProgress.SingleBar(
      {
        format:
          total === undefined
            ? `${label} {value} ${unit}`
            : `${label} [{bar}] {value}/{total} ${unit}`,
        hideCursor: true,
        clearOnComplete: true,
      },
      cliProgress.Presets.shades_classic,
    )
    bar.start(total ?? 0, 0)
    return {
      update: (value) => {
        if (total === undefined) bar.setTotal(value)
        bar.update(value)
      },
      stop: () => bar.stop(),
    }
  }
  let last = Date.now()
  let shown = -1
  let current = 0
  const line = (): void => {
    shown = current
    process.stderr.write(`${label}: ${current}${total === undefined ? '' : `/${total}`} ${unit}\n`)
  }
  return {
    update: (value) => {
      current = value
      if (Date.now() - last >= PLAIN_EVERY_MS) {
        last = Date.now()
        line()
      }
    },
    stop: () => {
      if (shown !== current && shown >= 0) line()
    },
  }
}
