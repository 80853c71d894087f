/**
 * Validation of command-line input. Commander splits the arguments; io-ts decides what they
 * mean: each command's options are one codec, numbers arrive as strings and are decoded
 * exactly, and a failure is an `INVALID_ARGUMENT` value naming the flag (`--from`).
 */
import * as E from 'fp-ts/lib/Either.js'
import { pipe } from 'fp-ts/lib/function.js'
import * as t from 'io-ts'
import { invalidArgument, type InvalidArgumentError } from '../errors.js'

// -------------------------------------------------------------------------------------
// codecs
// -------------------------------------------------------------------------------------

/** A non-negative safe integer written in decimal digits. */
export const NaturalString = new t.Type<number, string, unknown>(
  'a non-negative integer',
  (u): u is number => typeof u === 'number' && Number.isSafeInteger(u) && u >= 0,
  (u, c) =>
    typeof u === 'string' && /^\d+$/.test(u) && Number.isSafeInteger(Number(u))
      ? t.success(Number(u))
      : t.failure(u, c),
  String,
)

/** A positive safe integer written in decimal digits. */
export const PositiveString = new t.Type<number, string, unknown>(
  'a positive integer',
  (u): u is number => typeof u === 'number' && Number.isSafeInteger(u) && u > 0,
  (u, c) =>
    typeof u === 'string' && /^\d+$/.test(u) && Number.isSafeInteger(Number(u)) && Number(u) > 0
      ? t.success(Number(u))
      : t.failure(u, c),
  String,
)

/** A non-empty string. */
export const NonEmpty = new t.Type<string, string, unknown>(
  'a non-empty string',
  (u): u is string => typeof u === 'string' && u.length > 0,
  (u, c) => (typeof u === 'string' && u.length > 0 ? t.success(u) : t.failure(u, c)),
  (s) => s,
)

/** `--db`: a log directory, or a PostgreSQL URL with `--table`. */
export const DbArgs = t.intersection([t.type({ db: NonEmpty }), t.partial({ table: NonEmpty })])

export const AppendArgs = t.intersection([
  DbArgs,
  t.partial({
    key: NonEmpty,
    value: t.string,
    ndjson: t.boolean,
    base64: t.boolean,
    json: t.boolean,
  }),
])
export type AppendArgs = t.TypeOf<typeof AppendArgs>

export const ScanArgs = t.intersection([
  DbArgs,
  t.partial({
    key: NonEmpty,
    from: NaturalString,
    to: NaturalString,
    limit: NaturalString,
    reverse: t.boolean,
    json: t.boolean,
  }),
])
export type ScanArgs = t.TypeOf<typeof ScanArgs>

export const FollowArgs = t.intersection([
  DbArgs,
  t.partial({ key: NonEmpty, from: NaturalString, json: t.boolean }),
])
export type FollowArgs = t.TypeOf<typeof FollowArgs>

export const ReportArgs = t.intersection([DbArgs, t.partial({ json: t.boolean })])
export type ReportArgs = t.TypeOf<typeof ReportArgs>

/** `stats`: with `--watch`, a report every `--interval` ms (default 1000), `--count` times. */
export const StatsArgs = t.intersection([
  ReportArgs,
  t.partial({ watch: t.boolean, interval: PositiveString, count: PositiveString }),
])
export type StatsArgs = t.TypeOf<typeof StatsArgs>

export const ImportArgs = t.intersection([ReportArgs, t.partial({ resume: t.boolean })])
export type ImportArgs = t.TypeOf<typeof ImportArgs>

/** A head as `verify` prints it and `log.head()` gives it: `SEQUENCE:CHECKSUM`. */
export const HeadString = new t.Type<{ sequence: number; checksum: string }, string, unknown>(
  'SEQUENCE:CHECKSUM',
  (u): u is { sequence: number; checksum: string } =>
    typeof u === 'object' && u !== null && 'sequence' in u && 'checksum' in u,
  (u, c) => {
    const match = typeof u === 'string' ? /^(\d{1,16}):([0-9a-f]{64})$/.exec(u) : null
    const sequence = Number(match?.[1])
    return match !== null && Number.isSafeInteger(sequence)
      ? t.success({ sequence, checksum: match[2] ?? '' })
      : t.failure(u, c, 'a head is SEQUENCE:CHECKSUM, a number and 64 hex digits')
  },
  (h) => `${h.sequence}:${h.checksum}`,
)

export const VerifyArgs = t.intersection([ReportArgs, t.partial({ head: HeadString })])
export type VerifyArgs = t.TypeOf<typeof VerifyArgs>

export const DemoArgs = t.intersection([
  DbArgs,
  t.type({ kills: PositiveString }),
  t.partial({ seed: NaturalString, streams: PositiveString, blockSize: PositiveString }),
])
export type DemoArgs = t.TypeOf<typeof DemoArgs>

// -------------------------------------------------------------------------------------
// destructors
// -------------------------------------------------------------------------------------

const flag = (field: string): string => `--${field.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`

/** Decodes a command's parsed options; the first failure names its flag. */
export const decodeArgs = <A>(
  codec: t.Decoder<unknown, A>,
  options: Record<string, unknown>,
): E.Either<InvalidArgumentError, A> => {
  // Commander leaves flags that were not given as undefined: the codec sees them as absent.
  const given = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined))
  return pipe(
    codec.decode(given),
    E.mapLeft((errors) => {
      const first = errors[0]
      const field = first?.context.map((c) => c.key).find((k) => k !== '' && !/^\d+$/.test(k))
      const expected = first?.context[first.context.length - 1]?.type.name ?? 'valid'
      return field === undefined
        ? invalidArgument('arguments', 'are invalid')
        : invalidArgument(flag(field), `must be ${expected}, got ${JSON.stringify(first?.value)}`)
    }),
  )
}
