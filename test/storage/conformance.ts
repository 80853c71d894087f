// The Storage conformance suite: one list of checks that every adapter must pass. Each check is
// a plain async function that throws on failure, so the same list is registered as tests for
// each real adapter (`registerConformance`) and run by hand against deliberately broken
// adapters to prove that it can fail (test/storage/broken.test.ts).
import fc from 'fast-check'
import * as E from 'fp-ts/lib/Either.js'
import * as O from 'fp-ts/lib/Option.js'
import type * as TE from 'fp-ts/lib/TaskEither.js'
import { describe, expect, it } from 'vitest'
import type { ErrorCode } from '../../src/errors.js'
import {
  iterate,
  type Batch,
  type DisposableStorage,
  type IterateOptions,
  type KeyValue,
  type Storage,
} from '../../src/storage/port.js'
import { inRange } from '../../src/storage/range.js'
import { compareBytes } from '../../src/codec/bytes.js'

/** An open store under test, and how to open the same store again. */
export interface Subject {
  /** Every adapter's opener resolves with a storage that `await using` closes. */
  readonly storage: DisposableStorage
  /** Opens the same store again (meaningful for persistent adapters). */
  readonly reopen: () => TE.TaskEither<unknown, Storage>
  /** Closes whatever is still open and removes what the store left behind. */
  readonly dispose: () => Promise<void>
}

/** How to make fresh, empty stores of one adapter. */
export interface Harness {
  readonly name: string
  /**
   * Whether its stores keep their data across close and reopen: the checks that need it are
   * registered only for those, so nothing is skipped. A check confirms the adapter says so too.
   */
  readonly persistent: boolean
  readonly create: () => Promise<Subject>
  /**
   * What a second open of a store does while the first is open: `locked` (the default) refuses
   * it; `takes over`, as on a database server that other processes and hosts reach too, lets
   * it in and fences the first, whose writes then fail with FENCED.
   */
  readonly secondOpen?: 'locked' | 'takes over'
}

export interface Check {
  readonly name: string
  /**
   * Runs only on adapters whose capabilities include `persistent`; `exclusive` and `takeover`
   * on persistent adapters whose second open is `locked`, or `takes over`.
   */
  readonly requires?: 'persistent' | 'exclusive' | 'takeover'
  readonly run: (storage: DisposableStorage, subject: Subject) => Promise<void>
}

// -------------------------------------------------------------------------------------
// helpers
// -------------------------------------------------------------------------------------

const bytes = (...b: ReadonlyArray<number>): Uint8Array => Uint8Array.from(b)
const text = (s: string): Uint8Array => new TextEncoder().encode(s)
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex')

const run = async <A>(task: TE.TaskEither<unknown, A>): Promise<A> => {
  const result = await task()
  if (E.isLeft(result)) throw new Error(`expected success, got ${JSON.stringify(result.left)}`)
  return result.right
}

const failure = async (
  task: TE.TaskEither<{ readonly code: string }, unknown>,
): Promise<string> => {
  const result = await task()
  if (E.isRight(result)) throw new Error('expected a failure, got success')
  return result.left.code
}

const put = (key: Uint8Array, value: Uint8Array): Batch[number] => ({ type: 'put', key, value })
const del = (key: Uint8Array): Batch[number] => ({ type: 'del', key })
const write = (storage: Storage, batch: Batch): Promise<void> =>
  run(storage.write(batch, { sync: false }))
const get = async (storage: Storage, key: Uint8Array): Promise<string | undefined> =>
  O.toUndefined(O.map(hex)(await run(storage.get(key))))
const all = async (storage: Storage, options: IterateOptions = {}): Promise<string[]> => {
  const out: string[] = []
  for await (const { key } of iterate(storage, options)) out.push(hex(key))
  return out
}
const pairs = async (storage: Storage, options: IterateOptions = {}): Promise<KeyValue[]> => {
  const out: KeyValue[] = []
  for await (const pair of iterate(storage, options)) out.push(pair)
  return out
}

// Keys over an alphabet of the bytes that break naive orderings, up to length 2, in a fixed
// scrambled order: prefixes of each other, 0x00 and 0xFF, and bytes that are invalid UTF-8.
const ALPHABET = [0x00, 0x01, 0x41, 0x7f, 0x80, 0xc3, 0xff]
const KEYS: ReadonlyArray<Uint8Array> = [
  ...ALPHABET.map((a) => bytes(a)),
  ...ALPHABET.flatMap((a) => ALPHABET.map((b) => bytes(a, b))),
]
  .map((k, i) => ({ k, i: (i * 37) % 101 }))
  .sort((a, b) => a.i - b.i)
  .map(({ k }) => k)
