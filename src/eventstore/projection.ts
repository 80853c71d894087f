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
import { aborted, errorValueOf, handlerFailed, orThrow, toDeltalogError } from '../errors.js'
import type { Log } from '../openLog.js'
import {
  documentKey,
  documentPrefix,
  documentsOf,
  encodeDocument,
  encodeState,
  loadDocument,
  loadState,
  stateKey,
  validateDocumentKey,
  type Documents,
  type Lane,
  type ProjectionState,
} from './documents.js'
import { isJson, type Json } from './envelope.js'
import type { ReadEvent } from './model.js'
import type { ReadAllFilter } from './options.js'
import type { Query } from './query.js'
import type { Record } from './requests.js'
import {
  checkFunction,
  checkName,
  checkOptions,
  makeLagMeter,
  nextCommit,
  readBatch,
  RunOptions,
  sourceOf,
  type LagMeter,
  type Run,
  type RunContext,
  type Source,
} from './runs.js'

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
/** The documents a lane keeps in memory between batches (older ones are read again). */
const CACHE = 10_000

/** A version being folded: where it is, what it has read past, its recent documents. */
interface Folding {
  lane: Lane
  readTo: number
  readonly cache: Map<string, { readonly document: Json | undefined }>
}

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
  const run = makeProjectionRun(store, fold, source, o.batch ?? DEFAULT_BATCH, state, loaded?.text)
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

interface Fold {
  readonly name: string
  readonly init: (key: string) => Json
  readonly evolve: (document: Json, event: ReadEvent) => Json | undefined
  readonly key: (event: ReadEvent) => string | undefined
}

/** The loop of a projection's run, and the rebuilds asked of it. */
const makeProjectionRun = (
  store: RunContext,
  fold: Fold,
  source: Source,
  batch: number,
  initial: ProjectionState,
  initialText: string | undefined,
): {
  readonly loop: (signal: AbortSignal, meter: LagMeter) => Promise<void>
  readonly rebuild: () => Promise<void>
} => {
  let text = initialText
  let live: Folding = folding(initial.active)
  let rebuilding: Folding | undefined =
    initial.rebuilding === undefined ? undefined : folding(initial.rebuilding)
  let waiters: Array<{ resolve: () => void; reject: (e: Error) => void }> = []
  let wake = new AbortController()
  let ended: Error | undefined

  /** The state to write after `lanes` change. */
  const stateOf = (): ProjectionState => ({
    active: live.lane,
    ...(rebuilding === undefined ? {} : { rebuilding: rebuilding.lane }),
  })

  /** Folds one batch into `lane` and commits it; false when there was nothing to fold. */
  const step = async (
    lane: Folding,
    isRebuild: boolean,
    end: number,
    meter: LagMeter,
  ): Promise<boolean> => {
    const reads = store.reads()
    const after = Math.max(lane.lane.position, lane.readTo - 1)
    const { events, through } = await readBatch(reads, source, after, end, batch)
    const last = events.at(-1)
    // A rebuild that has read past the live fold's position switches over: it has folded
    // every event the live fold has (and maybe more).
    const switching = isRebuild && through - 1 >= live.lane.position
    if (!isRebuild) meter.read(through, events[0])
    if (last === undefined && !switching) {
      lane.readTo = through
      // A partition may have dropped every event read: there may be more to read at once.
      return through < end
    }
    const position = switching ? through - 1 : (last as ReadEvent).position
    const changed = await foldBatch(store.target.log, fold, lane, events)
    const next: Lane = { version: lane.lane.version, position }
    const state: ProjectionState = switching
      ? { active: next }
      : isRebuild
        ? { active: live.lane, rebuilding: next }
        : { ...stateOf(), active: next }
    const records: Record[] = [...changed].map(([k, document]) => ({
      key: documentKey(fold.name, lane.lane.version, k),
      value: encodeDocument(document),
    }))
    const stateValue = encodeState(state)
    records.push({ key: stateKey(fold.name), value: stateValue })
    await store.target
      .submit({
        kind: 'records',
        records,
        ...(position >= 0 && store.target.sameLog ? { below: position } : {}),
        guard: { key: stateKey(fold.name), expected: text, what: `the projection ${fold.name}` },
      })
      .catch((error: unknown) => {
        throw refusedDocument(fold.name, lane.lane.version, events, records, error)
      })
    text = TEXT.decode(stateValue)
    for (const [k, document] of changed) remember(lane, k, document)
    lane.lane = next
    lane.readTo = through
    if (!isRebuild) meter.saved(position)
    if (switching) {
      meter.saved(position)
      live = lane
      rebuilding = undefined
      for (const w of waiters.splice(0)) w.resolve()
    }
    return true
  }

  return {
    loop: async (signal, meter) => {
      try {
        while (!signal.aborted) {
          const end = store.reads().log.nextSequence()
          let worked = false
          if (rebuilding !== undefined) worked = await step(rebuilding, true, end, meter)
          if (signal.aborted) break
          if (await step(live, false, end, meter)) worked = true
          if (!worked) {
            const w = wake.signal
            await nextCommit(store.reads().log, end, AbortSignal.any([signal, w]))
            if (w.aborted) wake = new AbortController()
          }
        }
      } catch (error) {
        ended = error instanceof Error ? error : toDeltalogError(errorValueOf(error))
        throw error
      } finally {
        ended ??= toDeltalogError(aborted(`the projection ${fold.name}`, 'it stopped'))
        for (const w of waiters.splice(0)) w.reject(ended)
      }
    },
    rebuild: () =>
      new Promise<void>((resolve, reject) => {
        if (ended !== undefined) return reject(ended)
        // A version above every one written: a rebuild in progress is resumed, never restarted.
        rebuilding ??= folding({ version: live.lane.version + 1, position: -1 })
        waiters = [...waiters, { resolve, reject }]
        wake.abort()
      }),
  }
}

