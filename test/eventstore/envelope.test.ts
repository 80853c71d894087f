import { fc, test } from '@fast-check/vitest'
import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import {
  decodeCheckpoint,
  decodeEvent,
  decodeIdEntry,
  decodeMeta,
  encodeCheckpoint,
  encodeEvent,
  encodeIdEntry,
  encodeMeta,
  validateEvent,
  type Json,
  type StoredEvent,
} from '../../src/eventstore/envelope.js'

const arbJson: fc.Arbitrary<Json> = fc.jsonValue().map((v) => v as Json)
const arbStored: fc.Arbitrary<StoredEvent> = fc.record({
  type: fc.string({ minLength: 1 }),
  data: arbJson,
  metadata: arbJson,
  id: fc.uuid(),
  idGiven: fc.boolean(),
  revision: fc.nat(),
  recordedAt: fc.nat(),
  tags: fc.uniqueArray(fc.string({ minLength: 1 }), { maxLength: 4 }),
  version: fc.integer({ min: 1, max: 1000 }),
})

describe('event envelopes', () => {
  test.prop([arbStored])('round trip of stored events', (event) => {
    // JSON has one zero: -0 comes back as 0, which is the same value for every use here.
    const normal = JSON.parse(JSON.stringify(event)) as StoredEvent
    expect(decodeEvent(encodeEvent(event))).toEqual(E.right(normal))
  })

  test('an event without tags is stored as before tags existed: no tg field', () => {
    const event = {
      type: 'A',
      data: 1,
      metadata: null,
      id: 'i',
      idGiven: true,
      revision: 0,
      version: 1,
    }
    const bytes = encodeEvent({ ...event, recordedAt: 5, tags: [] })
    expect(new TextDecoder().decode(bytes)).toBe(
      '{"t":"A","d":1,"m":null,"id":"i","g":true,"r":0,"at":5}',
    )
    const tagged = encodeEvent({ ...event, recordedAt: 5, tags: ['x'] })
    expect(new TextDecoder().decode(tagged)).toContain('"tg":["x"]')
  })

  test.prop([fc.nat(), fc.string(), fc.nat()])(
    'round trip of metadata, ids and checkpoints',
    (n, s, r) => {
      expect(decodeMeta(encodeMeta({ deletedBefore: n }))).toEqual(E.right({ deletedBefore: n }))
      expect(decodeIdEntry(encodeIdEntry({ streamId: s, revision: r }))).toEqual(
        E.right({ streamId: s, revision: r }),
      )
      expect(decodeCheckpoint(encodeCheckpoint(n))).toEqual(E.right(n))
    },
  )

  test.prop([fc.uint8Array({ maxLength: 40 })])(
    'any bytes decode or fail as CORRUPTION',
    (bytes) => {
      for (const decode of [decodeEvent, decodeMeta, decodeIdEntry, decodeCheckpoint] as const) {
        const result = decode(bytes)
        if (E.isLeft(result)) expect(result.left.code).toBe('CORRUPTION')
      }
    },
  )

  it('stores the version as v, and a version-1 event in the bytes it had before versions', () => {
    const event: StoredEvent = {
      tags: [],
      type: 'A',
      data: { x: 1 },
      metadata: null,
      id: 'e-1',
      idGiven: true,
      revision: 2,
      recordedAt: 5,
      version: 1,
    }
    const text = (e: StoredEvent): string => new TextDecoder().decode(encodeEvent(e))
    expect(text(event)).toBe('{"t":"A","d":{"x":1},"m":null,"id":"e-1","g":true,"r":2,"at":5}')
    expect(text({ ...event, version: 3 })).toBe(
      '{"t":"A","d":{"x":1},"m":null,"id":"e-1","g":true,"r":2,"at":5,"v":3}',
    )
    const decoded = (json: string): unknown => decodeEvent(new TextEncoder().encode(json))
    const base = '{"t":"A","d":{"x":1},"m":null,"id":"e-1","g":true,"r":2,"at":5'
    expect(decoded(`${base}}`)).toEqual(E.right(event))
    expect(decoded(`${base},"v":1}`)).toEqual(E.right(event))
    for (const v of ['0', '1.5', '"2"', 'null']) {
      expect(decoded(`${base},"v":${v}}`)).toMatchObject(E.left({ code: 'CORRUPTION' }))
    }
  })

  it('validates events, naming the field', () => {
    expect(validateEvent({ type: 'A', data: { x: [1, 'y', null] } }, 'e')).toEqual(
      E.right({ type: 'A', data: { x: [1, 'y', null] } }),
    )
    const fieldOf = (u: unknown): string | undefined => {
      const r = validateEvent(u, 'e')
      return E.isLeft(r) ? r.left.field : undefined
    }
    expect(fieldOf(null)).toBe('e')
    expect(fieldOf({ type: '' })).toBe('e.type')
    expect(fieldOf({ type: 'A', data: new Map() })).toBe('e.data')
    expect(fieldOf({ type: 'A', metadata: Infinity })).toBe('e.metadata')
    expect(fieldOf({ type: 'A', id: '' })).toBe('e.id')
    expect(fieldOf({ type: 'A', other: 1 })).toBe('e.other')
  })
})
