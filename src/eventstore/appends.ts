/**
 * The event store's appends — `appendToStream`, `appendMulti` and `append` (events of no
 * stream) — their arguments checked before each request is queued at the writer.
 */
import { invalidArgument, orThrow, toDeltalogError } from '../errors.js'
import { decodeStrict } from '../log/options.js'
import { validateStreamId } from './envelope.js'
import type { AppendEventsResult, EventAppendResult } from './model.js'
import { AppendEventsOptions, EventAppendOptions, MultiAppendOptions } from './options.js'
import { validateCondition, type Condition } from './query.js'
import type { ReadContext } from './reads.js'
import type { Request } from './requests.js'
import { checkEventTypes, checkWriteTypes, type Upcasters } from './upcast.js'
import { validateEvents, validateWrites } from './validate.js'
import type { Writer } from './writer.js'

type Checking = Pick<ReadContext, 'codecs' | 'upcasters'>

/** The stream id of the events `append` writes: no stream of a caller's can have it. */
const NO_STREAM = ''

/**
 * An append's options, checked — the condition first, so that its error names the field within
 * it — with its checkpoint and condition as a request's fields, absent when not given.
 */
const appendOptions = <A extends MultiAppendOptions>(
  upcasters: Upcasters,
  codec: Parameters<typeof decodeStrict<A>>[0],
  options: unknown,
): { readonly o: A; readonly fields: Pick<AppendRequest, 'checkpoint' | 'condition'> } => {
  const given = (options ?? {}) as { readonly condition?: unknown }
  const condition =
    typeof given === 'object' && given.condition !== undefined
      ? orThrow(validateCondition(given.condition, 'options.condition', upcasters))
      : undefined
  const o = orThrow(decodeStrict(codec, 'options', options))
  const fields: { checkpoint?: NonNullable<AppendRequest['checkpoint']>; condition?: Condition } =
    {}
  if (o.checkpoint !== undefined) fields.checkpoint = o.checkpoint
  if (condition !== undefined) fields.condition = condition
  return { o, fields }
}

type AppendRequest = Request & { readonly kind: 'append' }

/** `appendToStream`: its arguments checked before the append is queued. */
export const appendToStream = async (
  { codecs, upcasters }: Checking,
  writer: Writer,
  streamId: unknown,
  events: unknown,
  options: unknown,
): Promise<EventAppendResult> => {
  const id = orThrow(validateStreamId(streamId))
  const checked = orThrow(validateEvents(codecs, events, 'events'))
  const valid = orThrow(checkEventTypes(upcasters, checked, 'events'))
  const { o, fields } = appendOptions(upcasters, EventAppendOptions, options)
  const [result] = await writer.submit({
    kind: 'append',
    writes: [{ streamId: id, events: valid, expected: o.expectedRevision ?? 'any' }],
    ...fields,
    single: true,
  })
  if (result === undefined) throw toDeltalogError(invalidArgument('events', 'nothing appended'))
  return result
}

/** `appendMulti`: every write checked, then one request. */
export const appendMulti = async (
  { codecs, upcasters }: Checking,
  writer: Writer,
  writes: unknown,
  options: unknown,
): Promise<ReadonlyArray<EventAppendResult>> => {
  const checked = orThrow(checkWriteTypes(upcasters, orThrow(validateWrites(codecs, writes))))
  const { fields } = appendOptions(upcasters, MultiAppendOptions, options)
  return writer.submit({ kind: 'append', writes: checked, ...fields })
}

/** `append`: events of no stream, with a condition and a checkpoint. */
export const append = async (
  { codecs, upcasters }: Checking,
  writer: Writer,
  events: unknown,
  options: unknown,
): Promise<AppendEventsResult> => {
  const checked = orThrow(validateEvents(codecs, events, 'events'))
  const valid = orThrow(checkEventTypes(upcasters, checked, 'events'))
  const { fields } = appendOptions(upcasters, AppendEventsOptions, options)
  const [result] = await writer.submit({
    kind: 'append',
    writes: [{ streamId: NO_STREAM, events: valid, expected: 'any' }],
    ...fields,
    single: true,
  })
  if (result === undefined) throw toDeltalogError(invalidArgument('events', 'nothing appended'))
  return { position: result.position }
}
