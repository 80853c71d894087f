/**
 * The text the command line reads and writes, as pure codecs: NDJSON entry lines (what `scan
 * --json`, `follow --json` and `export` print and what `import` and `append --ndjson` read) and
 * the text form of an entry. A key or value that is valid UTF-8 travels as a string (`key`,
 * `value`), any other as base64 (`keyBase64`, `valueBase64`), so every byte comes back.
 *
 * Law (checked in test/cli/lines.test.ts): `decodeEntryLine(encodeEntryLine(e))` is
 * `right(e)` for every entry.
 */
import * as E from 'fp-ts/lib/Either.js'
import { pipe } from 'fp-ts/lib/function.js'
import * as t from 'io-ts'
import { isWellFormed } from '../codec/keys.js'
import { isUtf8, printable } from '../codec/printable.js'
import { invalidArgument, type InvalidArgumentError } from '../errors.js'
import type { LogEntry } from '../log/read.js'
import { Natural, notWellFormed } from '../log/options.js'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** A record read from a line: the sequence and key may be missing where the caller supplies them. */
export interface LineRecord {
  readonly sequence: number | undefined
  readonly key: Uint8Array | undefined
  readonly value: Uint8Array
}

const LineShape = t.exact(
  t.partial({
    sequence: Natural,
    key: t.string,
    keyBase64: t.string,
    value: t.string,
    valueBase64: t.string,
  }),
)

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/

// -------------------------------------------------------------------------------------
// codecs
// -------------------------------------------------------------------------------------

/** Standard base64 with padding, refusing anything else rather than guessing. */
export const decodeBase64 = (
  text: string,
  field: string,
): E.Either<InvalidArgumentError, Uint8Array> =>
  BASE64.test(text)
    ? E.right(new Uint8Array(Buffer.from(text, 'base64')))
    : E.left(invalidArgument(field, 'is not valid base64'))

const bytesField = (
  name: 'key' | 'value',
  text: string | undefined,
  base64: string | undefined,
  base64Strings: boolean,
  where: string,
): E.Either<InvalidArgumentError, Uint8Array | undefined> => {
  if (text !== undefined && base64 !== undefined) {
    return E.left(invalidArgument(where, `give ${name} or ${name}Base64, not both`))
  }
  if (base64 !== undefined) return decodeBase64(base64, `${where}.${name}Base64`)
  if (text === undefined) return E.right(undefined)
  if (base64Strings) return decodeBase64(text, `${where}.${name}`)
  // A lone surrogate (`"\ud800"` in JSON) has no UTF-8: refused, as the log refuses it.
  return isWellFormed(text)
    ? E.right(new TextEncoder().encode(text))
    : E.left(notWellFormed(`${where}.${name}`))
}

/** One entry as an NDJSON line (without the newline). */
export const encodeEntryLine = (entry: LogEntry): string => {
  const field = (name: string, bytes: Uint8Array): Record<string, string> =>
    isUtf8(bytes)
      ? { [name]: new TextDecoder().decode(bytes) }
      : { [`${name}Base64`]: Buffer.from(bytes).toString('base64') }
  return JSON.stringify({
    sequence: entry.sequence,
    ...field('key', entry.key),
    ...field('value', entry.value),
  })
}

/**
 * Reads one NDJSON line: `{ sequence?, key | keyBase64, value | valueBase64 }`. With
 * `base64Strings`, a `value` string is base64 too (`append --ndjson --base64`). `where`
 * names the line in errors.
 */
export const decodeLine = (
  line: string,
  where: string,
  base64Strings = false,
): E.Either<InvalidArgumentError, LineRecord> => {
  let json: unknown
  try {
    json = JSON.parse(line)
  } catch {
    return E.left(invalidArgument(where, 'is not valid JSON'))
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    return E.left(invalidArgument(where, 'must be a JSON object'))
  }
  const unknownField = Object.keys(json).find((k) => !(k in LineShape.type.props))
  if (unknownField !== undefined) {
    return E.left(invalidArgument(`${where}.${unknownField}`, 'is not a known field'))
  }
  return pipe(
    LineShape.decode(json),
    E.mapLeft((errors) => {
      const field = errors[0]?.context.map((c) => c.key).filter((k) => k !== '')[0] ?? ''
      return invalidArgument(
        field === '' ? where : `${where}.${field}`,
        field === 'sequence' ? 'must be a non-negative safe integer' : 'must be a string',
      )
    }),
    E.chain((shape) =>
      pipe(
        E.Do,
        E.bind('key', () => bytesField('key', shape.key, shape.keyBase64, false, where)),
        E.bind('value', () =>
          bytesField('value', shape.value, shape.valueBase64, base64Strings, where),
        ),
        E.chain(({ key, value }) =>
          value === undefined
            ? E.left(invalidArgument(where, 'needs value or valueBase64'))
            : E.right({ sequence: shape.sequence, key, value }),
        ),
      ),
    ),
  )
}

/** Reads one exported entry: a line with a sequence and a key. */
export const decodeEntryLine = (
  line: string,
  where: string,
): E.Either<InvalidArgumentError, LogEntry> =>
  pipe(
    decodeLine(line, where),
    E.chain(({ sequence, key, value }) =>
      sequence === undefined
        ? E.left(invalidArgument(where, 'needs a sequence'))
        : key === undefined
          ? E.left(invalidArgument(where, 'needs key or keyBase64'))
          : E.right({ sequence, key, value }),
    ),
  )

/** One entry as a line of text: sequence, key and value separated by tabs, escaped. */
export const formatEntry = (entry: LogEntry): string =>
  `${entry.sequence}\t${printable(entry.key)}\t${printable(entry.value)}`
