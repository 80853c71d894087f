/**
 * How a command ends the process. A command resolves with an exit code or an error value; an
 * error value ends as one line on stderr (`deltalog: CODE: message`) and exit code 2, never a
 * stack trace.
 */
import type { Command } from 'commander'
import * as E from 'fp-ts/lib/Either.js'
import type * as t from 'io-ts'
import type { DeltalogErrorValue } from '../errors.js'
import { decodeArgs } from './args.js'

/** What a command resolves with: an exit code, or the error to report. */
export type Outcome = E.Either<DeltalogErrorValue, number>

/** The exit code of a bad flag, an unknown command, and any error a command resolves with. */
export const USAGE_ERROR = 2

/** Prints `message` as the one line of an error and sets the exit code to `USAGE_ERROR`. */
export const fail = (message: string): void => {
  process.stderr.write(`deltalog: ${message}\n`)
  process.exitCode = USAGE_ERROR
}

const describe = (error: DeltalogErrorValue): string => `${error.code}: ${error.message}`

/** Commander's action for a command: decodes its options with `codec` and runs `run` on them. */
export const action =
  <A>(codec: t.Decoder<unknown, A>, run: (args: A) => Promise<Outcome>) =>
  async (_: unknown, command: Command): Promise<void> => {
    const args = decodeArgs(codec, command.opts<Record<string, unknown>>())
    const outcome = E.isLeft(args) ? args : await run(args.right)
    if (E.isLeft(outcome)) fail(describe(outcome.left))
    else process.exitCode = outcome.right
  }
