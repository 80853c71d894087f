/**
 * What `checkProjection` tests (checkProjection.ts), described by the user, and one way to run
 * and read each: an inline projection of the store's own (`store.projection`), a hand-written
 * projection (a `run` and a `read`), a durable consumer of the store's own (`store.consumer`),
 * or a hand-written consumer. The checker starts a subject on each restarted store, reads what
 * it saved from stores opened on crashed copies, and learns from consumers which events they
 * handled.
 */
import { invalidArgument, toDeltalogError } from '../errors.js'
import type { Json } from '../eventstore/envelope.js'
import type { ReadEvent } from '../eventstore/model.js'
import type { ReadAllFilter } from '../eventstore/options.js'
import type { Query } from '../eventstore/query.js'
import type { EventStore } from '../eventstore/store.js'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** Which events a projection or consumer reads: all (optionally filtered) or a query's. */
export interface SourceOptions {
  /** As `readAll`'s filter; or give `query`, not both. */
  readonly filter?: ReadAllFilter
  readonly query?: Query
}

/**
 * The fold a projection's documents must equal, as `store.projection` takes it: `key` names the
 * document an event changes (undefined: none), `init` starts it, `evolve` folds an event into it
 * (undefined removes it; its next event starts again from `init`).
 */
export interface ReferenceFold<D extends Json = Json> extends SourceOptions {
  readonly init: (key: string) => D
  readonly evolve: (document: D, event: ReadEvent) => D | undefined
  readonly key: (event: ReadEvent) => string | undefined
}

/** An inline projection of the store's own: the options of `store.projection(name, …)`. */
export interface InlineProjectionUnderTest<D extends Json = Json> extends ReferenceFold<D> {
  readonly name: string
  /** The most events folded into one commit (the projection's `batch`). */
  readonly batch?: number
}

/** What a hand-written projection has saved in a store: its documents and the position they reflect. */
export interface SavedProjection<D extends Json = Json> {
  /** The last position folded into `documents`; undefined (or -1) before the first. */
  readonly position: number | undefined
  readonly documents: ReadonlyMap<string, D>
}

/**
 * A hand-written projection. `run` keeps it up to date in `store` until `signal` aborts (a
 * restart after a crash calls it again on the restarted store); `read` reads what it saved
 * from a store — the restarted one, or one opened read-only on what a crash would leave. Its
 * documents and position must live in the store: what it keeps elsewhere no crash can test.
 */
export interface CustomProjectionUnderTest<D extends Json = Json> extends ReferenceFold<D> {
  readonly run: (store: EventStore, signal: AbortSignal) => Promise<void>
  readonly read: (store: EventStore) => Promise<SavedProjection<D>>
}

/** A durable consumer of the store's own: the options of `store.consumer(name, …)`. */
export interface InlineConsumerUnderTest extends SourceOptions {
  readonly name: string
  /** Called with each batch, as the consumer's handler; the checker records the batch once it resolves. */
  readonly handler?: (events: ReadonlyArray<ReadEvent>) => unknown
  readonly batch?: number
}

/**
 * A hand-written consumer. `run` hands each event it handles to `handled` once its work on it
 * is done (the effect that must happen at least once), and saves its checkpoint in `store`
 * until `signal` aborts; `checkpoint` reads the saved checkpoint — the last position handled.
 */
export interface CustomConsumerUnderTest extends SourceOptions {
  readonly run: (
    store: EventStore,
    signal: AbortSignal,
    handled: (events: ReadonlyArray<ReadEvent>) => void,
  ) => Promise<void>
  readonly checkpoint: (store: EventStore) => Promise<number | undefined>
}

/** What `checkProjection` tests: a projection, or `{ consumer }` for an at-least-once consumer. */
export type ProjectionUnderTest<D extends Json = Json> =
  | InlineProjectionUnderTest<D>
  | CustomProjectionUnderTest<D>
  | { readonly consumer: InlineConsumerUnderTest | CustomConsumerUnderTest }

/** A subject as it runs on one store. */
export interface Running {
  /** Settles when the run ends: by the signal, or by a failure. */
  readonly done: Promise<void>
}

/** What the checker does with a subject, whatever its kind. */
export interface Subject {
  readonly kind: 'projection' | 'consumer'
  readonly source: SourceOptions
  /** The fold documents must equal (projections only). */
  readonly fold: ReferenceFold | undefined
  /** Starts it on `store`; `handled` records what a consumer handled. */
  readonly start: (
    store: EventStore,
    signal: AbortSignal,
    handled: (events: ReadonlyArray<ReadEvent>) => void,
  ) => Promise<Running>
  /** The saved position (undefined: none) and, for a projection, the documents. */
  readonly read: (store: EventStore) => Promise<{
    readonly position: number | undefined
    readonly documents: ReadonlyMap<string, Json> | undefined
  }>
  /** The saved position alone, read as cheaply as the subject allows. */
  readonly position: (store: EventStore) => Promise<number | undefined>
}

// -------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------

const refuse = (field: string, message: string): never => {
  throw toDeltalogError(invalidArgument(field, message))
}

const isObject = (u: unknown): u is Record<string, unknown> =>
  typeof u === 'object' && u !== null && !Array.isArray(u)

const needFunctions = (given: Record<string, unknown>, field: string, names: string[]): void => {
  for (const name of names) {
    if (typeof given[name] !== 'function') refuse(`${field}.${name}`, 'must be a function')
  }
}

