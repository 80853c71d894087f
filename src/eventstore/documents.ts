/**
 * A projection's storage in the store's log: a document per key and version under
 * `p/<name's length>:<name>/<version>/<key>`, and the projection's state under `q/<name>` —
 * which version serves reads and the last position it has handled, and a rebuild's version and
 * position while one runs. The state is written in the same commit as the documents it covers,
 * so the documents of the serving version are always the fold of the events up to its position.
 *
 * Reads here need only the log: a read-only store (another process, on PostgreSQL) reads the
 * documents as the projection's run last committed them.
 */
import * as E from 'fp-ts/lib/Either.js'
import * as t from 'io-ts'
import { keyBytes } from '../codec/keys.js'
import { invalidArgument, orThrow, toDeltalogError, type DeltalogErrorValue } from '../errors.js'
import type { Log } from '../openLog.js'
import { AbortSignalLike, decodeStrict } from '../log/options.js'
import { decodeJson, DOCUMENTS, jsonBytes, PROJECTIONS, validateId, type Json } from './envelope.js'
import { lastOf } from './streams.js'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** One version of a projection's documents, and the last position folded into them (-1: none). */
export interface Lane {
  readonly version: number
  readonly position: number
}

/** A projection's state: the version serving reads, and a rebuild's while one runs. */
export interface ProjectionState {
  readonly active: Lane
  readonly rebuilding?: Lane
}

/** A document and its key, as a scan of a projection gives them. */
export interface KeyedDocument<D = Json> {
  readonly key: string
  readonly document: D
}

/** The options of a scan of a projection's documents. */
export const ScanDocumentsOptions = t.partial({
  /** Only the documents whose keys begin with it. */
  prefix: t.string,
  /** Stops the scan: its next `next()` rejects with `ABORTED`. */
  signal: AbortSignalLike,
})
export type ScanDocumentsOptions = Readonly<t.TypeOf<typeof ScanDocumentsOptions>>

/** A projection's documents as it last committed them: readable from any store on the log. */
export interface Documents<D = Json> {
  /** The document of `key` in the serving version, or undefined when it has none. */
  readonly get: (key: string) => Promise<D | undefined>
  /** The serving version's documents, in the byte order of their keys. */
  readonly scan: (options?: ScanDocumentsOptions) => AsyncIterableIterator<KeyedDocument<D>>
  /** The serving version and the last position folded into it; undefined before its first commit. */
  readonly state: () => Promise<ProjectionState | undefined>
}

// -------------------------------------------------------------------------------------
// keys and codecs
// -------------------------------------------------------------------------------------

/** The key of a projection's state. */
export const stateKey = (name: string): string => PROJECTIONS + name

/** The common start of the keys of a version's documents: the name's length makes it unambiguous. */
export const documentPrefix = (name: string, version: number): string =>
  `${DOCUMENTS}${keyBytes(name).length}:${name}/${version}/`

export const documentKey = (name: string, version: number, key: string): string =>
  documentPrefix(name, version) + key

/** The longest key a document's may be, in UTF-8 bytes: its log key must fit the log's default. */
const MAX_KEY_BYTES = 4096

const LaneCodec = t.type({ v: t.number, p: t.number })
const StateCodec = t.intersection([t.type({ a: LaneCodec }), t.partial({ r: LaneCodec })])
const DocumentCodec = t.partial({ d: t.unknown })

export const encodeState = (state: ProjectionState): Uint8Array =>
  jsonBytes({
    a: { v: state.active.version, p: state.active.position },
    ...(state.rebuilding === undefined
      ? {}
      : { r: { v: state.rebuilding.version, p: state.rebuilding.position } }),
  })

export const decodeState = (bytes: Uint8Array): E.Either<DeltalogErrorValue, ProjectionState> =>
  E.map((s: t.TypeOf<typeof StateCodec>) => ({
    active: { version: s.a.v, position: s.a.p },
    ...(s.r === undefined ? {} : { rebuilding: { version: s.r.v, position: s.r.p } }),
  }))(decodeJson(StateCodec, 'projection state', bytes))

