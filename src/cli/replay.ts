/**
 * Stdin that a command reads twice: once to check every line, then again to write them, so
 * that a bad line found late has written nothing (`import`). A regular file is read again from
 * its start; anything else (a pipe, a terminal) is first copied to a file in a directory of
 * its own under the OS's temporary directory (`TMPDIR`), which is removed when the command is
 * done with it, or when the process exits first (a signal ends a command with `process.exit`).
 */
import { fstatSync, createReadStream, createWriteStream, rmSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import * as E from 'fp-ts/lib/Either.js'
import { ioError, type DeltalogErrorValue } from '../errors.js'

/** An input that can be read from its start any number of times. */
export interface Replayable {
  /** A new stream of the input, from its first byte. */
  readonly open: () => Readable
}

/** Whether `input` is a regular file, which can be read again at its own descriptor. */
const fileDescriptor = (input: Readable): number | undefined => {
  const fd = (input as { readonly fd?: unknown }).fd
  if (typeof fd !== 'number') return undefined
  try {
    return fstatSync(fd).isFile() ? fd : undefined
  } catch {
    return undefined
  }
}

/**
 * Runs `use` on `input` made replayable (see the module comment), and removes the copy it made,
 * if any, whatever happens. A copy that cannot be made is an `IO_ERROR` naming where it went.
 */
export const withReplayable = async <A>(
  input: Readable,
  use: (replayable: Replayable) => Promise<E.Either<DeltalogErrorValue, A>>,
): Promise<E.Either<DeltalogErrorValue, A>> => {
  const fd = fileDescriptor(input)
  if (fd !== undefined) {
    // Positioned reads at the descriptor, left open for the next reading.
    return use({ open: () => createReadStream('', { fd, start: 0, autoClose: false }) })
  }
  let dir: string | undefined
  const removeOnExit = (): void => {
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true })
  }
  try {
    dir = await mkdtemp(join(tmpdir(), 'deltalog-stdin-'))
    process.on('exit', removeOnExit)
    const copy = join(dir, 'stdin')
    const copied = await pipeline(input, createWriteStream(copy, { mode: 0o600 })).then(
      () => undefined,
      (error: unknown) => error,
    )
    if (copied !== undefined) return E.left(copyFailed(dir, copied))
    return await use({ open: () => createReadStream(copy) })
  } catch (error) {
    if (dir === undefined) return E.left(copyFailed(tmpdir(), error))
    throw error
  } finally {
    process.off('exit', removeOnExit)
    if (dir !== undefined) await rm(dir, { recursive: true, force: true })
  }
}

const copyFailed = (dir: string, error: unknown): DeltalogErrorValue =>
  ioError(
    `cannot copy stdin to ${dir}: ${error instanceof Error ? error.message : String(error)}`,
    error,
  )