const sourceOf = (given: Record<string, unknown>, field: string): SourceOptions => {
  if (given['filter'] !== undefined && given['query'] !== undefined) {
    refuse(`${field}.query`, 'give a filter or a query, not both')
  }
  return {
    ...(given['filter'] === undefined ? {} : { filter: given['filter'] as ReadAllFilter }),
    ...(given['query'] === undefined ? {} : { query: given['query'] as Query }),
  }
}

/** A position as saved: -1 means none, as a projection's state says before its first event. */
const positionOf = (p: number | undefined): number | undefined =>
  p === undefined || p < 0 ? undefined : p

/** The subject `spec` describes, or a thrown `INVALID_ARGUMENT` naming what is wrong. */
export const subjectOf = (spec: unknown): Subject => {
  if (!isObject(spec)) return refuse('projection', 'must be an object')
  if (spec['consumer'] !== undefined) {
    const consumer = spec['consumer']
    if (!isObject(consumer)) return refuse('projection.consumer', 'must be an object')
    return typeof consumer['run'] === 'function'
      ? customConsumer(consumer)
      : inlineConsumer(consumer)
  }
  needFunctions(spec, 'projection', ['init', 'evolve', 'key'])
  return typeof spec['run'] === 'function' || typeof spec['read'] === 'function'
    ? customProjection(spec)
    : inlineProjection(spec)
}

const needName = (given: Record<string, unknown>, field: string): string =>
  typeof given['name'] === 'string'
    ? given['name']
    : refuse(`${field}.name`, 'must be a string (or give run and read for a hand-written one)')

const foldOf = (spec: Record<string, unknown>, source: SourceOptions): ReferenceFold => ({
  ...source,
  init: spec['init'] as ReferenceFold['init'],
  evolve: spec['evolve'] as ReferenceFold['evolve'],
  key: spec['key'] as ReferenceFold['key'],
})

const inlineProjection = (spec: Record<string, unknown>): Subject => {
  const name = needName(spec, 'projection')
  const source = sourceOf(spec, 'projection')
  const fold = foldOf(spec, source)
  const batch = spec['batch'] as number | undefined
  const position = async (store: EventStore): Promise<number | undefined> =>
    positionOf((await store.documents(name).state())?.active.position)
  return {
    kind: 'projection',
    source,
    fold,
    start: async (store, signal) => {
      const { init, evolve, key } = fold
      const run = await store.projection(name, {
        ...source,
        init,
        evolve,
        key,
        signal,
        ...(batch === undefined ? {} : { batch }),
      })
      return { done: run.done }
    },
    read: async (store) => {
      const documents = new Map<string, Json>()
      for await (const { key, document } of store.documents(name).scan()) {
        documents.set(key, document)
      }
      return { position: await position(store), documents }
    },
    position,
  }
}

const customProjection = (spec: Record<string, unknown>): Subject => {
  needFunctions(spec, 'projection', ['run', 'read'])
  const source = sourceOf(spec, 'projection')
  const run = spec['run'] as CustomProjectionUnderTest['run']
  const read = spec['read'] as CustomProjectionUnderTest['read']
  return {
    kind: 'projection',
    source,
    fold: foldOf(spec, source),
    start: (store, signal) =>
      Promise.resolve({ done: Promise.resolve().then(() => run(store, signal)) }),
    read: async (store) => {
      const saved = await read(store)
      return { position: positionOf(saved.position), documents: saved.documents }
    },
    position: async (store) => positionOf((await read(store)).position),
  }
}

const inlineConsumer = (spec: Record<string, unknown>): Subject => {
  const name = needName(spec, 'projection.consumer')
  const source = sourceOf(spec, 'projection.consumer')
  const handler = spec['handler'] as InlineConsumerUnderTest['handler']
  if (handler !== undefined && typeof handler !== 'function') {
    refuse('projection.consumer.handler', 'must be a function')
  }
  const batch = spec['batch'] as number | undefined
  const position = async (store: EventStore): Promise<number | undefined> =>
    positionOf(await store.checkpoints.load(name))
  return {
    kind: 'consumer',
    source,
    fold: undefined,
    start: async (store, signal, handled) => {
      const run = await store.consumer(name, {
        ...source,
        signal,
        ...(batch === undefined ? {} : { batch }),
        handler: async (events) => {
          await handler?.(events)
          handled(events)
        },
      })
      return { done: run.done }
    },
    read: async (store) => ({ position: await position(store), documents: undefined }),
    position,
  }
}

const customConsumer = (spec: Record<string, unknown>): Subject => {
  needFunctions(spec, 'projection.consumer', ['run', 'checkpoint'])
  const run = spec['run'] as CustomConsumerUnderTest['run']
  const checkpoint = spec['checkpoint'] as CustomConsumerUnderTest['checkpoint']
  const position = async (store: EventStore): Promise<number | undefined> =>
    positionOf(await checkpoint(store))
  return {
    kind: 'consumer',
    source: sourceOf(spec, 'projection.consumer'),
    fold: undefined,
    start: (store, signal, handled) =>
      Promise.resolve({ done: Promise.resolve().then(() => run(store, signal, handled)) }),
    read: async (store) => ({ position: await position(store), documents: undefined }),
    position,
  }
}
