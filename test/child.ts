// Runs a TypeScript file in a child Node.js process (through tsx), from any directory.
import { spawnSync, type SpawnSyncReturns } from 'node:child_process'
import { createRequire } from 'node:module'
import { pathToFileURL } from 'node:url'

const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href

/** Where a child script should import deltalog from: the source entry point. */
export const sourceEntry = new URL('../src/index.ts', import.meta.url).pathname

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
