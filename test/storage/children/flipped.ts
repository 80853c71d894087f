// A reader of damaged logs, in a process of its own so that the test sees whether it survives.
// For each line of stdin — {"base","dir","flips"} — it copies the closed log `base` to `dir`,
// XORs each flip's bytes into its file, then runs `verify`, `export` and `stats` as the command
// line runs them, and a `for await` scan of `openLog({ path, readOnly: true })`. It prints one
// line per trial: each answer (`ok`, `violations`, an error code, or `timeout` after 10 s) and
// how long it took. It exits on its own once stdin ends, never by process.exit: an abort while
// Node.js finalizes native objects at exit shows in its exit code.
import { cp, open, readdir, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import * as E from 'fp-ts/lib/Either.js'
import { exportLog } from '../../../src/cli/commands/export.js'
import { stats } from '../../../src/cli/commands/stats.js'
import { verify } from '../../../src/cli/commands/verify.js'
import type { Outcome } from '../../../src/cli/outcome.js'
import { DeltalogError, openLog } from '../../../src/index.js'

export interface Flip {
  /** Which file, as an index into the directory's sorted names (modulo their number). */
  readonly file: number
  /** Where in it, as a fraction of its size. */
  readonly at: number
  /** The bytes XORed there, none of them 0. */
  readonly mask: ReadonlyArray<number>
}

const LIMIT_MS = 10_000

const flip = async (dir: string, { file, at, mask }: Flip): Promise<string> => {
  const names = (await readdir(dir)).sort()
  const name = names[file % names.length] as string
  const handle = await open(join(dir, name), 'r+')
  try {
    const { size } = await handle.stat()
    if (size === 0) return `${name} (empty)`
    const offset = Math.min(Math.floor(at * size), size - 1)
    const bytes = Buffer.alloc(Math.min(mask.length, size - offset))
    await handle.read(bytes, 0, bytes.length, offset)
    for (let i = 0; i < bytes.length; i++) bytes[i] = (bytes[i] as number) ^ (mask[i] as number)
    await handle.write(bytes, 0, bytes.length, offset)
    return `${name}@${offset}`
  } finally {
    await handle.close()
  }
}

// Commands print to stdout, which carries this process's answers: their output is dropped.
const quietly = async <A>(run: () => Promise<A>): Promise<A> => {
  const write = process.stdout.write.bind(process.stdout)
  const dropped = (_chunk: unknown, ...rest: unknown[]): boolean => {
    for (const r of rest) if (typeof r === 'function') (r as () => void)()
    return true
  }
  process.stdout.write = dropped
  try {
    return await run()
  } finally {
    process.stdout.write = write
  }
}

const answerOf = (outcome: Outcome): string =>
  E.isLeft(outcome) ? outcome.left.code : outcome.right === 0 ? 'ok' : 'violations'

const scan = async (path: string): Promise<string> => {
  try {
    await using log = await openLog({ path, readOnly: true })
    for await (const entry of log.scan()) void entry
    return 'ok'
  } catch (error) {
    return error instanceof DeltalogError ? error.code : `thrown: ${String(error)}`
  }
}

const timed = async (run: () => Promise<string>): Promise<{ answer: string; ms: number }> => {
  const start = Date.now()
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<string>((resolve) => (timer = setTimeout(resolve, LIMIT_MS, 'timeout')))
  const answer = await Promise.race([run(), late])
  clearTimeout(timer)
  return { answer, ms: Date.now() - start }
}

for await (const line of createInterface({ input: process.stdin })) {
  const { base, dir, flips } = JSON.parse(line) as {
    base: string
    dir: string
    flips: ReadonlyArray<Flip>
  }
  await rm(dir, { recursive: true, force: true })
  await cp(base, dir, { recursive: true })
  const flipped: string[] = []
  for (const f of flips) flipped.push(await flip(dir, f))
  const args = { db: dir }
  const answers = {
    flipped,
    verify: await timed(() => quietly(() => verify(args)).then(answerOf)),
    export: await timed(() => quietly(() => exportLog(args)).then(answerOf)),
    stats: await timed(() => quietly(() => stats(args)).then(answerOf)),
    scan: await timed(() => scan(dir)),
  }
  process.stdout.write(`${JSON.stringify(answers)}\n`)
}