const SORTED = [...KEYS].sort(compareBytes).map(hex)

const arbBound = fc.uint8Array({ minLength: 1, maxLength: 3 }).chain((b) =>
  fc.oneof(
    fc.constant(b),
    fc.array(fc.constantFrom(...ALPHABET), { minLength: 1, maxLength: 3 }).map((a) => bytes(...a)),
  ),
)
const arbRange: fc.Arbitrary<IterateOptions> = fc
  .record(
    {
      lower: fc.option(fc.tuple(fc.constantFrom('gt' as const, 'gte' as const), arbBound), {
        nil: undefined,
      }),
      upper: fc.option(fc.tuple(fc.constantFrom('lt' as const, 'lte' as const), arbBound), {
        nil: undefined,
      }),
      reverse: fc.boolean(),
      limit: fc.option(fc.nat({ max: 60 }), { nil: undefined }),
    },
    { requiredKeys: ['reverse'] },
  )
  .map(({ lower, upper, reverse, limit }) => ({
    ...(lower === undefined ? {} : { [lower[0]]: lower[1] }),
    ...(upper === undefined ? {} : { [upper[0]]: upper[1] }),
    reverse,
    ...(limit === undefined ? {} : { limit }),
  }))

/** What a correct store yields for a range over KEYS. */
const expectedRange = (options: IterateOptions): string[] => {
  const selected = [...KEYS].sort(compareBytes).filter((k) => inRange(options, k))
  const ordered = options.reverse ? selected.reverse() : selected
  return ordered.slice(0, options.limit ?? ordered.length).map(hex)
}

const expectCode = (actual: string, code: ErrorCode): void => expect(actual).toBe(code)

// -------------------------------------------------------------------------------------
// the checks
// -------------------------------------------------------------------------------------

