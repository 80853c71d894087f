/**
 * What a test hands the crash-simulating store, checked: its options, a crash's mode and seed,
 * a fault's kind and skip. A misuse is refused with `INVALID_ARGUMENT`, so that a misspelt fault
 * or crash fails the test that wrote it instead of letting it pass without testing anything.
 */
import { invalidArgument, toDeltalogError } from '../errors.js'
import { CRASH_MODES, type CrashMode } from './crashHistory.js'
import { FAULT_KINDS, type FaultKind } from './crashFaults.js'

/** How a crash-simulating store behaves. Every field is optional. */
export interface CrashStorageOptions {
  /** Seeds the delays, so that a run's interleaving replays exactly (default 0). */
  readonly seed?: number
  /**
   * Each write resolves after 0 to `maxDelayTurns` event-loop turns, drawn from `seed`. The
   * default, 0, resolves every call in the turn it was made, like the memory adapter. Turns
   * rather than milliseconds: the same seed gives the same interleaving whatever the machine's
   * speed, and a turn costs microseconds.
   */
  readonly maxDelayTurns?: number
  /** Delays reads too — `get`, `getMany` and each iteration step — by the same rule. */
  readonly delayReads?: boolean
}

const OPTION_NAMES: ReadonlyArray<keyof CrashStorageOptions> = [
  'seed',
  'maxDelayTurns',
  'delayReads',
]

// The controls (`crash`, `failNext`) are synchronous: a misuse throws at once. The opener
// rejects with what these throw.

const refuse = (field: string, message: string, got: unknown): never => {
  throw toDeltalogError(invalidArgument(field, `${message}; got ${shown(got)}`))
}

const shown = (u: unknown): string =>
  typeof u === 'string' ? `'${u}'` : typeof u === 'bigint' ? `${u}n` : String(u)

const oneOf = (values: ReadonlyArray<string>): string => {
  const quoted = values.map((v) => `'${v}'`)
  return quoted.length === 2
    ? `${quoted[0]} or ${quoted[1]}`
    : `one of ${quoted.slice(0, -1).join(', ')} or ${quoted[quoted.length - 1]}`
}

/** A crash mode, or a thrown `INVALID_ARGUMENT`. */
export const checkMode = (mode: unknown): CrashMode =>
  CRASH_MODES.includes(mode as CrashMode)
    ? (mode as CrashMode)
    : refuse('mode', `must be ${oneOf(CRASH_MODES)}`, mode)

/** A fault kind, or a thrown `INVALID_ARGUMENT`. */
export const checkKind = (kind: unknown): FaultKind =>
  FAULT_KINDS.includes(kind as FaultKind)
    ? (kind as FaultKind)
    : refuse('kind', `must be ${oneOf(FAULT_KINDS)}`, kind)

/** A seed, or a thrown `INVALID_ARGUMENT`. */
export const checkSeed = (seed: unknown, field = 'seed'): number =>
  Number.isSafeInteger(seed) ? (seed as number) : refuse(field, 'must be an integer', seed)

/** A count (`what` says of what), or a thrown `INVALID_ARGUMENT`. */
export const checkCount = (n: unknown, field: string, what: string): number =>
  Number.isSafeInteger(n) && (n as number) >= 0
    ? (n as number)
    : refuse(field, `must be a non-negative integer (${what})`, n)

/** The options with their defaults, or a thrown `INVALID_ARGUMENT` naming the field. */
export const checkOptions = (input: unknown): Required<CrashStorageOptions> => {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    return refuse('options', 'must be an object', input)
  }
  const given = input as Record<string, unknown>
  for (const name of Object.keys(given)) {
    if (!OPTION_NAMES.includes(name as keyof CrashStorageOptions)) {
      refuse(
        `options.${name}`,
        `is not an option (the options are ${OPTION_NAMES.join(', ')})`,
        given[name],
      )
    }
  }
  const { seed = 0, maxDelayTurns = 0, delayReads = false } = given
  if (typeof delayReads !== 'boolean') refuse('options.delayReads', 'must be a boolean', delayReads)
  return {
    seed: checkSeed(seed, 'options.seed'),
    maxDelayTurns: checkCount(maxDelayTurns, 'options.maxDelayTurns', 'event-loop turns'),
    delayReads: delayReads as boolean,
  }
}
