#!/usr/bin/env node
/**
 * The `deltalog` command line. Commander parses the arguments, io-ts (args.ts) decides what
 * they mean, and each command (one file each under commands/) resolves with an exit code or an
 * error value. Whatever goes wrong ends as one line on stderr and exit code 2 — never a stack
 * trace; `verify` and `demo` exit with 1 when they find violations.
 */
import { readFileSync } from 'node:fs'
import { Command, CommanderError } from 'commander'
import { defineAppend } from './commands/append.js'
import { defineDemo } from './commands/demo.js'
import { defineExport } from './commands/export.js'
import { defineFollow } from './commands/follow.js'
import { defineImport } from './commands/import.js'
import { defineMigrate } from './commands/migrate.js'
import { defineScan } from './commands/scan.js'
import { defineStats } from './commands/stats.js'
import { defineVerify } from './commands/verify.js'
import { fail, USAGE_ERROR } from './outcome.js'
import { handleInterrupts } from './signals.js'
// verify checks event records and their index through the checks the event store registers.
import '../eventstore/verifyEvents.js'
import '../eventstore/verifyIndex.js'

/** The installed package's version: read from its package.json, so it can never go stale. */
const packageVersion = (): string =>
  (
    JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
      readonly version: string
    }
  ).version

const program = new Command('deltalog')
  .description('Look inside a deltalog log, write to it, and watch it survive crashes.')
  .version(packageVersion(), '-v, --version', 'print the version of deltalog')
  .exitOverride()
  .configureOutput({
    writeErr: (text) =>
      process.stderr.write(text.startsWith('error: ') ? `deltalog: ${text.slice(7)}` : text),
  })

// In the order `deltalog --help` lists them.
for (const define of [
  defineAppend,
  defineScan,
  defineFollow,
  defineStats,
  defineVerify,
  defineMigrate,
  defineExport,
  defineImport,
  defineDemo,
]) {
  define(program)
}

const main = async (): Promise<void> => {
  handleInterrupts()
  // A reader that goes away (`deltalog export | head`) ends the output, not the process badly.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0)
    fail(error.message)
  })
  try {
    await program.parseAsync(process.argv)
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version are not errors; commander has already printed its message.
      process.exitCode =
        error.exitCode === 0 || error.code === 'commander.helpDisplayed' ? 0 : USAGE_ERROR
      return
    }
    fail(error instanceof Error ? error.message : String(error))
  }
}

void main()