export const checks: ReadonlyArray<Check> = [
  {
    name: 'orders keys by raw bytes, forwards and in reverse',
    run: async (storage) => {
      await write(
        storage,
        KEYS.map((k) => put(k, k)),
      )
      expect(await all(storage)).toEqual(SORTED)
      expect(await all(storage, { reverse: true })).toEqual([...SORTED].reverse())
      for (const { key, value } of await pairs(storage)) expect(hex(value)).toBe(hex(key))
    },
  },
  {
    name: 'honours every range bound combination, reverse and limit',
    run: async (storage) => {
      await write(
        storage,
        KEYS.map((k) => put(k, k)),
      )
      await fc.assert(
        fc.asyncProperty(arbRange, async (range) => {
          expect(await all(storage, range)).toEqual(expectedRange(range))
        }),
        { numRuns: 150 },
      )
    },
  },
  {
    name: 'yields nothing for empty ranges and limit 0',
    run: async (storage) => {
      await write(
        storage,
        KEYS.map((k) => put(k, k)),
      )
      expect(await all(storage, { gt: bytes(0x80), lt: bytes(0x41) })).toEqual([])
      expect(await all(storage, { gte: bytes(0x41), lt: bytes(0x41) })).toEqual([])
      expect(await all(storage, { gt: bytes(0x41), lte: bytes(0x41), reverse: true })).toEqual([])
      expect(await all(storage, { limit: 0 })).toEqual([])
      expect(await all(storage, { gt: bytes(0xff, 0xff) })).toEqual([])
    },
  },
  {
    name: 'iterates an empty store and spans many chunks',
    run: async (storage) => {
      expect(await all(storage)).toEqual([])
      const many = Array.from({ length: 2500 }, (_, i) => text(`k${String(i).padStart(5, '0')}`))
      await write(
        storage,
        many.map((k) => put(k, k)),
      )
      expect(await all(storage)).toEqual(many.map(hex))
      expect(await all(storage, { reverse: true, limit: 1700 })).toEqual(
        many.map(hex).reverse().slice(0, 1700),
      )
    },
  },
  {
    name: 'reads its own writes; a missing key is none',
    run: async (storage) => {
      expect(await get(storage, text('a'))).toBeUndefined()
      await write(storage, [put(text('a'), text('1'))])
      expect(await get(storage, text('a'))).toBe(hex(text('1')))
      await write(storage, [put(text('a'), text('2'))])
      expect(await get(storage, text('a'))).toBe(hex(text('2')))
      await write(storage, [del(text('a'))])
      expect(await get(storage, text('a'))).toBeUndefined()
    },
  },
  {
    name: 'reads several keys at once, in the order asked',
    run: async (storage) => {
      await write(storage, [put(text('a'), text('1')), put(text('c'), text('3'))])
      const values = await run(storage.getMany([text('c'), text('b'), text('a'), text('c')]))
      expect(values.map((v) => O.toUndefined(O.map(hex)(v)))).toEqual([
        hex(text('3')),
        undefined,
        hex(text('1')),
        hex(text('3')),
      ])
      expect(await run(storage.getMany([]))).toEqual([])
      expectCode(await failure(storage.getMany([text('a'), new Uint8Array(0)])), 'INVALID_ARGUMENT')
    },
  },
  {
    name: 'applies puts and deletes of one key in batch order',
    run: async (storage) => {
      const k = text('k')
      await write(storage, [put(k, text('1')), del(k), put(k, text('2'))])
      expect(await get(storage, k)).toBe(hex(text('2')))
      await write(storage, [put(k, text('3')), del(k)])
      expect(await get(storage, k)).toBeUndefined()
      await write(storage, [put(k, text('4')), put(k, text('5'))])
      expect(await get(storage, k)).toBe(hex(text('5')))
    },
  },
  {
    name: 'writes nothing of a batch that fails',
    run: async (storage) => {
      await write(storage, [put(text('kept'), text('old'))])
      const invalid: ReadonlyArray<unknown> = [
        { type: 'put', key: new Uint8Array(0), value: text('x') },
        { type: 'put', key: 'a string', value: text('x') },
        { type: 'put', key: text('x'), value: 42 },
        { type: 'upsert', key: text('x'), value: text('x') },
        null,
      ]
      for (const bad of invalid) {
        const batch = [
          put(text('new-1'), text('1')),
          put(text('kept'), text('new')),
          del(text('kept')),
          bad,
          put(text('new-2'), text('2')),
        ] as unknown as Batch
        expectCode(await failure(storage.write(batch, { sync: false })), 'INVALID_ARGUMENT')
      }
      expect(await all(storage)).toEqual([hex(text('kept'))])
      expect(await get(storage, text('kept'))).toBe(hex(text('old')))
    },
  },
  {
    name: 'stores empty values and a 16 MiB value',
    run: async (storage) => {
      const big = new Uint8Array(16 * 1024 * 1024 + 3)
      for (let i = 0; i < big.length; i += 4093) big[i] = i % 251
      await write(storage, [put(text('empty'), new Uint8Array(0)), put(text('big'), big)])
      expect(await get(storage, text('empty'))).toBe('')
      const read = await run(storage.get(text('big')))
      expect(O.isSome(read) && Buffer.compare(read.value, big)).toBe(0)
      const listed = await pairs(storage)
      expect(listed.map((p) => p.value.length)).toEqual([big.length, 0])
    },
  },
  {
    name: 'keeps stored bytes safe from callers mutating their arrays',
    run: async (storage) => {
      const key = text('m')
      const value = text('before')
      await write(storage, [put(key, value)])
      value[0] = 0x58
      const read = await run(storage.get(key))
      expect(O.map(hex)(read)).toEqual(O.some(hex(text('before'))))
      if (O.isSome(read)) read.value[0] = 0x59
      expect(await get(storage, key)).toBe(hex(text('before')))
      // Node.js Buffers too, whose slice() is a view of the same memory.
      const bufferKey = Buffer.from('buffer-key')
      const bufferValue = Buffer.from('buffer-before')
      await write(storage, [put(bufferKey, bufferValue)])
      bufferKey[0] = 0x58
      bufferValue[0] = 0x58
      expect(await get(storage, Buffer.from('buffer-key'))).toBe(hex(text('buffer-before')))
      const listed = await pairs(storage, { gte: Buffer.from('buffer-key'), limit: 1 })
      expect(listed.map((p) => hex(p.key))).toEqual([hex(text('buffer-key'))])
    },
  },
  {
    name: 'an open iteration does not see batches written after it started',
    run: async (storage) => {
      const keys = Array.from({ length: 1500 }, (_, i) => text(`s${String(i).padStart(5, '0')}`))
      await write(
        storage,
        keys.map((k) => put(k, text('v1'))),
      )
      const it = iterate(storage, {})
      const first = await it.next()
      expect(first.done).toBe(false)
      // Rewrite, delete and add across the whole range, before and after the iterator's position.
      await write(storage, [
        ...keys.filter((_, i) => i % 3 === 0).map((k) => put(k, text('v2'))),
        ...keys.filter((_, i) => i % 3 === 1).map((k) => del(k)),
        put(text('s'), text('new')),
        put(text('t-new'), text('new')),
        put(text('s00700x'), text('new')),
      ])
      const seen: KeyValue[] = [first.value as KeyValue]
      for await (const pair of it) seen.push(pair)
      expect(seen.map((p) => hex(p.key))).toEqual(keys.map(hex))
      expect(new Set(seen.map((p) => hex(p.value)))).toEqual(new Set([hex(text('v1'))]))
      // A new iteration sees the new state.
      expect((await all(storage)).length).toBe(1500 - 500 + 3)
    },
  },
  {
    name: 'releases iterators that are finished or abandoned early',
    run: async (storage) => {
      await write(
        storage,
        Array.from({ length: 3000 }, (_, i) => put(text(`r${i}`), text('v'))),
      )
      expect(storage.openIterators?.()).toBe(0)
      for await (const pair of iterate(storage, {})) {
        expect(pair.key.length).toBeGreaterThan(0)
        break
      }
      expect(storage.openIterators?.()).toBe(0)
      await expect(
        (async () => {
          for await (const _ of iterate(storage, {})) throw new Error('consumer failed')
        })(),
      ).rejects.toThrow('consumer failed')
      expect(storage.openIterators?.()).toBe(0)
      expect((await all(storage, { limit: 10 })).length).toBe(10)
      expect(storage.openIterators?.()).toBe(0)
      const held = iterate(storage, {})
      await held.next()
      expect(storage.openIterators?.()).toBe(1)
      await held.return?.()
      expect(storage.openIterators?.()).toBe(0)
    },
  },
  {
    name: 'rejects invalid keys and ranges with INVALID_ARGUMENT',
    run: async (storage) => {
      expectCode(await failure(storage.get(new Uint8Array(0))), 'INVALID_ARGUMENT')
      expectCode(await failure(storage.get('k' as unknown as Uint8Array)), 'INVALID_ARGUMENT')
      for (const range of [
        { gt: text('a'), gte: text('a') },
        { lt: text('a'), lte: text('a') },
        { limit: -1 },
        { limit: 1.5 },
        { gte: 'a' as unknown as Uint8Array },
      ]) {
        const opened = storage.iterator(range)
        expect(E.isLeft(opened) && opened.left.code).toBe('INVALID_ARGUMENT')
      }
      expectCode(
        await failure(storage.write('nope' as unknown as Batch, { sync: false })),
        'INVALID_ARGUMENT',
      )
    },
  },
  {
    name: 'accepts synced writes, and an empty synced batch',
    run: async (storage) => {
      await run(storage.write([put(text('d'), text('1'))], { sync: true }))
      await run(storage.write([], { sync: true }))
      await run(storage.write([], { sync: false }))
      expect(await all(storage)).toEqual([hex(text('d'))])
    },
  },
  {
    name: 'fails every call with CLOSED after close; closing twice is harmless',
    run: async (storage) => {
      await write(
        storage,
        Array.from({ length: 2000 }, (_, i) => put(text(`c${i}`), text('v'))),
      )
      const open = iterate(storage, {})
      await open.next()
      await run(storage.close())
      await run(storage.close())
      expectCode(await failure(storage.get(text('c1'))), 'CLOSED')
      expectCode(await failure(storage.getMany([text('c1')])), 'CLOSED')
      expectCode(
        await failure(storage.write([put(text('x'), text('y'))], { sync: true })),
        'CLOSED',
      )
      const opened = storage.iterator({})
      expect(E.isLeft(opened) && opened.left.code).toBe('CLOSED')
      await expect(
        (async () => {
          for await (const _ of open) {
            // drain what is left: the store is closed, so this must fail with CLOSED
          }
        })(),
      ).rejects.toMatchObject({ code: 'CLOSED' })
      expect(storage.openIterators?.()).toBe(0)
    },
  },
  {
    name: 'closes at the end of an `await using` block as close() does; disposing twice is harmless',
    run: async (storage, subject) => {
      {
        await using inBlock = storage
        await write(inBlock, [put(text('k'), text('v'))])
      }
      expectCode(await failure(storage.get(text('k'))), 'CLOSED')
      expectCode(
        await failure(storage.write([put(text('x'), text('y'))], { sync: true })),
        'CLOSED',
      )
      await expect(storage[Symbol.asyncDispose]()).resolves.toBeUndefined()
      await run(storage.close())
      if (storage.capabilities.persistent) {
        // What close() lets go of went with the block: the store opens again, with the write.
        const again = await run(subject.reopen())
        expect(await get(again, text('k'))).toBe(hex(text('v')))
        await run(again.close())
      }
    },
  },
  {
    name: 'waits for writes in flight when closing',
    run: async (storage, subject) => {
      const writes = Array.from({ length: 20 }, (_, i) =>
        storage.write([put(text(`w${i}`), text('v'))], { sync: i % 2 === 0 })(),
      )
      const closing = storage.close()()
      const results = await Promise.all(writes)
      expect(E.isRight(await closing)).toBe(true)
      // Every write either landed or was refused with CLOSED; none failed otherwise.
      for (const r of results) if (E.isLeft(r)) expect(r.left.code).toBe('CLOSED')
      if (storage.capabilities.persistent) {
        const again = await run(subject.reopen())
        const landed = results.filter(E.isRight).length
        expect((await all(again)).length).toBe(landed)
        await run(again.close())
      }
    },
  },
  {
    name: 'keeps its data across close and reopen',
    requires: 'persistent',
    run: async (storage, subject) => {
      await write(
        storage,
        KEYS.map((k) => put(k, k)),
      )
      await run(storage.write([del(bytes(0x41)), put(text('synced'), text('s'))], { sync: true }))
      await run(storage.close())
      const again = await run(subject.reopen())
      expect(await all(again)).toEqual(
        [...SORTED.filter((k) => k !== '41'), hex(text('synced'))].sort(),
      )
      await run(again.close())
    },
  },
  {
    name: 'refuses a second open of the same store with LOCKED',
    requires: 'exclusive',
    run: async (storage, subject) => {
      const second = await subject.reopen()()
      expect(E.isLeft(second) && (second.left as { code?: string }).code).toBe('LOCKED')
      // The first handle still works, and after it closes the store can be opened again.
      await write(storage, [put(text('still'), text('works'))])
      await run(storage.close())
      const third = await run(subject.reopen())
      expect(await get(third, text('still'))).toBe(hex(text('works')))
      await run(third.close())
    },
  },
  {
    name: 'lets a second open take the store over, and fences the first with FENCED',
    requires: 'takeover',
    run: async (storage, subject) => {
      await write(storage, [put(text('before'), text('1'))])
      const second = await run(subject.reopen())
      const refused = await storage.write(
        [put(text('after'), text('2')), del(text('before')), put(text('before'), text('3'))],
        { sync: true },
      )()
      expect(E.isLeft(refused) && refused.left.code).toBe('FENCED')
      const deleting = await storage.write([del(text('before'))], { sync: true })()
      expect(E.isLeft(deleting) && deleting.left.code).toBe('FENCED')
      const flush = await storage.write([], { sync: true })()
      expect(E.isLeft(flush) && flush.left.code).toBe('FENCED')
      // The first still reads; nothing of its refused write landed; the second writes.
      expect(await get(storage, text('before'))).toBe(hex(text('1')))
      await write(second, [put(text('second'), text('3'))])
      expect(await all(second)).toEqual([text('before'), text('second')].map(hex))
      await run(storage.close())
      await run(second.close())
    },
  },
]

