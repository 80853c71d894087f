/**
 * `checkProjection`: a property test of a user's projection or consumer on the crash-simulating
 * storage. Each run appends generated events to an event store on a crash-simulating storage,
 * in `sync` or `buffered` durability, with writes that resolve after seeded delays, while the
 * projection runs; it lets turns of the event loop pass, kills the process or cuts the power at
 * those moments — so mid-batch too — and restarts the store and the projection, and stops and
 * starts them as a deploy does. After every write to the storage it checks what a process kill
 * at that moment would leave, after every step what a power loss would, and after every crash
 * what the restart found, by the rules of projectionChecks.ts; at the end the projection must
 * catch up with every event. fast-check draws the runs and shrinks a failure to a short story
 * with the seed and path that replay it.
 *
 * fast-check is loaded when `checkProjection` is called, so that `deltalog/testing` loads without it.
 */
import type * as FastCheckModule from 'fast-check'
import type { Arbitrary, RunDetails } from 'fast-check'
import { invalidArgument, toDeltalogError } from '../errors.js'
import type { Json } from '../eventstore/envelope.js'
import type { Durability } from '../log/options.js'
import type { CrashMode } from './crashStorage.js'
import {
  describeStep,
  playStory,
  type Setting,
  type Step,
  type StreamAppend,
} from './projectionStory.js'
import { subjectOf, type ProjectionUnderTest } from './projectionSubjects.js'

export type {
  CustomConsumerUnderTest,
  CustomProjectionUnderTest,
  InlineConsumerUnderTest,
  InlineProjectionUnderTest,
  ProjectionUnderTest,
  SavedProjection,
} from './projectionSubjects.js'
export type { StreamAppend } from './projectionStory.js'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** The options of `checkProjection`. */
export interface CheckProjectionOptions<D extends Json = Json> {
  /** What is tested: a projection (inline or hand-written), or `{ consumer }`. */
  readonly projection: ProjectionUnderTest<D>
  /**
   * A fast-check arbitrary of one append. The default appends 1–3 events of type `Added` or
   * `Removed` with data `{ amount: 1…9 }` to one of the streams `stream-0`…`stream-2`.
   */
  readonly events?: Arbitrary<StreamAppend>
  /** How many runs (default 25); a failure is then shrunk. */
  readonly runs?: number
  /** The most steps of one run (default 20): appends, waits, crashes and restarts. */
  readonly steps?: number
  /** The seed and path a failure printed: they replay it. */
  readonly seed?: number
  readonly path?: string
  /** The store's durability; by default each run draws one. */
  readonly durability?: Durability
}

type FastCheck = typeof FastCheckModule

const DEFAULT_RUNS = 25
const DEFAULT_STEPS = 20

// -------------------------------------------------------------------------------------
// the check
// -------------------------------------------------------------------------------------

/**
 * Crash-tests a projection or consumer (see the module's comment and docs/crash-testing.md).
 * Resolves when every run passed; rejects with an Error whose message says what broke, after
 * which steps, and the `seed` and `path` that replay the shrunk failure. Rejects with a
 * `DeltalogError` `INVALID_ARGUMENT` for options it cannot use.
 */
export const checkProjection = async <D extends Json = Json>(
  options: CheckProjectionOptions<D>,
): Promise<void> => {
  const o = checkOptions(options)
  const subject = subjectOf(o.projection)
  const fc = await import('fast-check')
  const property = fc.asyncProperty(
    settings(fc, o.durability),
    fc.array(steps(fc, o.events ?? defaultAppends(fc)), { minLength: 1, maxLength: o.steps }),
    (setting, story) => playStory(subject, setting, story),
  )
  const details = await fc.check(property, {
    numRuns: o.runs,
    ...(o.seed === undefined ? {} : { seed: o.seed }),
    ...(o.path === undefined ? {} : { path: o.path }),
  })
  if (details.failed) throw failure(fc, details)
}

interface Checked {
  readonly projection: unknown
  readonly events: Arbitrary<StreamAppend> | undefined
  readonly runs: number
  readonly steps: number
  readonly seed: number | undefined
  readonly path: string | undefined
  readonly durability: Durability | undefined
}

const refuse = (field: string, message: string): never => {
  throw toDeltalogError(invalidArgument(field, message))
}

const positive = (n: unknown, field: string, fallback: number): number =>
  n === undefined
    ? fallback
    : Number.isSafeInteger(n) && (n as number) > 0
      ? (n as number)
      : refuse(field, 'must be a positive integer')

