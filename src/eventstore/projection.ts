/**
 * Inline projections, exactly once: a named fold whose documents live in the store. Each batch
 * of events is folded into the documents it touches (`key` says which, `init` starts one,
 * `evolve` folds an event into it, returning undefined removes it), and the changed documents
 * are written in ONE commit with the projection's state — the position handled — guarded so that
 * only the run that wrote the state last may write it again. After any crash the documents are
 * the fold of exactly the events up to the saved position, and a restart goes on from there.
 *
 * `rebuild()` folds the events again from the start into a new version of the documents, a
 * batch in turn with the live fold, while the serving version keeps answering reads; the commit
 * that brings the new version level with the live one makes it the serving one. A rebuild that a
 * stop or crash interrupts goes on when the projection runs again.
 */
import { aborted, errorValueOf, toDeltalogError } from '../errors.js'
import {
  documentKey,
  documentsOf,
  encodeDocument,
  encodeState,
  loadState,
  stateKey,
  type Documents,
  type Lane,
  type ProjectionState,
} from './documents.js'
import type { Json } from './envelope.js'
import {
  foldBatch,
  folding,
  refusedDocument,
  remember,
  type Fold,
  type Folding,
} from './folding.js'
import type { ReadEvent } from './model.js'
import type { ReadAllFilter } from './options.js'
import type { Query } from './query.js'
import type { Record } from './requests.js'
import {
  checkFunction,
  checkName,
  checkOptions,
  nextCommit,
  nextTurn,
  readBatch,
  RunOptions,
  sourceOf,
  type RunContext,
  type Source,
} from './runs.js'
import { makeLagMeter, type LagMeter, type Run } from './running.js'
import { delivering } from './tracing.js'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** The options of `projection`: the fold, and which events it reads. */
export interface ProjectionOptions<D extends Json = Json> {
  /** The document a key starts from, before its first event. */
  readonly init: (key: string) => D
  /** Folds an event into its document; undefined removes the document. Must not throw for good events. */
  readonly evolve: (document: D, event: ReadEvent) => D | undefined
  /** The key of the document an event changes; undefined: none. */
  readonly key: (event: ReadEvent) => string | undefined
  /** Which events it reads (as `readAll`'s filter); or give `query`, not both. */
  readonly filter?: ReadAllFilter
  readonly query?: Query
  /** The most events folded into one commit (default 1000). */
  readonly batch?: number
  /** Aborting it stops the projection, as `stop()` does. */
  readonly signal?: AbortSignal
  /**
   * The store that keeps the documents and state, if not this one: the events are read from
   * this store (which may then be read-only, in another process), the documents written to
   * `into` and read from it.
   */
  readonly into?: unknown
}

/** A running projection: its documents as last committed, and its run. */
export interface Projection<D extends Json = Json> extends Run, Documents<D> {
  /**
   * Folds every event again into a new version, switched to when it has caught up; resolves
   * then. Rejects if the projection stops first (the rebuild goes on at its next run).
   */
  readonly rebuild: () => Promise<void>
}

const DEFAULT_BATCH = 1000

// -------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------

/** Starts the projection `name`; resolves once it has loaded its state and runs. */
export const startProjection = async <D extends Json>(
  store: RunContext,
  name: unknown,
  options: ProjectionOptions<D>,
): Promise<Projection<D>> => {
  const n = checkName(name)
  const { init, evolve, key, ...rest } = (options ?? {}) as Partial<ProjectionOptions<D>>
  checkFunction(init, 'options.init')
  checkFunction(evolve, 'options.evolve')
  checkFunction(key, 'options.key')
  const o = checkOptions(RunOptions, rest)
  const ctx = store.reads()
  const source = await sourceOf(ctx, o)
  const { target } = store
  const loaded = await loadState(target.log, n)
  const fold: Fold = {
    name: n,
    init: init as (key: string) => Json,
    evolve: evolve as (document: Json, event: ReadEvent) => Json | undefined,
    key: key as (event: ReadEvent) => string | undefined,
  }
  const state = loaded?.state ?? { active: { version: 1, position: -1 } }
  const run = makeProjectionRun(
    { store, fold, source, batch: o.batch ?? DEFAULT_BATCH },
    state,
    loaded?.text,
  )
  const meter = makeLagMeter(ctx.log, state.active.position)
  const handle = target.runs.start(
    `projection ${n}`,
    n,
    o.signal === undefined ? store.closing : AbortSignal.any([o.signal, store.closing]),
    (signal) => run.loop(signal, meter),
    meter,
  )
  const documents = documentsOf(target.log, n) as unknown as Documents<D>
  return { ...handle, ...documents, rebuild: run.rebuild }
}

/** What a projection's run holds between batches: its versions being folded, and its rebuilds. */
interface Lanes {
  live: Folding
  rebuilding: Folding | undefined
  /** The state's text as this run last wrote (or read) it: what its next write expects. */
  text: string | undefined
  waiters: Array<{ readonly resolve: () => void; readonly reject: (e: Error) => void }>
  /** Aborted to wake the loop from its wait for a commit (a rebuild was asked). */
  wake: AbortController
  ended: Error | undefined
}

/** What a batch reads and folds with. */
interface Folder {
  readonly store: RunContext
  readonly fold: Fold
  readonly source: Source
  readonly batch: number
}

