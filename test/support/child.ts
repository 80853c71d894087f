// Runs a TypeScript file in a child Node.js process (through tsx), from any directory.
import { spawn, spawnSync, type ChildProcess, type SpawnSyncReturns } from 'node:child_process'
import { createInterface } from 'node:readline'
import { createRequire } from 'node:module'
import { pathToFileURL } from 'node:url'

const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href

/** Where a child script should import deltalog from: the source entry point. */
export const sourceEntry = new URL('../../src/index.ts', import.meta.url).pathname

/** The arguments that make `node` run a TypeScript file. */
export const typeScriptArgs = (script: string, args: ReadonlyArray<string> = []): string[] => [
  '--import',
  tsx,
  script,
  ...args,
]

export const runTypeScript = (
  script: string,
  options: {
    readonly cwd?: string
    readonly timeoutMs?: number
    readonly args?: ReadonlyArray<string>
    /** Variables added to this process's environment. */
    readonly env?: Readonly<Record<string, string>>
  } = {},
): SpawnSyncReturns<string> =>
  spawnSync(process.execPath, typeScriptArgs(script, options.args), {
    encoding: 'utf8',
    timeout: options.timeoutMs ?? 30_000,
    env: { ...process.env, ...options.env },
    ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
  })

/** A TypeScript file running in a child process, read line by line. */
export interface RunningChild {
  readonly child: ChildProcess
  /** The next line of its stdout; rejects if it exits first or sends none in `timeoutMs`. */
  readonly line: (timeoutMs?: number) => Promise<string>
  /** Every line of its stdout not yet taken, once it has exited; rejects on a failed exit. */
  readonly rest: () => Promise<ReadonlyArray<string>>
  readonly send: (line: string) => void
}

/** Starts a TypeScript file in a child process, with variables added to the environment. */
export const spawnTypeScript = (
  script: string,
  options: {
    readonly args?: ReadonlyArray<string>
    readonly env?: Readonly<Record<string, string>>
  },
): RunningChild => {
  const child = spawn(process.execPath, typeScriptArgs(script, options.args), {
    env: { ...process.env, ...options.env },
    stdio: ['pipe', 'pipe', 'pipe'],
  })
  const lines: string[] = []
  const waiters: Array<() => void> = []
  let stderr = ''
  let exited: { code: number | null; signal: string | null } | undefined
  const wake = (): void => {
    for (const w of waiters.splice(0)) w()
  }
  createInterface({ input: child.stdout }).on('line', (line) => {
    lines.push(line)
    wake()
  })
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  const done = new Promise<void>((resolve) =>
    child.on('close', (code, signal) => {
      exited = { code, signal }
      wake()
      resolve()
    }),
  )
  const failed = (): Error =>
    new Error(`child ${script} exited with ${exited?.code ?? exited?.signal}: ${stderr}`)
  return {
    child,
    line: async (timeoutMs = 30_000) => {
      const deadline = Date.now() + timeoutMs
      for (;;) {
        const next = lines.shift()
        if (next !== undefined) return next
        if (exited !== undefined) throw failed()
        const left = deadline - Date.now()
        if (left <= 0) throw new Error(`child ${script} sent no line in ${timeoutMs} ms: ${stderr}`)
        await new Promise<void>((resolve) => {
          waiters.push(resolve)
          setTimeout(resolve, left).unref()
        })
      }
    },
    rest: async () => {
      await done
      if (exited?.code !== 0) throw failed()
      return lines.splice(0)
    },
    send: (line) => void child.stdin.write(`${line}\n`),
  }
}
