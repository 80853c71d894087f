/**
 * Snapshots of aggregates: `aggregateStream(id, { …, snapshot: { every, version } })` keeps the
 * folded state of a stream under `s/<streamId>` once `every` events have been folded past the
 * last snapshot, and later folds start from it and read only the events after it. A snapshot is
 * used only if it has the caller's `version` (a change of the fold's code or state shape bumps
 * it; older snapshots are then ignored and the next one written replaces them) and the stream's
 * soft-delete point it was taken at: a stream deleted since folds its visible events afresh (and
 * a fold from a snapshot during which the stream was deleted is done again, so that it never
 * mixes the snapshot with events written after the delete).
 *
 * The snapshot is written through the store's writer after the fold (a read-only store reads
 * snapshots and writes none); the state must be JSON.
 */
import * as E from 'fp-ts/lib/Either.js'
import * as t from 'io-ts'
import {
  errorValueOf,
  invalidArgument,
  orThrow,
  stopIfAborted,
  toDeltalogError,
  type CorruptionError,
} from '../errors.js'
import { AbortSignalLike, decodeStrict, Positive } from '../log/options.js'
import { decodeJson, isJson, jsonBytes, SNAPSHOTS, validateStreamId } from './envelope.js'
import type { AggregateOptions } from './options.js'
import { streamEvents, type ReadContext } from './reads.js'
import type { Request } from './requests.js'
import { lastOf, loadState } from './streams.js'

export const SnapshotOption = t.type({ every: Positive, version: Positive })

/** A stored snapshot: the fold's version, the last revision folded, the delete point, the state. */
interface Snapshot {
  readonly version: number
  readonly revision: number
  /** The position of the last event folded: the fold from it reads the log from there, no seek. */
  readonly position: number | undefined
  readonly deletedBefore: number
  readonly state: unknown
}

const SnapshotCodec = t.intersection([
  t.type({ v: t.number, r: t.number, b: t.number, s: t.unknown }),
  t.partial({ p: t.number }),
])

export const snapshotKey = (streamId: string): string => SNAPSHOTS + streamId

export const encodeSnapshot = (s: Snapshot): Uint8Array =>
  jsonBytes({
    v: s.version,
    r: s.revision,
    b: s.deletedBefore,
    s: s.state,
    ...(s.position === undefined ? {} : { p: s.position }),
  })

export const decodeSnapshot = (bytes: Uint8Array): E.Either<CorruptionError, Snapshot> =>
  E.map((v: t.TypeOf<typeof SnapshotCodec>) => ({
    version: v.v,
    revision: v.r,
    position: v.p,
    deletedBefore: v.b,
    state: v.s,
  }))(decodeJson(SnapshotCodec, 'snapshot', bytes))

const notJson = (field: string) =>
  invalidArgument(field, 'is a state that is not JSON: a snapshot stores the state as JSON')

/**
 * `aggregateStream` with `snapshot`: from the stream's usable snapshot, if any, then its events
 * after it; writes a new snapshot (with `submit`, when given) once `every` events were folded.
 */
export const aggregateWithSnapshot = async <S>(
  ctx: ReadContext,
  submit: ((request: Request) => Promise<unknown>) | undefined,
  streamId: unknown,
  options: AggregateOptions<S>,
): Promise<S> => {
  const id = orThrow(validateStreamId(streamId))
  const { initialState, signal, snapshot } = options
  if (signal !== undefined && !AbortSignalLike.is(signal)) {
    throw toDeltalogError(invalidArgument('options.signal', `must be ${AbortSignalLike.name}`))
  }
  const { every, version } = orThrow(decodeStrict(SnapshotOption, 'options.snapshot', snapshot))
  // Checked up front too, so that a state that could never be stored fails on the first fold,
  // not once a stream first grows past `every` events.
  if (!isJson(initialState)) throw toDeltalogError(notJson('options.initialState'))
  stopIfAborted(signal, 'aggregateStream')
  for (;;) {
    const folded = await foldFromSnapshot(ctx, id, version, options)
    // A delete committed during the fold: its reads may have hidden events after the snapshot.
    if (folded === undefined) continue
    const { state, base, last, position, deletedBefore } = folded
    if (submit !== undefined && last - base >= every) {
      if (!isJson(state)) throw toDeltalogError(notJson('options.snapshot'))
      const value = encodeSnapshot({ version, revision: last, position, deletedBefore, state })
      await submit({ kind: 'records', records: [{ key: snapshotKey(id), value }] }).catch(
        (error: unknown) => {
          // The log refused the snapshot (too large for it): a state this fold cannot store.
          const e = errorValueOf(error)
          if (e.code !== 'INVALID_ARGUMENT' || !e.field.startsWith('records[')) throw error
          const why = e.message.replace(/^[^:]*: /, '')
          throw toDeltalogError(invalidArgument('options.snapshot', `the stored state ${why}`))
        },
      )
    }
    return state
  }
}

/**
 * The fold of a stream's events after its usable snapshot (or all its visible events): the
 * state, the last revision folded and the one the fold started after, and the delete point it
 * was folded at. Undefined if it started from a snapshot and the stream was deleted meanwhile.
 */
const foldFromSnapshot = async <S>(
  ctx: ReadContext,
  id: string,
  version: number,
  { initialState, evolve, signal }: AggregateOptions<S>,
): Promise<
  | {
      readonly state: S
      readonly base: number
      readonly last: number
      readonly position: number | undefined
      readonly deletedBefore: number
    }
  | undefined
> => {
  const [stream, entry] = await Promise.all([loadState(ctx, id), lastOf(ctx.log, snapshotKey(id))])
  const stored = entry === undefined ? undefined : orThrow(decodeSnapshot(entry.value))
  const usable =
    stored !== undefined &&
    stored.version === version &&
    stored.deletedBefore === stream.deletedBefore &&
    stored.revision <= stream.lastRevision
      ? stored
      : undefined
  let state = usable === undefined ? initialState : (usable.state as S)
  const base = usable?.revision ?? stream.deletedBefore - 1
  let last = base
  let position = usable?.position
  for await (const event of streamEvents(ctx, id, {
    from: base + 1,
    // A snapshot that knows where its last event is starts the read just past it: no seek.
    ...(position === undefined ? {} : { fromPosition: position + 1 }),
    to: undefined,
    reverse: false,
    limit: undefined,
    before: undefined,
    signal,
    what: 'aggregateStream',
  })) {
    state = evolve(state, event)
    last = event.revision
    position = event.position
  }
  if (usable !== undefined && (await loadState(ctx, id)).deletedBefore !== stream.deletedBefore) {
    return undefined
  }
  return { state, base, last, position, deletedBefore: stream.deletedBefore }
}