/** The loop of a projection's run, and the rebuilds asked of it. */
const makeProjectionRun = (
  folder: Folder,
  initial: ProjectionState,
  initialText: string | undefined,
): {
  readonly loop: (signal: AbortSignal, meter: LagMeter) => Promise<void>
  readonly rebuild: () => Promise<void>
} => {
  const { store, fold } = folder
  const lanes: Lanes = {
    live: folding(initial.active, initialText === undefined),
    rebuilding: initial.rebuilding === undefined ? undefined : folding(initial.rebuilding, false),
    text: initialText,
    waiters: [],
    wake: new AbortController(),
    ended: undefined,
  }
  return {
    loop: async (signal, meter) => {
      try {
        while (!signal.aborted) {
          const end = store.reads().log.nextSequence()
          let worked = false
          if (lanes.rebuilding !== undefined) {
            worked = await step(folder, lanes, lanes.rebuilding, end, meter)
          }
          if (signal.aborted) break
          if (await step(folder, lanes, lanes.live, end, meter)) worked = true
          if (!worked) {
            const w = lanes.wake.signal
            await nextCommit(store.reads().log, end, AbortSignal.any([signal, w]))
            if (w.aborted) lanes.wake = new AbortController()
          } else {
            // Catching up from memory must still let timers and I/O run between batches.
            await nextTurn()
          }
        }
      } catch (error) {
        lanes.ended = error instanceof Error ? error : toDeltalogError(errorValueOf(error))
        throw error
      } finally {
        lanes.ended ??= toDeltalogError(aborted(`the projection ${fold.name}`, 'it stopped'))
        for (const w of lanes.waiters.splice(0)) w.reject(lanes.ended)
      }
    },
    rebuild: () =>
      new Promise<void>((resolve, reject) => {
        if (lanes.ended !== undefined) return reject(lanes.ended)
        // A version above every one written: a rebuild in progress is resumed, never restarted.
        lanes.rebuilding ??= folding({ version: lanes.live.lane.version + 1, position: -1 }, true)
        lanes.waiters = [...lanes.waiters, { resolve, reject }]
        lanes.wake.abort()
      }),
  }
}

/**
 * Folds one batch into `lane` (the live one or a rebuild's) and commits it with the state;
 * false when there was nothing to fold. A rebuild that has read past the live fold's position
 * has folded every event the live fold has (and maybe more): its commit makes it the live one.
 */
const step = async (
  { store, fold, source, batch }: Folder,
  lanes: Lanes,
  lane: Folding,
  end: number,
  meter: LagMeter,
): Promise<boolean> => {
  const isRebuild = lane === lanes.rebuilding
  const after = Math.max(lane.lane.position, lane.readTo - 1)
  const { events, through } = await readBatch(store.reads(), source, after, end, batch)
  const last = events.at(-1)
  const switching = isRebuild && through - 1 >= lanes.live.lane.position
  if (!isRebuild) meter.read(through, events[0])
  if (last === undefined && !switching) {
    lane.readTo = through
    // A partition may have dropped every event read: there may be more to read at once.
    return through < end
  }
  const position = switching ? through - 1 : (last as ReadEvent).position
  const next: Lane = { version: lane.lane.version, position }
  const changed = await delivering(
    { log: store.logName, subscriber: 'projection', name: fold.name },
    events,
    async () => {
      const folded = await foldBatch(store.target.log, fold, lane, events)
      const { live, rebuilding } = lanes
      const state: ProjectionState = switching
        ? { active: next }
        : isRebuild
          ? { active: live.lane, rebuilding: next }
          : { active: next, ...(rebuilding === undefined ? {} : { rebuilding: rebuilding.lane }) }
      lanes.text = await commit(store, fold, next, folded, state, lanes.text, events)
      return folded
    },
    { rebuild: isRebuild },
    (ctx, folded) => (ctx.documents = folded.size),
  )
  for (const [k, document] of changed) remember(lane, k, document)
  lane.lane = next
  lane.readTo = through
  if (!isRebuild || switching) meter.saved(position)
  if (switching) {
    lanes.live = lane
    lanes.rebuilding = undefined
    for (const w of lanes.waiters.splice(0)) w.resolve()
  }
  return true
}

/**
 * Writes the documents a batch changed in version `next` with the projection's `state`, as one request:
 * one commit, guarded by the state's text this run last saw. Resolves with the state's new text.
 */
const commit = async (
  store: RunContext,
  fold: Fold,
  next: Lane,
  changed: ReadonlyMap<string, Json | undefined>,
  state: ProjectionState,
  expected: string | undefined,
  events: ReadonlyArray<ReadEvent>,
): Promise<string> => {
  const records: Record[] = [...changed].map(([k, document]) => ({
    key: documentKey(fold.name, next.version, k),
    value: encodeDocument(document),
  }))
  const stateValue = encodeState(state)
  records.push({ key: stateKey(fold.name), value: stateValue })
  const { position } = next
  await store.target
    .submit({
      kind: 'records',
      records,
      ...(position >= 0 && store.target.sameLog ? { below: position } : {}),
      guard: { key: stateKey(fold.name), expected, what: `the projection ${fold.name}` },
    })
    .catch((error: unknown) => {
      throw refusedDocument(fold.name, next.version, events, records, error)
    })
  return TEXT.decode(stateValue)
}

const TEXT = new TextDecoder()