const checkOptions = (input: unknown): Checked => {
  if (typeof input !== 'object' || input === null) return refuse('options', 'must be an object')
  const given = input as Record<string, unknown>
  const known = ['projection', 'events', 'runs', 'steps', 'seed', 'path', 'durability']
  for (const name of Object.keys(given)) {
    if (!known.includes(name)) refuse(`options.${name}`, `is not an option (${known.join(', ')})`)
  }
  const { seed, path, durability, events } = given
  if (seed !== undefined && !Number.isSafeInteger(seed))
    refuse('options.seed', 'must be an integer')
  if (path !== undefined && typeof path !== 'string') refuse('options.path', 'must be a string')
  if (durability !== undefined && durability !== 'sync' && durability !== 'buffered') {
    refuse('options.durability', "must be 'sync' or 'buffered'")
  }
  if (events !== undefined && typeof (events as { generate?: unknown }).generate !== 'function') {
    refuse('options.events', 'must be a fast-check arbitrary')
  }
  return {
    projection: given['projection'],
    events: events as Arbitrary<StreamAppend> | undefined,
    runs: positive(given['runs'], 'options.runs', DEFAULT_RUNS),
    steps: positive(given['steps'], 'options.steps', DEFAULT_STEPS),
    seed: seed as number | undefined,
    path: path as string | undefined,
    durability: durability as Durability | undefined,
  }
}

// -------------------------------------------------------------------------------------
// arbitraries
// -------------------------------------------------------------------------------------

const defaultAppends = (fc: FastCheck): Arbitrary<StreamAppend> =>
  fc.record({
    streamId: fc.constantFrom('stream-0', 'stream-1', 'stream-2'),
    events: fc.array(
      fc.record({
        type: fc.constantFrom('Added', 'Removed'),
        data: fc.record({ amount: fc.integer({ min: 1, max: 9 }) }),
      }),
      { minLength: 1, maxLength: 3 },
    ),
  })

/** A seed: shrinking it would cost runs and make the story no easier to read. */
const seed = (fc: FastCheck): Arbitrary<number> => fc.noShrink(fc.integer())

const settings = (fc: FastCheck, durability: Durability | undefined): Arbitrary<Setting> =>
  fc.record({
    durability:
      durability === undefined
        ? fc.constantFrom<Durability>('sync', 'buffered')
        : fc.constant(durability),
    seed: seed(fc),
    // Writes resolve after up to this many turns: a crash lands while a batch is in flight.
    maxDelayTurns: fc.constantFrom(0, 2, 4),
    powerSeed: seed(fc),
  })

const steps = (fc: FastCheck, appends: Arbitrary<StreamAppend>): Arbitrary<Step> =>
  fc.oneof(
    { weight: 6, arbitrary: fc.record({ kind: fc.constant('append' as const), append: appends }) },
    {
      weight: 2,
      arbitrary: fc.record({
        kind: fc.constant('wait' as const),
        turns: fc.integer({ min: 1, max: 30 }),
      }),
    },
    {
      weight: 2,
      arbitrary: fc.record({
        kind: fc.constant('crash' as const),
        mode: fc.constantFrom<CrashMode>('process', 'power'),
        seed: seed(fc),
        turns: fc.integer({ min: 0, max: 30 }),
      }),
    },
    { weight: 1, arbitrary: fc.constant({ kind: 'restart' as const }) },
  )

// -------------------------------------------------------------------------------------
// the report
// -------------------------------------------------------------------------------------

/** The Error a failed check rejects with: what broke, the seed and path, and the shrunk run. */
const failure = (fc: FastCheck, details: RunDetails<[Setting, Step[]]>): Error => {
  const cause: unknown = details.errorInstance
  const why = cause instanceof Error ? cause.message : String(cause)
  const replay = `seed: ${details.seed}, path: ${JSON.stringify(details.counterexamplePath)}`
  const lines = [`checkProjection failed: ${why}`, '', `Replay: checkProjection({ …, ${replay} })`]
  if (details.counterexample !== null) {
    const [setting, story] = details.counterexample
    lines.push(
      `The run (after ${details.numRuns} runs and ${details.numShrinks} shrinks): ${setting.durability} durability, writes delayed up to ${setting.maxDelayTurns} turns (seed ${setting.seed}), power-loss views from seed ${setting.powerSeed}`,
      ...story.map((step, i) => `  ${i + 1}. ${describeStep(step)}`),
    )
  } else {
    lines.push(fc.defaultReportMessage(details) ?? '')
  }
  return new Error(lines.join('\n'), { cause })
}