/** Why a check does not apply to an adapter, or undefined when it does. */
const notFor = (harness: Harness, check: Check): string | undefined => {
  if (check.requires === undefined) return undefined
  if (!harness.persistent) return `${harness.name} is not persistent`
  const takesOver = harness.secondOpen === 'takes over'
  if (check.requires === 'exclusive' && takesOver) {
    return `${harness.name} lets a second open take the store over`
  }
  if (check.requires === 'takeover' && !takesOver) {
    return `${harness.name} refuses a second open`
  }
  return undefined
}

/** Registers every check as a test for one adapter. */
export const registerConformance = (harness: Harness): void => {
  describe(`Storage conformance: ${harness.name}`, () => {
    it(`is ${harness.persistent ? '' : 'not '}persistent, as its capabilities say`, async () => {
      const subject = await harness.create()
      try {
        expect(subject.storage.capabilities.persistent).toBe(harness.persistent)
      } finally {
        await subject.dispose()
      }
    })
    for (const check of checks.filter((c) => notFor(harness, c) === undefined)) {
      it(check.name, async () => {
        const subject = await harness.create()
        try {
          await check.run(subject.storage, subject)
        } finally {
          await subject.dispose()
        }
      })
    }
  })
}

/** Runs every applicable check against a harness and returns the names of those that failed. */
export const failingChecks = async (harness: Harness): Promise<string[]> => {
  const failed: string[] = []
  for (const check of checks) {
    const subject = await harness.create()
    try {
      if (notFor(harness, check) !== undefined) continue
      await check.run(subject.storage, subject)
    } catch {
      failed.push(check.name)
    } finally {
      await subject.dispose()
    }
  }
  return failed
}
