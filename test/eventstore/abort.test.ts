// A bounded read (readStream, readAll, aggregateStream) stops when its signal aborts: before it
// starts or in the middle, its next step rejects with ABORTED, and the storage iteration under
// it is released at once — not when the reader next asks.
import * as E from 'fp-ts/lib/Either.js'
import * as TE from 'fp-ts/lib/TaskEither.js'
import { describe, expect, it } from 'vitest'
import { DeltalogError } from '../../src/errors.js'
import { abortable } from '../../src/log/abort.js'
import { openEventStore, type EventStore, type ReadEvent } from '../../src/eventstore/store.js'
import { makeMemoryStorage, openMemoryStorage } from '../../src/storage/memory.js'
import type { IterateOptions, Storage } from '../../src/storage/port.js'

interface Counting {
  readonly storage: Storage
  /** Iterations open now. */
  readonly open: () => number
  /** Iterations opened so far. */
  readonly opened: () => number
  /** Called as each iteration opens. */
  onOpen: (options: IterateOptions) => void
}

/** A memory storage that counts the iterations open on it. */
const counting = (base: Storage = makeMemoryStorage()): Counting => {
  let open = 0
  let opened = 0
  const self: Counting = {
    open: () => open,
    opened: () => opened,
    onOpen: () => undefined,
    storage: {
      ...base,
      iterator: (options) => {
        const iterator = base.iterator(options)
        if (E.isLeft(iterator)) return iterator
        open++
        opened++
        self.onOpen(options)
        let closed = false
        return E.right({
          next: iterator.right.next,
          close: async () => {
            if (!closed) open--
            closed = true
            await iterator.right.close()
          },
        })
      },
    },
  }
  return self
}

const fill = async (store: EventStore): Promise<void> => {
  for (let i = 0; i < 20; i++) {
    await store.appendToStream('s', [{ type: `E${i}` }, { type: `F${i}` }])
    await store.appendToStream('other', [{ type: 'noise' }])
  }
}

const setup = async (): Promise<{ readonly store: EventStore } & Counting> => {
  const counted = counting()
  const store = await openEventStore({ storage: counted.storage })
  await fill(store)
  return Object.assign(counted, { store })
}

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

const abortedWith = (what: string, reason: unknown) => ({
  code: 'ABORTED',
  message: `${what} was aborted`,
  cause: reason,
})

type Read = (store: EventStore, signal: AbortSignal) => AsyncIterableIterator<ReadEvent>

const reads: ReadonlyArray<readonly [string, string, Read]> = [
  ['readAll', 'readAll', (store, signal) => store.readAll({ signal })],
  ['readAll in reverse', 'readAll', (store, signal) => store.readAll({ reverse: true, signal })],
  ['readStream', 'readStream', (store, signal) => store.readStream('s', { signal })],
  [
    'readStream in reverse',
    'readStream',
    (store, signal) => store.readStream('s', { reverse: true, signal }),
  ],
  [
    'readStream of a range',
    'readStream',
    (store, signal) => store.readStream('s', { from: 5, to: 30, signal }),
  ],
  [
    'read by query',
    'read',
    (store, signal) => store.read({ items: [{ types: ['noise'] }] }, { signal }),
  ],
  ['read of all', 'read', (store, signal) => store.read('all', { signal })],
]

describe.each(reads)('%s', (_, what, read) => {
  it('rejects with ABORTED when the signal aborted before it started, opening nothing', async () => {
    const { store, open } = await setup()
    const stop = new AbortController()
    const reason = new Error('not needed any more')
    stop.abort(reason)
    const events = read(store, stop.signal)
    const first = events.next()
    await expect(first).rejects.toBeInstanceOf(DeltalogError)
    await expect(first).rejects.toMatchObject(abortedWith(what, reason))
    expect(open()).toBe(0)
    await store.close()
  })

  it('reads nothing when the signal aborts before its first step', async () => {
    const { store, opened } = await setup()
    const stop = new AbortController()
    const events = read(store, stop.signal)
    stop.abort()
    const before = opened()
    await expect(events.next()).rejects.toMatchObject({ code: 'ABORTED' })
    expect(opened()).toBe(before)
    await store.close()
  })

  it('holds no storage iteration between its steps; after an abort the next step rejects with ABORTED', async () => {
    const { store, open, opened } = await setup()
    const stop = new AbortController()
    const events = read(store, stop.signal)
    expect((await events.next()).done).toBe(false)
    expect((await events.next()).done).toBe(false)
    // Each page of the log is read whole before its events are handed on.
    expect(opened()).toBeGreaterThan(0)
    expect(open()).toBe(0)
    stop.abort('enough')
    await turn()
    expect(open()).toBe(0)
    await expect(events.next()).rejects.toMatchObject(abortedWith(what, 'enough'))
    // Then it is over.
    expect((await events.next()).done).toBe(true)
    await store.close()
  })

  it('rejects a step in flight when the signal aborts during it', async () => {
    const { store, open } = await setup()
    const stop = new AbortController()
    const events = read(store, stop.signal)
    await events.next()
    const step = events.next()
    stop.abort()
    await expect(step).rejects.toMatchObject({ code: 'ABORTED' })
    await turn()
    expect(open()).toBe(0)
    await store.close()
  })

  it('reads to the end while the signal stays quiet, and leaves nothing open', async () => {
    const { store, open } = await setup()
    const stop = new AbortController()
    let n = 0
    for await (const _ of read(store, stop.signal)) n++
    expect(n).toBeGreaterThan(0)
    expect(open()).toBe(0)
    await store.close()
  })
})

