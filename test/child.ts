// Runs a TypeScript file in a child Node.js process (through tsx), from any directory.
import { spawnSync, type SpawnSyncReturns } from 'node:child_process'
import { createRequire } from 'node:module'
import { pathToFileURL } from 'node:url'

const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href

/** Where a child script should import deltalog from: the source entry point. */
export const sourceEntry = new URL('../src/index.ts', import.meta.url).pathname

export const runTypeScript = (
  script: string,
  options: {
    readonly cwd?: string
    readonly timeoutMs?: number
    readonly args?: ReadonlyArray<string>
  } = {},
): SpawnSyncReturns<string> =>
  spawnSync(process.execPath, ['--import', tsx, script, ...(options.args ?? [])], {
    encoding: 'utf8',
    timeout: options.timeoutMs ?? 30_000,
    ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
  })
