/**
 * A projection's fold of one batch (projection.ts runs it): the documents the batch changes,
 * each read from the version's cache or the log (or known not to exist) and folded with the
 * caller's `key`, `init` and `evolve`; and the errors that stop a projection on a batch.
 */
import { errorValueOf, handlerFailed, orThrow, toDeltalogError } from '../errors.js'
import type { Log } from '../openLog.js'
import { documentPrefix, loadDocument, validateDocumentKey, type Lane } from './documents.js'
import { isJson, type Json } from './envelope.js'
import type { ReadEvent } from './model.js'
import type { Record } from './requests.js'

/** A projection's fold, as its options give it. */
export interface Fold {
  readonly name: string
  readonly init: (key: string) => Json
  readonly evolve: (document: Json, event: ReadEvent) => Json | undefined
  readonly key: (event: ReadEvent) => string | undefined
}

/** The documents a lane keeps in memory between batches (older ones are read again). */
const CACHE = 10_000
/** The most keys a version begun by this run remembers writing (see `Folding.written`). */
const WRITTEN = 1_000_000

/** A version being folded: where it is, what it has read past, its recent documents. */
export interface Folding {
  lane: Lane
  readTo: number
  readonly cache: Map<string, { readonly document: Json | undefined }>
  /**
   * The keys of every document of the version, while this run began it and has written them
   * all (a new projection's first version, a rebuild's): a key not among them has no document
   * to read. Undefined when the version was begun before, or past `WRITTEN` keys.
   */
  written: Set<string> | undefined
}

export const folding = (lane: Lane, begun: boolean): Folding => ({
  lane,
  readTo: lane.position + 1,
  cache: new Map(),
  written: begun ? new Set() : undefined,
})

/**
 * The documents a batch changes, folded: each read from the lane's cache or the log, or
 * started by `init`. A throwing or non-JSON fold stops the projection with `HANDLER_FAILED`.
 */
export const foldBatch = async (
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
              document:
                lane.written !== undefined && !lane.written.has(k)
                  ? undefined
                  : await loadDocument(log, fold.name, lane.lane.version, k),
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
export const refusedDocument = (
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
export const remember = (lane: Folding, key: string, document: Json | undefined): void => {
  lane.written?.add(key)
  if ((lane.written?.size ?? 0) > WRITTEN) lane.written = undefined
  lane.cache.delete(key)
  lane.cache.set(key, { document })
  if (lane.cache.size > CACHE) {
    const oldest = lane.cache.keys().next()
    if (oldest.done !== true) lane.cache.delete(oldest.value)
  }
}