const folding = (lane: Lane): Folding => ({ lane, readTo: lane.position + 1, cache: new Map() })

/**
 * The documents a batch changes, folded: each read from the lane's cache or the log, or
 * started by `init`. A throwing or non-JSON fold stops the projection with `HANDLER_FAILED`.
 */
const foldBatch = async (
  log: Log,
  fold: Fold,
  lane: Folding,
  events: ReadonlyArray<ReadEvent>,
): Promise<Map<string, Json | undefined>> => {
  const changed = new Map<string, Json | undefined>()
  const failed = (cause: unknown): never => {
    throw toDeltalogError(
      handlerFailed(
        `the projection ${fold.name}`,
        events[0]?.position ?? -1,
        events.at(-1)?.position ?? -1,
        1,
        cause,
      ),
    )
  }
  for (const event of events) {
    let k: string
    let document: Json | undefined
    try {
      const given = fold.key(event)
      if (given === undefined) continue
      k = orThrow(validateDocumentKey(fold.name, lane.lane.version, given, 'key(event)'))
      document = changed.has(k)
        ? changed.get(k)
        : (
            lane.cache.get(k) ?? {
              document: await loadDocument(log, fold.name, lane.lane.version, k),
            }
          ).document
      changed.set(k, fold.evolve(document === undefined ? fold.init(k) : document, event))
    } catch (cause) {
      return failed(cause)
    }
  }
  for (const [k, document] of changed) {
    if (document !== undefined && !isJson(document)) {
      failed(new Error(`evolve returned a document for ${JSON.stringify(k)} that is not JSON`))
    }
  }
  return changed
}

/**
 * What a commit's failure stops the projection with: `HANDLER_FAILED` if the log refused one of
 * its documents (too large for the log: the fold's doing, as a document that is not JSON is),
 * else the failure itself.
 */
const refusedDocument = (
  name: string,
  version: number,
  events: ReadonlyArray<ReadEvent>,
  records: ReadonlyArray<Record>,
  error: unknown,
): Error => {
  const value = errorValueOf(error)
  const found =
    value.code === 'INVALID_ARGUMENT' ? /^records\[(\d+)\]\.\w+$/.exec(value.field) : null
  const record = found === null ? undefined : records[Number(found[1])]
  const prefix = documentPrefix(name, version)
  if (record === undefined || !record.key.startsWith(prefix)) {
    return error instanceof Error ? error : toDeltalogError(value)
  }
  const why = value.message.replace(/^[^:]*: /, '')
  const key = JSON.stringify(record.key.slice(prefix.length))
  return toDeltalogError(
    handlerFailed(
      `the projection ${name}`,
      events[0]?.position ?? -1,
      events.at(-1)?.position ?? -1,
      1,
      new Error(`the log refused the document of ${key}: ${why}`),
    ),
  )
}

/** Keeps a document in the lane's cache, forgetting the oldest past `CACHE`. */
const remember = (lane: Folding, key: string, document: Json | undefined): void => {
  lane.cache.delete(key)
  lane.cache.set(key, { document })
  if (lane.cache.size > CACHE) {
    const oldest = lane.cache.keys().next()
    if (oldest.done !== true) lane.cache.delete(oldest.value)
  }
}

const TEXT = new TextDecoder()
