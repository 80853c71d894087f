/**
 * Reading stdin line by line, for `append` and `import`: every line of it, or its NDJSON lines,
 * which skip blank lines and say so on stderr. `import` reads its input twice, and gives the
 * stream to read each time.
 */
import { createInterface } from 'node:readline'
import type { Readable } from 'node:stream'

/** A line of stdin, numbered from 1. */
export interface Line {
  readonly line: string
  readonly number: number
}

// How many skipped line numbers a note lists before it only counts them.
const LISTED_LINES = 10

/**
 * Every line of stdin, empty ones included: a line is a value, and an empty line is an empty
 * value. A final newline ends the last line; it does not start an empty one.
 */
export async function* stdinLines(input: Readable = process.stdin): AsyncGenerator<Line> {
  let number = 0
  for await (const line of createInterface({ input, crlfDelay: Infinity })) {
    yield { line, number: ++number }
  }
}

/**
 * The NDJSON lines of stdin. A blank line holds no JSON value, so it is skipped — but never
 * silently: once stdin ends, one line on stderr says which were skipped (unless `quiet`, for a
 * second reading of the same input).
 */
export async function* ndjsonLines(
  input: Readable = process.stdin,
  quiet = false,
): AsyncGenerator<Line> {
  const skipped: number[] = []
  for await (const line of stdinLines(input)) {
    if (line.line.trim() === '') skipped.push(line.number)
    else yield line
  }
  if (skipped.length > 0 && !quiet) process.stderr.write(skippedNote(skipped))
}

/** The note on stderr that names the blank lines skipped. */
const skippedNote = (skipped: ReadonlyArray<number>): string => {
  const listed = skipped.slice(0, LISTED_LINES).join(', ')
  const more = skipped.length > LISTED_LINES ? ` and ${skipped.length - LISTED_LINES} more` : ''
  return `deltalog: note: skipped ${skipped.length} blank line${skipped.length === 1 ? '' : 's'} of stdin (${skipped.length === 1 ? 'line' : 'lines'} ${listed}${more})\n`
}
