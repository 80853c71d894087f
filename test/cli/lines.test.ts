import { fc, test } from '@fast-check/vitest'
import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import { decodeArgs, ScanArgs } from '../../src/cli/args.js'
import { decodeEntryLine, decodeLine, encodeEntryLine, formatEntry } from '../../src/cli/lines.js'
import { keyBytes } from '../../src/codec/keys.js'
import { arbKeyBytes, arbSequence } from '../support/arbitraries.js'

const arbBytes = fc.oneof(
  fc.string().map((s) => keyBytes(s)),
  fc.uint8Array({ maxLength: 16 }),
  arbKeyBytes,
)

describe('NDJSON entry lines', () => {
  test.prop([arbSequence, arbBytes, arbBytes])(
    'round trip: decodeEntryLine(encodeEntryLine(e)) is e, on one line',
    (sequence, key, value) => {
      const line = encodeEntryLine({ sequence, key, value })
      expect(line).not.toContain('\n')
      const decoded = decodeEntryLine(line, 'line')
      expect(E.isRight(decoded) && decoded.right).toEqual({ sequence, key, value })
    },
  )

  it('keeps UTF-8 as text and other bytes as base64', () => {
    expect(encodeEntryLine({ sequence: 3, key: keyBytes('k'), value: Uint8Array.of(0xff) })).toBe(
      '{"sequence":3,"key":"k","valueBase64":"/w=="}',
    )
  })

  it('names what is wrong with a line', () => {
    const error = (line: string): string => {
      const decoded = decodeEntryLine(line, 'stdin line 4')
      return E.isLeft(decoded) ? decoded.left.message : 'no error'
    }
    expect(error('[]')).toBe('stdin line 4: must be a JSON object')
    expect(error('{"sequence":1,"key":"k"}')).toBe('stdin line 4: needs value or valueBase64')
    expect(error('{"key":"k","value":"v"}')).toBe('stdin line 4: needs a sequence')
    expect(error('{"sequence":-1,"key":"k","value":"v"}')).toBe(
      'stdin line 4.sequence: must be a non-negative safe integer',
    )
    expect(error('{"sequence":1,"key":"k","value":"v","extra":1}')).toBe(
      'stdin line 4.extra: is not a known field',
    )
    expect(error('{"sequence":1,"key":"k","keyBase64":"aw==","value":"v"}')).toBe(
      'stdin line 4: give key or keyBase64, not both',
    )
    expect(error('{"sequence":1,"key":"k","valueBase64":"*"}')).toBe(
      'stdin line 4.valueBase64: is not valid base64',
    )
    // A lone surrogate has no UTF-8: refused in a value as in a key, not stored as U+FFFD.
    const lone = 'is not well-formed UTF-16: it holds a lone surrogate, which has no UTF-8 encoding'
    expect(error('{"sequence":1,"key":"k","value":"v\\ud800"}')).toBe(`stdin line 4.value: ${lone}`)
    expect(error('{"sequence":1,"key":"\\udc00","value":"v"}')).toBe(`stdin line 4.key: ${lone}`)
  })

  it('reads value strings as base64 when asked, keys still as text', () => {
    const decoded = decodeLine('{"key":"k","value":"aGk="}', 'line', true)
    expect(E.isRight(decoded) && decoded.right.value).toEqual(keyBytes('hi'))
    expect(E.isRight(decoded) && decoded.right.key).toEqual(keyBytes('k'))
  })

  it('formats an entry as tab-separated, escaped text', () => {
    expect(formatEntry({ sequence: 7, key: keyBytes('a\tb'), value: Uint8Array.of(0x00) })).toBe(
      '7\ta\\tb\t\\x00',
    )
  })
})

describe('command-line arguments', () => {
  it('decodes numbers exactly and names the flag that is wrong', () => {
    expect(decodeArgs(ScanArgs, { db: 'x', from: '12', limit: undefined })).toEqual(
      E.right({ db: 'x', from: 12 }),
    )
    const bad = decodeArgs(ScanArgs, { db: 'x', to: '1e3' })
    expect(E.isLeft(bad) && bad.left.message).toBe(
      '--to: must be a non-negative integer, got "1e3"',
    )
    const huge = decodeArgs(ScanArgs, { db: 'x', from: '9007199254740993' })
    expect(E.isLeft(huge)).toBe(true)
  })
})
