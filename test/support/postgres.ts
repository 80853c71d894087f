// A throwaway PostgreSQL server for a test run that was given none: when PostgreSQL's binaries
// are installed (/usr/lib/postgresql/*/bin) and DELTALOG_TEST_POSTGRES_URL is not set, vitest's
// global setup starts one with .ci/postgres.sh — the same cluster CI makes (as `nobody` when run
// as root) — and exports its URL to every worker and child process. The server belongs to a
// shell that waits on its stdin: when the test run ends, however it ends, the pipe closes, the
// shell exits, and its trap stops the server and removes its directory. Where the binaries are
// not installed, one loud line says so, with the command that runs the PostgreSQL suites.
import { spawn } from 'node:child_process'
import { existsSync, readdirSync } from 'node:fs'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'

const script = fileURLToPath(new URL('../../.ci/postgres.sh', import.meta.url))
const INSTALLED = '/usr/lib/postgresql'

/** Whether a PostgreSQL cluster can be made here without installing anything. */
const installed = (): boolean =>
  existsSync(INSTALLED) &&
  readdirSync(INSTALLED).some((version) => existsSync(`${INSTALLED}/${version}/bin/initdb`))

/**
 * Starts a server unless one is given (or CI, which gives one, is set); resolves with the
 * function that stops it.
 */
export const startPostgres = async (): Promise<() => Promise<void>> => {
  const none = (): Promise<void> => Promise.resolve()
  if (process.env['DELTALOG_TEST_POSTGRES_URL'] !== undefined || process.env['CI'] !== undefined) {
    return none
  }
  if (!installed()) {
    console.log(
      '\n*** PostgreSQL is not installed: the PostgreSQL suites are SKIPPED. Run them with `npm run test:postgres`. ***\n',
    )
    return none
  }
  const started = Date.now()
  const shell = spawn(
    'bash',
    [
      '-c',
      '. "$0" && start_postgres && echo "$DELTALOG_TEST_POSTGRES_URL" && echo "$DELTALOG_TEST_POSTGRES_RESTART" && read -r _',
      script,
    ],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  )
  const lines = createInterface({ input: shell.stdout })[Symbol.asyncIterator]()
  const url = (await lines.next()).value as string | undefined
  const restart = (await lines.next()).value as string | undefined
  if (url === undefined || restart === undefined) {
    throw new Error('could not start a PostgreSQL server for the tests (see the lines above)')
  }
  process.env['DELTALOG_TEST_POSTGRES_URL'] = url
  process.env['DELTALOG_TEST_POSTGRES_RESTART'] = restart
  console.log(`PostgreSQL for the tests started in ${Date.now() - started} ms`)
  return async () => {
    const exited = new Promise((resolve) => shell.once('exit', resolve))
    shell.stdin.end()
    await exited
  }
}