/** A document as stored; `undefined` (the document was removed) as an empty envelope. */
export const encodeDocument = (document: Json | undefined): Uint8Array =>
  jsonBytes(document === undefined ? {} : { d: document })

export const decodeDocument = (bytes: Uint8Array): E.Either<DeltalogErrorValue, Json | undefined> =>
  E.map((d: t.TypeOf<typeof DocumentCodec>) => d.d as Json | undefined)(
    decodeJson(DocumentCodec, 'projection document', bytes),
  )

/** Checks a document's key: an id, whose log key fits. */
export const validateDocumentKey = (
  name: string,
  version: number,
  key: unknown,
  field: string,
): E.Either<DeltalogErrorValue, string> =>
  E.chain((valid: string) => {
    const bytes = keyBytes(documentKey(name, version, valid)).length
    return bytes > MAX_KEY_BYTES
      ? E.left(
          invalidArgument(
            field,
            `makes a log key of ${bytes} bytes in UTF-8 with the projection's name; at most ${MAX_KEY_BYTES}`,
          ),
        )
      : E.right(valid)
  })(validateId(key, field))

// -------------------------------------------------------------------------------------
// reads
// -------------------------------------------------------------------------------------

/** A projection's state and its stored text (what a guarded write expects), if it has one. */
export const loadState = async (
  log: Log,
  name: string,
): Promise<{ readonly state: ProjectionState; readonly text: string } | undefined> => {
  const entry = await lastOf(log, stateKey(name))
  if (entry === undefined) return undefined
  return { state: orThrow(decodeState(entry.value)), text: TEXT.decode(entry.value) }
}

/** The document of `key` in `version`, undefined when it has none. */
export const loadDocument = async (
  log: Log,
  name: string,
  version: number,
  key: string,
): Promise<Json | undefined> => {
  const entry = await lastOf(log, documentKey(name, version, key))
  return entry === undefined ? undefined : orThrow(decodeDocument(entry.value))
}

/** The documents of a projection, read from `log` (see `Documents`). */
export const documentsOf = (log: Log, name: unknown): Documents => {
  const valid = validateId(name, 'name')
  const checked = (): string => orThrow(valid)
  const serving = async (n: string): Promise<number | undefined> =>
    (await loadState(log, n))?.state.active.version
  return {
    get: async (key) => {
      const n = checked()
      const version = await serving(n)
      if (version === undefined) {
        orThrow(validateId(key, 'key'))
        return undefined
      }
      return loadDocument(log, n, version, orThrow(validateDocumentKey(n, version, key, 'key')))
    },
    scan: (options) => scanDocuments(log, checked, serving, options),
    state: async () => (await loadState(log, checked()))?.state,
  }
}

async function* scanDocuments(
  log: Log,
  name: () => string,
  serving: (name: string) => Promise<number | undefined>,
  options: unknown,
): AsyncGenerator<KeyedDocument> {
  const n = name()
  const o = orThrow(decodeStrict(ScanDocumentsOptions, 'options', options ?? {}))
  const version = await serving(n)
  if (version === undefined) return
  const base = documentPrefix(n, version)
  const start = keyBytes(base).length
  const prefix = base + (o.prefix ?? '')
  const keys: Uint8Array[] = []
  // The keys are listed first, then read: no listing stays open while the caller holds a document.
  for await (const key of log.keys({
    prefix,
    ...(o.signal === undefined ? {} : { signal: o.signal }),
  })) {
    keys.push(key)
  }
  for (const key of keys) {
    if (o.signal?.aborted === true) {
      throw toDeltalogError({ code: 'ABORTED', message: 'scan of documents aborted' })
    }
    const text = TEXT.decode(key)
    const document = await loadDocument(log, n, version, TEXT.decode(key.subarray(start)))
    if (document !== undefined && text.startsWith(prefix)) {
      yield { key: TEXT.decode(key.subarray(start)), document }
    }
  }
}

const TEXT = new TextDecoder()
