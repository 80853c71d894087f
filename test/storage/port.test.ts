// The batch validation every adapter shares: a well-formed batch passes as it is, and each way
// an operation can be malformed is refused with the field that names it.
import * as E from 'fp-ts/lib/Either.js'
import * as O from 'fp-ts/lib/Option.js'
import { describe, expect, it } from 'vitest'
import { validateBatch, validateOp } from '../../src/storage/port.js'

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s)
const good = { type: 'put', key: bytes('k'), value: bytes('v') }

const fieldOf = (batch: unknown): string | undefined => {
  const result = validateBatch(batch)
  return E.isLeft(result) ? result.left.field : undefined
}

describe('validateBatch', () => {
  it('passes a well-formed batch as it is', () => {
    const batch = [
      good,
      { type: 'put', key: bytes('k'), value: new Uint8Array(0), fresh: true },
      { type: 'put', key: bytes('k'), value: bytes('v'), fresh: false },
      { type: 'del', key: bytes('k') },
    ]
    expect(validateBatch(batch)).toEqual(E.right(batch))
    expect(validateBatch([])).toEqual(E.right([]))
  })

  it.each([
    ['no object', null, 'batch[1]'],
    ['an unknown type', { ...good, type: 'upsert' }, 'batch[1].type'],
    ['no key', { type: 'put', value: bytes('v') }, 'batch[1].key'],
    ['a key that is a string', { ...good, key: 'k' }, 'batch[1].key'],
    ['an empty key', { ...good, key: new Uint8Array(0) }, 'batch[1].key'],
    ['a del with an empty key', { type: 'del', key: new Uint8Array(0) }, 'batch[1].key'],
    ['a put without a value', { type: 'put', key: bytes('k') }, 'batch[1].value'],
    ['a value that is a number', { ...good, value: 42 }, 'batch[1].value'],
    ['fresh that is no boolean', { ...good, fresh: 'yes' }, 'batch[1].fresh'],
  ])('refuses an operation with %s, naming its field', (_, op, field) => {
    expect(fieldOf([good, op, good])).toBe(field)
  })

  it('refuses a batch that is no array', () => {
    expect(fieldOf({ 0: good, length: 1 })).toBe('batch')
  })

  it('names an operation checked alone by the field it is given', () => {
    const error = validateOp({ ...good, key: 'k' }, 'op')
    expect(O.isSome(error) && error.value.field).toBe('op.key')
    expect(validateOp(good, 'op')).toEqual(O.none)
  })
})
