/**
 * One run of `checkProjection` (checkProjection.ts): a story of steps — appends, waits, crashes
 * and restarts — played against a subject on a crash-simulating storage, with the checks of
 * projectionChecks.ts on a crashed copy of the storage after every write, after every step (a
 * power loss), after every crash (what the restart found) and at the end, once the subject has
 * caught up with every event.
 *
 * Each copy is checked against the source's events of its lineage — the storage it was taken
 * from, which a crash replaces: its events are those the run appended, read back after each
 * append, so the check never reads the live store of another lineage.
 */
import type { EventInput } from '../eventstore/envelope.js'
import type { Durability } from '../log/options.js'
import { openCrashStorage, type CrashMode, type CrashStorage } from './crashStorage.js'
import {
  checkView,
  makeHandled,
  makeSourceEvents,
  type SourceEvents,
  type View,
} from './projectionChecks.js'
import { startGeneration, turns, type Generation } from './projectionLife.js'
import type { Subject } from './projectionSubjects.js'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** One append a run makes: events appended to a stream in one commit. */
export interface StreamAppend {
  readonly streamId: string
  readonly events: ReadonlyArray<EventInput>
}

/** What a run does, step by step (a failure prints them). */
export type Step =
  | { readonly kind: 'append'; readonly append: StreamAppend }
  | { readonly kind: 'wait'; readonly turns: number }
  | {
      readonly kind: 'crash'
      readonly mode: CrashMode
      readonly seed: number
      readonly turns: number
    }
  | { readonly kind: 'restart' }

/** How the storage of one run behaves. */
export interface Setting {
  readonly durability: Durability
  /** Seeds the delays of the storage's writes. */
  readonly seed: number
  readonly maxDelayTurns: number
  /** Seeds the power losses looked at after each step. */
  readonly powerSeed: number
}

/**
 * How many turns of the event loop the subject may go without saving a new position before
 * it is said not to catch up at the end of a run.
 */
export const STALL_TURNS = 2_000
/** How often, in turns, the end of a run reads the saved position while it waits. */
const POLL_TURNS = 50

// -------------------------------------------------------------------------------------
// a run
// -------------------------------------------------------------------------------------

/** Plays `story`: resolves, or throws an Error saying what broke and when. */
export const playStory = async (
  subject: Subject,
  setting: Setting,
  story: ReadonlyArray<Step>,
): Promise<void> => {
  const handled = makeHandled()
  const views: View[] = []
  let events = makeSourceEvents(subject.source)
  let where = 'the start'
  let writes = 0
  /** Keeps a crashed copy to check, with its lineage's events and what consumers handled by now. */
  const look = (storage: CrashStorage, what: string, of: SourceEvents = events): void => {
    views.push({ storage, handled: handled.count(), where: what, events: of })
  }
  const onWrite = (storage: CrashStorage): void => {
    writes++
    look(storage.crashView('process'), `a process kill just after write ${writes} (${where})`)
  }
  const start = async (storage: CrashStorage): Promise<Generation> => {
    const started = await startGeneration(subject, storage, setting.durability, handled, onWrite)
    await events.refresh(started.store)
    return started
  }
  /** Checks every copy kept so far, in order: the first that is wrong fails the run. */
  const checkViews = async (): Promise<void> => {
    for (const view of views.splice(0)) failIf(await checkView(subject, view, handled))
  }
  let life = await start(
    await openCrashStorage({ seed: setting.seed, maxDelayTurns: setting.maxDelayTurns }),
  )
  try {
    for (const [i, step] of story.entries()) {
      where = `step ${i + 1}, ${describeStep(step)}`
      switch (step.kind) {
        case 'append':
          await life.store.appendToStream(step.append.streamId, step.append.events)
          await events.refresh(life.store)
          break
        case 'wait':
          await turns(step.turns)
          break
        case 'crash': {
          await turns(step.turns)
          failIf(life.failure())
          const crashed = await life.kill(step.mode, step.seed)
          look(crashed.crashView('process'), `the restart after ${where}`)
          // A new lineage: what the crash took is gone from it, and new positions follow.
          events = makeSourceEvents(subject.source)
          life = await start(crashed)
          break
        }
        case 'restart':
          life = await start(await life.stop())
          break
      }
      failIf(life.failure())
      const seed = setting.powerSeed + i
      look(life.storage.crashView('power', seed), `a power loss (seed ${seed}) after ${where}`)
      await checkViews()
    }
    where = 'the end'
    await catchUp(subject, life, events)
    look(life.storage.crashView('process'), 'it caught up at the end')
    await checkViews()
  } finally {
    await life.kill('process', 0)
  }
}

const failIf = (wrong: string | undefined): void => {
  if (wrong !== undefined) throw new Error(wrong)
}

/**
 * Waits for the subject to save the position of the last event, as long as it keeps saving
 * new positions: it fails once STALL_TURNS pass without one.
 */
const catchUp = async (subject: Subject, life: Generation, events: SourceEvents): Promise<void> => {
  const last = events.all().at(-1)?.position
  let position: number | undefined
  let stalled = 0
  while (stalled <= STALL_TURNS) {
    failIf(life.failure())
    const now = await subject.position(life.store)
    if (last === undefined || (now !== undefined && now >= last)) return
    stalled = now === position ? stalled + POLL_TURNS : 0
    position = now
    await turns(POLL_TURNS)
  }
  failIf(
    `it did not catch up: its saved position is ${String(position)} and stayed so for ${STALL_TURNS} turns; the last event's is ${last}`,
  )
}

/** A step, as a failure's story tells it. */
export const describeStep = (step: Step): string => {
  switch (step.kind) {
    case 'append':
      return `append to ${JSON.stringify(step.append.streamId)}: ${step.append.events
        .map((e) => `${e.type} ${JSON.stringify(e.data ?? null)}`)
        .join(', ')}`
    case 'wait':
      return `wait ${step.turns} turns`
    case 'crash':
      return `${step.mode === 'process' ? 'kill the process' : `cut the power (seed ${step.seed})`} after ${step.turns} turns`
    case 'restart':
      return 'stop and restart'
  }
}
