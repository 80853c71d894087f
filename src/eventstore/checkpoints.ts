/**
 * Checkpoints: a consumer's last handled position, kept under a name in the store's own log.
 * Saving goes through the writer, so it is ordered with appends and refused past the head;
 * an append can also carry one in its own commit (`appendToStream(…, { checkpoint })`).
 */
import { invalidArgument, orThrow, toDeltalogError } from '../errors.js'
import type { Log } from '../openLog.js'
import { Natural } from '../log/options.js'
import { checkpointKey, decodeCheckpoint, validateId } from './envelope.js'
import { lastOf } from './streams.js'
import type { Writer } from './writer.js'

/** Saves `position` as the checkpoint `name`. */
export const saveCheckpoint = async (
  writer: Writer,
  name: unknown,
  position: unknown,
): Promise<void> => {
  const valid = orThrow(validateId(name, 'name'))
  if (!Natural.is(position)) {
    throw toDeltalogError(invalidArgument('position', 'must be a non-negative safe integer'))
  }
  await writer.submit({ kind: 'checkpoint', name: valid, position })
}

/** The checkpoint `name`, or undefined when none was saved. */
export const loadCheckpoint = async (log: Log, name: unknown): Promise<number | undefined> => {
  const valid = orThrow(validateId(name, 'name'))
  const entry = await lastOf(log, checkpointKey(valid))
  return entry === undefined ? undefined : orThrow(decodeCheckpoint(entry.value))
}