it('readAll stops with ABORTED when the signal aborts while it reads a stream state', async () => {
  // A store opened again knows no stream state: readAll reads one for the first event it meets.
  const base = await openMemoryStorage()
  const first = await openEventStore({ storage: { ...base, close: () => TE.right(undefined) } })
  await fill(first)
  await first.close()
  const counted = counting(base)
  const store = await openEventStore({ storage: counted.storage })
  const stop = new AbortController()
  const events = store.readAll({ signal: stop.signal })
  // Abort as it reads the first event's stream state: the stream's deletion point, key m/s.
  const metaKey = Buffer.from('m/s')
  counted.onOpen = (options) => {
    if (Buffer.from(options.gte ?? options.gt ?? []).includes(metaKey)) {
      stop.abort('while reading a state')
    }
  }
  await expect(events.next()).rejects.toMatchObject(abortedWith('readAll', 'while reading a state'))
  await turn()
  expect(counted.open()).toBe(0)
  await store.close()
})

describe('abortable', () => {
  /** A source that says whether it started, and how often it was released. */
  const source = (delayMs = 0) => {
    const seen = { started: false, finished: false, returns: 0 }
    async function* numbers(): AsyncGenerator<number> {
      seen.started = true
      try {
        for (let i = 0; i < 5; i++) {
          if (delayMs > 0) await new Promise((r) => setTimeout(r, delayMs))
          yield i
        }
      } finally {
        seen.finished = true
      }
    }
    const it = numbers()
    const wrapped: AsyncIterableIterator<number> = {
      [Symbol.asyncIterator]: () => wrapped,
      next: () => it.next(),
      return: () => {
        seen.returns++
        return it.return(undefined)
      },
    }
    return { it: wrapped, seen }
  }

  it('is the source itself without a signal', () => {
    const { it } = source()
    expect(abortable(it, undefined, 'x')).toBe(it)
  })

  it('never starts the source when the signal aborted before, and rejects once', async () => {
    const { it, seen } = source()
    const stop = new AbortController()
    stop.abort('early')
    const wrapped = abortable(it, stop.signal, 'the read')
    await expect(wrapped.next()).rejects.toMatchObject(abortedWith('the read', 'early'))
    expect(seen.started).toBe(false)
    expect((await wrapped.next()).done).toBe(true)
  })

  it('releases the source as the signal fires, and rejects the next step', async () => {
    const { it, seen } = source()
    const stop = new AbortController()
    const wrapped = abortable(it, stop.signal, 'the read')
    expect((await wrapped.next()).value).toBe(0)
    stop.abort()
    await turn()
    expect(seen.finished).toBe(true)
    await expect(wrapped.next()).rejects.toMatchObject({ code: 'ABORTED' })
    expect((await wrapped.next()).done).toBe(true)
  })

  it('rejects a step in flight, dropping what it read', async () => {
    const { it } = source(5)
    const stop = new AbortController()
    const wrapped = abortable(it, stop.signal, 'the read')
    const step = wrapped.next()
    stop.abort()
    await expect(step).rejects.toMatchObject({ code: 'ABORTED' })
  })

  it('stops listening once the source ends or is returned', async () => {
    const stop = new AbortController()
    const ended = source()
    const whole = abortable(ended.it, stop.signal, 'the read')
    for await (const _ of { [Symbol.asyncIterator]: () => whole }) void _
    const returned = source()
    const early = abortable(returned.it, stop.signal, 'the read')
    await early.next()
    await early.return?.()
    expect(returned.seen.returns).toBe(1)
    stop.abort()
    // An abort after the end releases nothing again.
    expect(ended.seen.returns).toBe(0)
    expect(returned.seen.returns).toBe(1)
  })
})

describe('aggregateStream', () => {
  const count = (store: EventStore, signal: AbortSignal, onEvent = (): void => undefined) =>
    store.aggregateStream('s', {
      initialState: 0,
      evolve: (n: number) => {
        onEvent()
        return n + 1
      },
      signal,
    })

  it('folds the whole stream while the signal stays quiet', async () => {
    const { store } = await setup()
    expect(await count(store, new AbortController().signal)).toBe(40)
    await store.close()
  })

  it('rejects with ABORTED when the signal aborted before it started', async () => {
    const { store, open } = await setup()
    const stop = new AbortController()
    stop.abort('gone')
    let evolved = 0
    await expect(count(store, stop.signal, () => evolved++)).rejects.toMatchObject(
      abortedWith('aggregateStream', 'gone'),
    )
    expect(evolved).toBe(0)
    expect(open()).toBe(0)
    await store.close()
  })

  it('rejects with ABORTED when the signal aborts during the fold, evolving no further', async () => {
    const { store, open } = await setup()
    const stop = new AbortController()
    let evolved = 0
    const folding = count(store, stop.signal, () => {
      if (++evolved === 3) stop.abort('late')
    })
    await expect(folding).rejects.toMatchObject(abortedWith('aggregateStream', 'late'))
    expect(evolved).toBe(3)
    await turn()
    expect(open()).toBe(0)
    await store.close()
  })

  it('refuses a signal that is not an AbortSignal', async () => {
    const { store } = await setup()
    await expect(
      store.aggregateStream('s', {
        initialState: 0,
        evolve: (n: number) => n + 1,
        signal: 'stop' as never,
      }),
    ).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', error: { field: 'options.signal' } })
    await store.close()
  })
})

it('a subscription still ends quietly on abort', async () => {
  const { store } = await setup()
  const stop = new AbortController()
  const messages = store.subscribeToAll({ signal: stop.signal })
  expect((await messages.next()).done).toBe(false)
  stop.abort()
  expect((await messages.next()).done).toBe(true)
  await store.close()
})
