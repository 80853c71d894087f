// Durable consumers (store.consumer): events in position order a batch at a time, the checkpoint
// saved only once the handler resolved, so that a crash hands the batch in hand over again and
// nothing below the checkpoint; a failing handler retried with a doubling delay, then the run
// stopped with HANDLER_FAILED; live events woken by the writer; lag; the ends of a run (stop,
// signal, close); one run per name; `into`; partitions by a stable hash of the stream id.
import { afterEach, describe, expect, it } from 'vitest'
import { DeltalogError, type HandlerFailedError } from '../../src/errors.js'
import {
  openEventStore,
  partitionOf,
  type Consumer,
  type ConsumerOptions,
  type EventStore,
  type ReadEvent,
  type RetryOptions,
} from '../../src/eventstore/store.js'
import { openLog, type Log } from '../../src/openLog.js'
import { openMemoryStorage } from '../../src/storage/memory.js'
import { openCrashStorage } from '../../src/testing/crashStorage.js'
import { reopenableMemory, watchable } from '../log/storages.js'
import { code } from '../support/codes.js'
import { makeTempDir, removeDir } from '../support/tmpdir.js'

const cleanup: Array<() => Promise<void>> = []
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f()
})

const opened = async (options: Parameters<typeof openEventStore>[0]): Promise<EventStore> => {
  const store = await openEventStore(options)
  cleanup.push(() => store.close())
  return store
}
const memoryStore = async (): Promise<EventStore> => opened({ storage: await openMemoryStorage() })

const tempDir = async (): Promise<string> => {
  const dir = await makeTempDir('consumer')
  cleanup.push(() => removeDir(dir))
  return dir
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

/** Waits until `ready()` holds, checking every few milliseconds; fails after `ms`. */
const eventually = async (ready: () => boolean | Promise<boolean>, ms = 5000): Promise<void> => {
  const until = Date.now() + ms
  while (!(await ready())) {
    if (Date.now() > until) throw new Error(`not within ${ms} ms: ${ready.toString()}`)
    await sleep(2)
  }
}

/** A promise the test resolves when it chooses. */
const gate = (): { readonly promise: Promise<void>; readonly open: () => void } => {
  let open = (): void => undefined
  const promise = new Promise<void>((resolve) => {
    open = resolve
  })
  return { promise, open }
}

/** Whether `promise` has settled, after a few turns of the event loop. */
const settled = async (promise: Promise<unknown>): Promise<boolean> => {
  let done = false
  void promise.then(
    () => (done = true),
    () => (done = true),
  )
  await sleep(20)
  return done
}

/** The error `promise` rejects with, with its value's fields. */
const failure = async (promise: Promise<unknown>): Promise<DeltalogError> => {
  try {
    await promise
  } catch (error) {
    expect(error).toBeInstanceOf(DeltalogError)
    return error as DeltalogError
  }
  throw new Error('expected a rejection')
}

/** A handler that records every batch it is handed, as positions. */
const recorder = () => {
  const batches: number[][] = []
  const positions = (): number[] => batches.flat()
  const handler = (events: ReadonlyArray<ReadEvent>): void => {
    batches.push(events.map((e) => e.position))
  }
  return { batches, positions, handler }
}

/** Appends one event to each of `streams` in turn; resolves with their positions. */
const appendEach = async (
  store: EventStore,
  streams: ReadonlyArray<string>,
  type = 'E',
): Promise<number[]> => {
  const positions: number[] = []
  for (const s of streams) {
    positions.push((await store.appendToStream(s, [{ type, data: { s } }])).position)
  }
  return positions
}

/** Waits until consumer `name` has saved `position`. */
const savedAt = (store: EventStore, name: string, position: number): Promise<void> =>
  eventually(async () => (await store.checkpoints.load(name)) === position)

describe('store.consumer: what it hands over', () => {
  it('hands every event over once, in position order, in batches of at most `batch`', async () => {
    const store = await memoryStore()
    const written = await appendEach(store, ['a', 'b', 'a', 'c', 'b', 'a', 'c', 'a', 'b', 'c'])
    const r = recorder()
    const consumer = await store.consumer('c', { handler: r.handler, batch: 3 })
    await savedAt(store, 'c', written.at(-1) as number)
    // Catching up reads full pages: 3, 3, 3, then the rest.
    expect(r.batches.map((b) => b.length)).toEqual([3, 3, 3, 1])
    expect(r.positions()).toEqual(written)
    expect(consumer.name).toBe('c')
    await consumer.stop()
    await consumer.done
  })

  it('hands over only the events of its filter', async () => {
    const store = await memoryStore()
    await store.appendToStream('order-1', [{ type: 'Placed' }, { type: 'Paid' }])
    await store.appendToStream('user-1', [{ type: 'Placed' }])
    await store.appendToStream('order-2', [{ type: 'Placed' }, { type: 'Shipped' }])
    const seen: string[] = []
    const consumer = await store.consumer('orders', {
      handler: (events) => {
        for (const e of events) seen.push(`${e.streamId}:${e.type}`)
      },
      filter: { streamPrefix: 'order-', eventTypes: ['Placed', 'Shipped'] },
      batch: 1,
    })
    await eventually(() => seen.length === 3)
    await consumer.stop()
    expect(seen).toEqual(['order-1:Placed', 'order-2:Placed', 'order-2:Shipped'])
  })

  it('hands over only the events of its query (types and tags)', async () => {
    const store = await memoryStore()
    await store.append([
      { type: 'A', tags: ['x'] },
      { type: 'B', tags: ['x', 'y'] },
      { type: 'C', tags: ['y'] },
      { type: 'A', tags: ['y', 'z'] },
    ])
    await store.appendToStream('s', [{ type: 'B', tags: ['z'] }])
    const seen: string[] = []
    const consumer = await store.consumer('q', {
      handler: (events) => {
        for (const e of events) seen.push(`${e.type}:${e.tags.join(',')}`)
      },
      query: { items: [{ tags: ['y'] }, { types: ['B'], tags: ['z'] }] },
      batch: 2,
    })
    await eventually(() => seen.length === 4)
    await sleep(20)
    await consumer.stop()
    expect(seen).toEqual(['B:x,y', 'C:y', 'A:y,z', 'B:z'])
    // A filter and a query together are refused.
    const both = await failure(
      store.consumer('q2', {
        handler: () => undefined,
        query: 'all',
        filter: { eventTypes: ['A'] },
      }),
    )
    expect(both.code).toBe('INVALID_ARGUMENT')
    expect(both.error).toMatchObject({ field: 'options.query' })
  })

  it('starts at `from` or after `after` when it has no checkpoint; a checkpoint wins over both', async () => {
    const store = await memoryStore()
    const p = await appendEach(store, ['a', 'b', 'c', 'd', 'e'])
    const run = async (name: string, options: { from?: number; after?: number }) => {
      const r = recorder()
      const consumer = await store.consumer(name, { handler: r.handler, ...options })
      await savedAt(store, name, p[4] as number)
      await consumer.stop()
      return r.positions()
    }
    expect(await run('from', { from: p[2] as number })).toEqual(p.slice(2))
    expect(await run('after', { after: p[2] as number })).toEqual(p.slice(3))
    expect(await run('default', {})).toEqual(p)
    // Each has a checkpoint now: a new event is all any of them gets, whatever it is told.
    const [next] = await appendEach(store, ['f'])
    for (const name of ['from', 'after', 'default']) {
      const r = recorder()
      const consumer = await store.consumer(name, { handler: r.handler, from: 0 })
      await savedAt(store, name, next as number)
      await consumer.stop()
      expect(r.positions(), name).toEqual([next])
    }
    const r = recorder()
    const c = await store.consumer('after', { handler: r.handler, after: 0 })
    await sleep(20)
    await c.stop()
    expect(r.positions()).toEqual([])
  })

  it('refuses `from` and `after` together with INVALID_ARGUMENT', async () => {
    const store = await memoryStore()
    const error = await failure(
      store.consumer('c', { handler: () => undefined, from: 1, after: 1 }),
    )
    expect(error.code).toBe('INVALID_ARGUMENT')
    expect(error.error).toMatchObject({ field: 'options.after' })
  })
})

describe('store.consumer: the checkpoint', () => {
  it('is saved only after the handler resolves', async () => {
    const store = await memoryStore()
    const p = await appendEach(store, ['a', 'b', 'c'])
    const g = gate()
    let calls = 0
    const consumer = await store.consumer('c', {
      handler: async () => {
        calls++
        await g.promise
      },
    })
    await eventually(() => calls === 1)
    await sleep(20)
    expect(await store.checkpoints.load('c')).toBeUndefined()
    expect(consumer.lag().position).toBe(-1)
    g.open()
    await savedAt(store, 'c', p[2] as number)
    await eventually(() => consumer.lag().position === p[2])
    await consumer.stop()
    expect(calls).toBe(1)
  })

  it('hands the batch in hand over again after a crash, and nothing below the checkpoint', async () => {
    const storage = await openCrashStorage()
    const store = await openEventStore({ storage })
    const p = await appendEach(store, ['a', 'b', 'c', 'd', 'e', 'f'])
    const g = gate()
    const first: number[][] = []
    const crashed = await store.consumer('c', {
      handler: async (events) => {
        first.push(events.map((e) => e.position))
        if (first.length === 2) await g.promise
      },
      batch: 2,
    })
    await eventually(() => first.length === 2)
    expect(await store.checkpoints.load('c')).toBe(p[1])

    const restarted = await opened({ storage: storage.crash('process') })
    const r = recorder()
    const consumer = await restarted.consumer('c', { handler: r.handler, batch: 2 })
    await savedAt(restarted, 'c', p[5] as number)
    // At least once: the batch that was in hand comes again; what was saved does not.
    expect(r.batches).toEqual([
      [p[2], p[3]],
      [p[4], p[5]],
    ])
    await consumer.stop()
    // The crashed process's handler resolves at last: its save fails, the restarted one's stands.
    g.open()
    expect((await failure(crashed.done)).code).toBe('IO_ERROR')
    expect(await restarted.checkpoints.load('c')).toBe(p[5])
    await store.close().catch(() => undefined)
  })

  it('resumes from its checkpoint after a close and a reopen (RocksDB)', async () => {
    const path = await tempDir()
    const store = await openEventStore({ path })
    const before = await appendEach(store, ['a', 'b', 'c', 'a'])
    const r1 = recorder()
    const consumer = await store.consumer('c', { handler: r1.handler, batch: 3 })
    await savedAt(store, 'c', before.at(-1) as number)
    await store.close()
    await consumer.done
    expect(r1.positions()).toEqual(before)

    const again = await opened({ path })
    const after = await appendEach(again, ['b', 'd'])
    const r2 = recorder()
    const resumed = await again.consumer('c', { handler: r2.handler, from: 0 })
    await savedAt(again, 'c', after.at(-1) as number)
    expect(r2.positions()).toEqual(after)
    await resumed.stop()
  })
})

describe('store.consumer: a failing handler', () => {
  it('is retried with a doubling delay up to retry.attempts, then stops the run with HANDLER_FAILED', async () => {
    const store = await memoryStore()
    const p = await appendEach(store, ['a', 'b', 'c', 'd'])
    const calls: Array<{ at: number; positions: number[] }> = []
    const cause = new Error('the database is down')
    const consumer = await store.consumer('c', {
      handler: (events) => {
        calls.push({ at: performance.now(), positions: events.map((e) => e.position) })
        if (events.some((e) => e.position === p[2])) throw cause
      },
      batch: 2,
      retry: { attempts: 3, delayMs: 15 },
    })
    const error = await failure(consumer.done)
    expect(error.code).toBe('HANDLER_FAILED')
    const value = error.error as HandlerFailedError
    expect(value).toMatchObject({ name: 'c', position: p[2], through: p[3], attempts: 3 })
    expect(value.cause).toBe(cause)
    expect(error.cause).toBe(cause)
    // One good batch, then the failing one three times with 15 then 30 ms between tries.
    expect(calls.map((c) => c.positions)).toEqual([
      [p[0], p[1]],
      [p[2], p[3]],
      [p[2], p[3]],
      [p[2], p[3]],
    ])
    const gaps = calls.slice(1).map((c, i) => c.at - (calls[i] as { at: number }).at)
    expect(gaps[1]).toBeGreaterThanOrEqual(14)
    expect(gaps[2]).toBeGreaterThanOrEqual(29)
    // The checkpoint stays before the failed batch: a restart hands it over again.
    expect(await store.checkpoints.load('c')).toBe(p[1])
    const r = recorder()
    const next = await store.consumer('c', { handler: r.handler })
    await savedAt(store, 'c', p[3] as number)
    expect(r.positions()).toEqual([p[2], p[3]])
    await next.stop()
  })

  it('caps the delay at retry.maxDelayMs, the first one too', async () => {
    const store = await memoryStore()
    await appendEach(store, ['a'])
    const tries = async (name: string, retry: RetryOptions): Promise<number[]> => {
      const at: number[] = []
      const consumer = await store.consumer(name, {
        handler: () => {
          at.push(performance.now())
          throw new Error('no')
        },
        retry,
      })
      const error = await failure(consumer.done)
      expect(error.error).toMatchObject({ attempts: retry.attempts })
      expect(at).toHaveLength(retry.attempts as number)
      return at.slice(1).map((t, i) => t - (at[i] as number))
    }
    // 10 ms each time — not 10, 20, 40, 80 and 160 (310 in all).
    const capped = await tries('capped', { attempts: 6, delayMs: 10, maxDelayMs: 10 })
    for (const gap of capped) expect(gap).toBeGreaterThanOrEqual(9)
    expect(capped.reduce((a, b) => a + b)).toBeLessThan(250)
    // A delay left undefined (from JavaScript) is the default, 100 ms, which the cap lowers to 5.
    const [first] = await tries('first', {
      attempts: 2,
      delayMs: undefined,
      maxDelayMs: 5,
    } as unknown as RetryOptions)
    expect(first).toBeGreaterThanOrEqual(4)
    expect(first).toBeLessThan(95)
  })

  it('goes on when the handler succeeds within its attempts', async () => {
    const store = await memoryStore()
    const p = await appendEach(store, ['a', 'b', 'c'])
    let failures = 0
    const r = recorder()
    const consumer = await store.consumer('c', {
      handler: (events) => {
        if (events[0]?.position === p[1] && failures < 2) {
          failures++
          throw new Error(`failure ${failures}`)
        }
        r.handler(events)
      },
      batch: 1,
      retry: { attempts: 3, delayMs: 1 },
    })
    await savedAt(store, 'c', p[2] as number)
    expect(failures).toBe(2)
    expect(r.positions()).toEqual(p)
    expect(await settled(consumer.done)).toBe(false)
    await consumer.stop()
    await consumer.done
  })

  it('ends quietly, saving nothing, when stopped while it waits to retry', async () => {
    const store = await memoryStore()
    await appendEach(store, ['a', 'b'])
    let calls = 0
    const consumer = await store.consumer('c', {
      handler: () => {
        calls++
        throw new Error('no')
      },
      retry: { attempts: 5, delayMs: 60_000 },
    })
    await eventually(() => calls === 1)
    const started = Date.now()
    await consumer.stop()
    await consumer.done
    expect(Date.now() - started).toBeLessThan(1000)
    expect(calls).toBe(1)
    expect(await store.checkpoints.load('c')).toBeUndefined()
  })
})

/**
 * A log whose calls are counted, to see whether an idle consumer touches it, and whose follows
 * are counted while open (until their end, or `return()`).
 */
const countingLog = (log: Log) => {
  let calls = 0
  let follows = 0
  const tracked = (iterator: AsyncIterableIterator<unknown>): AsyncIterableIterator<unknown> => {
    follows++
    let open = true
    const close = (): void => {
      if (open) follows--
      open = false
    }
    return {
      next: async () => {
        try {
          const step = await iterator.next()
          if (step.done === true) close()
          return step
        } catch (error) {
          close()
          throw error
        }
      },
      return: async (value?: unknown) => {
        close()
        return (await iterator.return?.(value)) ?? { done: true, value: undefined }
      },
      [Symbol.asyncIterator]() {
        return this
      },
    }
  }
  const counted = new Proxy(log, {
    get: (target, key, receiver) => {
      const value: unknown = Reflect.get(target, key, receiver)
      if (typeof value !== 'function') return value
      return (...args: unknown[]) => {
        calls++
        const result: unknown = (value as (...a: unknown[]) => unknown).apply(target, args)
        return key === 'follow' ? tracked(result as AsyncIterableIterator<unknown>) : result
      }
    },
  })
  return { log: counted, calls: () => calls, follows: () => follows }
}

describe('store.consumer: live events and lag', () => {
  it("lets the process's other work go while it catches up: a timer fires between batches", async () => {
    const store = await memoryStore()
    const { position: last } = await store.append(
      Array.from({ length: 300 }, (_, i) => ({ type: 'E', data: i })),
    )
    let ticks = 0
    let ticksAtEnd: number | undefined
    const timer = setInterval(() => ticks++, 0)
    try {
      const consumer = await store.consumer('c', {
        handler: (events) => {
          if (events.at(-1)?.position === last) ticksAtEnd = ticks
        },
        batch: 10,
      })
      await eventually(() => ticksAtEnd !== undefined)
      await consumer.stop()
    } finally {
      clearInterval(timer)
    }
    expect(ticksAtEnd).toBeGreaterThan(0)
  })

  it('hands over events appended after it caught up, woken by the writer: idle, it does not touch the log', async () => {
    const log = await openLog({ storage: await openMemoryStorage() })
    cleanup.push(() => log.close())
    const counting = countingLog(log)
    const store = await opened({ log: counting.log })
    const [p0] = await appendEach(store, ['a'])
    const r = recorder()
    const consumer = await store.consumer('c', { handler: r.handler })
    await savedAt(store, 'c', p0 as number)
    await sleep(20)
    const idle = counting.calls()
    await sleep(100)
    // No polling: nothing reads while nothing is written.
    expect(counting.calls()).toBe(idle)
    const [p1] = await appendEach(store, ['b'])
    await savedAt(store, 'c', p1 as number)
    const [p2, p3] = await appendEach(store, ['c', 'd'])
    await savedAt(store, 'c', p3 as number)
    expect(r.positions()).toEqual([p0, p1, p2, p3])
    await consumer.stop()
  })

  it('reports lag: positions not yet read and how old the batch in hand is; nothing once caught up', async () => {
    const store = await memoryStore()
    const p = await appendEach(store, ['a', 'b', 'c', 'd', 'e'])
    await sleep(30)
    const g = gate()
    let calls = 0
    const consumer = await store.consumer('c', {
      handler: async () => {
        calls++
        if (calls === 1) await g.promise
      },
      batch: 2,
    })
    await eventually(() => calls === 1)
    const head = store.log.nextSequence()
    const held = consumer.lag()
    expect(held.position).toBe(-1)
    expect(held.head).toBe(head)
    // Read past the first two events: what is left to read starts after the second.
    expect(held.positions).toBe(head - ((p[1] as number) + 1))
    expect(held.ms).toBeGreaterThanOrEqual(25)
    g.open()
    await savedAt(store, 'c', p[4] as number)
    await eventually(() => consumer.lag().positions === 0)
    const idle = consumer.lag()
    expect(idle).toEqual({ position: p[4], head: store.log.nextSequence(), positions: 0, ms: 0 })
    // A new event counts as behind until it is read.
    await consumer.stop()
    await appendEach(store, ['f'])
    const behind = consumer.lag()
    expect(behind.positions).toBeGreaterThan(0)
    expect(behind.position).toBe(p[4])
  })
})

describe('store.consumer: how a run ends', () => {
  it('ends on stop(), on its signal, on the store’s close, and on await using', async () => {
    const store = await memoryStore()
    await appendEach(store, ['a'])
    const byStop = await store.consumer('stop', { handler: () => undefined })
    const controller = new AbortController()
    const bySignal = await store.consumer('signal', {
      handler: () => undefined,
      signal: controller.signal,
    })
    const byClose = await store.consumer('close', { handler: () => undefined })
    await sleep(10)
    await byStop.stop()
    await byStop.done
    expect(await settled(bySignal.done)).toBe(false)
    controller.abort()
    await bySignal.done
    expect(await settled(byClose.done)).toBe(false)
    await store.close()
    await byClose.done
    {
      const other = await memoryStore()
      await using disposed = await other.consumer('d', { handler: () => undefined })
      expect(disposed.name).toBe('d')
      cleanup.push(() => disposed.done)
    }
  })

  it('is not started by a signal that already aborted: done resolves and nothing is handed over', async () => {
    const store = await memoryStore()
    await appendEach(store, ['a'])
    let calls = 0
    const consumer = await store.consumer('c', {
      handler: () => void calls++,
      signal: AbortSignal.abort(),
    })
    await consumer.done
    expect(calls).toBe(0)
  })

  it('lets close wait for the batch in hand, and saves its checkpoint', async () => {
    const memory = reopenableMemory()
    const store = await openEventStore({ storage: memory.open() })
    const p = await appendEach(store, ['a', 'b'])
    const g = gate()
    const order: string[] = []
    const consumer = await store.consumer('c', {
      handler: async () => {
        order.push('handling')
        await g.promise
        order.push('handled')
      },
    })
    await eventually(() => order.length === 1)
    const closing = store.close().then(() => order.push('closed'))
    expect(await settled(closing)).toBe(false)
    g.open()
    await closing
    await consumer.done
    expect(order).toEqual(['handling', 'handled', 'closed'])
    const again = await opened({ storage: memory.open() })
    expect(await again.checkpoints.load('c')).toBe(p[1])
  })

  it('does not hand a batch over once stopped, even one read before the stop', async () => {
    const store = await memoryStore()
    await appendEach(store, ['a'])
    const controller = new AbortController()
    let calls = 0
    const consumer = await store.consumer('c', {
      handler: () => void calls++,
      signal: controller.signal,
    })
    controller.abort()
    await consumer.done
    expect(calls).toBe(0)
  })

  it('runs one consumer of a name at a time in a store', async () => {
    const store = await memoryStore()
    const first = await store.consumer('c', { handler: () => undefined })
    const second = await failure(store.consumer('c', { handler: () => undefined }))
    expect(second.code).toBe('INVALID_ARGUMENT')
    expect(second.error).toMatchObject({ field: 'name' })
    // Another name, or a projection of the same name, is another run.
    const other = await store.consumer('d', { handler: () => undefined })
    await other.stop()
    await first.stop()
    const later = await store.consumer('c', { handler: () => undefined })
    await later.stop()
    // A run that failed lets go of its name too.
    await appendEach(store, ['a'])
    const failing = await store.consumer('c', {
      handler: () => {
        throw new Error('no')
      },
      retry: { attempts: 1 },
    })
    expect((await failure(failing.done)).code).toBe('HANDLER_FAILED')
    const after = await store.consumer('c', { handler: () => undefined, from: 99 })
    await after.stop()
  })

  it('is refused once its store is closed', async () => {
    const store = await memoryStore()
    await store.close()
    expect(await code(store.consumer('c', { handler: () => undefined }))).toBe('CLOSED')
  })

  it('leaves no timers and no follows behind once stopped or closed', async () => {
    const timers = watchTimers()
    try {
      const log = await openLog({ storage: await openMemoryStorage() })
      cleanup.push(() => log.close())
      const tracked = countingLog(log)
      const store = await openEventStore({ log: tracked.log })
      let failures = 0
      const retrying = await store.consumer('retrying', {
        handler: () => {
          failures++
          throw new Error('no')
        },
        filter: { eventTypes: ['Bad'] },
        retry: { delayMs: 60_000 },
      })
      const r = recorder()
      const idle = await store.consumer('idle', { handler: r.handler })
      // Woken many times: each wake lets go of its follow.
      for (let i = 0; i < 5; i++) {
        const [p] = await appendEach(store, ['a'])
        await savedAt(store, 'idle', p as number)
      }
      await appendEach(store, ['b'], 'Bad')
      await eventually(() => failures === 1)
      expect(timers.pending()).toBe(1)
      // The idle one waits for a commit with one follow; the other waits to retry.
      await eventually(() => tracked.follows() === 1)
      await idle.stop()
      expect(tracked.follows()).toBe(0)
      await store.close()
      await retrying.done
      expect(timers.pending()).toBe(0)
      expect(tracked.follows()).toBe(0)
    } finally {
      timers.restore()
    }
  })
})

/** Counts the timers of a second or more set from now on that neither fired nor were cleared. */
const watchTimers = () => {
  const { setTimeout: set, clearTimeout: clear } = globalThis
  const pending = new Set<unknown>()
  globalThis.setTimeout = ((f: () => void, ms?: number) => {
    const timer = set(() => {
      pending.delete(timer)
      f()
    }, ms)
    if ((ms ?? 0) >= 1000) pending.add(timer)
    return timer
  }) as typeof globalThis.setTimeout
  globalThis.clearTimeout = (timer?: Parameters<typeof clear>[0]) => {
    pending.delete(timer)
    clear(timer)
  }
  return {
    pending: () => pending.size,
    restore: () => {
      globalThis.setTimeout = set
      globalThis.clearTimeout = clear
    },
  }
}

describe('store.consumer: where the checkpoint is kept', () => {
  it('is READ_ONLY on a read-only store without `into`', async () => {
    const storage = await openMemoryStorage()
    const writer = await opened({ storage })
    await appendEach(writer, ['a'])
    const reader = await opened({ storage, readOnly: true })
    expect(await code(reader.consumer('c', { handler: () => undefined }))).toBe('READ_ONLY')
  })

  it('keeps its checkpoint in `into`, from which it resumes', async () => {
    const source = await memoryStore()
    const target = await memoryStore()
    const p = await appendEach(source, ['a', 'b'])
    const r1 = recorder()
    const consumer = await source.consumer('c', { handler: r1.handler, into: target })
    await savedAt(target, 'c', p[1] as number)
    await consumer.stop()
    expect(await source.checkpoints.load('c')).toBeUndefined()
    const more = await appendEach(source, ['c'])
    const r2 = recorder()
    const resumed = await source.consumer('c', { handler: r2.handler, into: target })
    await savedAt(target, 'c', more[0] as number)
    expect(r2.positions()).toEqual(more)
    // Its name is taken in the store that keeps it: no run of it there meanwhile.
    expect(await code(target.consumer('c', { handler: () => undefined }))).toBe('INVALID_ARGUMENT')
    // The target's close stops it.
    await target.close()
    await resumed.done
  })

  it('reads a read-only store and keeps its checkpoint in a writable `into`', async () => {
    const storage = watchable(await openMemoryStorage())
    const writer = await opened({ storage })
    const p = await appendEach(writer, ['a', 'b'])
    const reader = await opened({ storage, readOnly: true })
    const target = await memoryStore()
    const r = recorder()
    const consumer = await reader.consumer('c', { handler: r.handler, into: target })
    await savedAt(target, 'c', p[1] as number)
    const more = await appendEach(writer, ['c'])
    storage.notify()
    await savedAt(target, 'c', more[0] as number)
    expect(r.positions()).toEqual([...p, ...more])
    // The reader's close ends it.
    await reader.close()
    await consumer.done
  })

  it('refuses an `into` that is not an open event store with INVALID_ARGUMENT', async () => {
    const store = await memoryStore()
    const error = await failure(store.consumer('c', { handler: () => undefined, into: {} }))
    expect(error.code).toBe('INVALID_ARGUMENT')
    expect(error.error).toMatchObject({ field: 'options.into' })
    const closed = await memoryStore()
    await closed.close()
    expect(await code(store.consumer('c', { handler: () => undefined, into: closed }))).toBe(
      'CLOSED',
    )
  })
})

describe('store.consumer: options', () => {
  const handler = (): void => undefined
  const bad: ReadonlyArray<{ field: string; options: unknown; name?: string }> = [
    { field: 'options.batch', options: { handler, batch: 0 } },
    { field: 'options.handler', options: { handler: 'not a function' } },
    { field: 'options.handler', options: {} },
    { field: 'options.bogus', options: { handler, bogus: 1 } },
    { field: 'options.retry.attempts', options: { handler, retry: { attempts: 0 } } },
    { field: 'options.retry.delayMs', options: { handler, retry: { delayMs: -1 } } },
    { field: 'options.from', options: { handler, from: -1 } },
    { field: 'options.partition.index', options: { handler, partition: { index: 3, count: 3 } } },
    { field: 'options.partition.count', options: { handler, partition: { index: 0, count: 0 } } },
    { field: 'name', options: { handler }, name: '' },
  ]
  it.each(bad)('refuses a bad $field with INVALID_ARGUMENT naming it', async (bad) => {
    const store = await memoryStore()
    const error = await failure(store.consumer(bad.name ?? 'c', bad.options as ConsumerOptions))
    expect(error.code).toBe('INVALID_ARGUMENT')
    expect(error.error).toMatchObject({ field: bad.field })
  })
})

describe('store.consumer: partitions', () => {
  it('hands each event to exactly one of a group, each stream always to the same one', async () => {
    const store = await memoryStore()
    const streams = Array.from({ length: 24 }, (_, i) => `account-${i}`)
    const order = Array.from({ length: 96 }, (_, i) => streams[(i * 7) % streams.length] as string)
    const written = await appendEach(store, order)
    const byConsumer = [0, 1, 2].map(() => new Map<number, string>())
    const group: Consumer[] = []
    for (const index of [0, 1, 2]) {
      const seen = byConsumer[index] as Map<number, string>
      group.push(
        await store.consumer(`group-${index}`, {
          handler: (events) => {
            for (const e of events) {
              expect(seen.has(e.position), `position ${e.position} twice`).toBe(false)
              seen.set(e.position, e.streamId)
            }
          },
          partition: { index, count: 3 },
          batch: 5,
        }),
      )
    }
    await eventually(() => byConsumer.reduce((n, m) => n + m.size, 0) === written.length)
    await eventually(() => group.every((c) => c.lag().positions === 0))
    for (const c of group) await c.stop()
    const owner = new Map<string, number>()
    const handled: number[] = []
    byConsumer.forEach((seen, index) => {
      expect(seen.size, `partition ${index} is empty`).toBeGreaterThan(0)
      for (const [position, stream] of seen) {
        handled.push(position)
        expect(owner.get(stream) ?? index, stream).toBe(index)
        owner.set(stream, index)
        expect(partitionOf(stream, 3)).toBe(index)
      }
    })
    expect(handled.sort((a, b) => a - b)).toEqual(written)
    expect(owner.size).toBe(streams.length)
  })

  it("reads on past whole batches of other partitions' events", async () => {
    const store = await memoryStore()
    const mine = 'x-1'
    const others = ['x-2', 'x-3', 'x-4', 'x-5', 'x-6'].filter(
      (s) => partitionOf(s, 2) !== partitionOf(mine, 2),
    )
    expect(others.length).toBeGreaterThan(0)
    const noise = Array.from({ length: 12 }, (_, i) => others[i % others.length] as string)
    await appendEach(store, noise)
    const [p] = await appendEach(store, [mine])
    const r = recorder()
    const consumer = await store.consumer('c', {
      handler: r.handler,
      partition: { index: partitionOf(mine, 2), count: 2 },
      batch: 3,
    })
    await savedAt(store, 'c', p as number)
    expect(r.positions()).toEqual([p])
    await eventually(() => consumer.lag().positions === 0)
    await consumer.stop()
  })

  it('partitionOf is FNV-1a (32 bits) of the UTF-8 bytes, modulo count: stable everywhere', () => {
    // FNV-1a's published values: '' → 0x811c9dc5, 'a' → 0xe40c292c, 'foobar' → 0xbf9cf968.
    expect(partitionOf('', 2 ** 32)).toBe(0x811c9dc5)
    expect(partitionOf('a', 2 ** 32)).toBe(0xe40c292c)
    expect(partitionOf('foobar', 2 ** 32)).toBe(0xbf9cf968)
    expect(partitionOf('foobar', 1000)).toBe(0xbf9cf968 % 1000)
    // UTF-8, not UTF-16 code units.
    expect(partitionOf('é', 2 ** 32)).toBe(0x1e9de8c1)
    expect(partitionOf('account-1', 3)).toBe(0x3aa68c96 % 3)
    expect(partitionOf('anything', 1)).toBe(0)
    const refused = (f: () => unknown): unknown => {
      try {
        f()
      } catch (error) {
        expect(error).toBeInstanceOf(DeltalogError)
        return (error as DeltalogError).error
      }
      throw new Error('expected a throw')
    }
    for (const count of [0, -1, 1.5, Number.NaN]) {
      expect(refused(() => partitionOf('a', count))).toMatchObject({
        code: 'INVALID_ARGUMENT',
        field: 'count',
      })
    }
    expect(refused(() => partitionOf(7 as unknown as string, 3))).toMatchObject({
      code: 'INVALID_ARGUMENT',
      field: 'streamId',
    })
  })
})

describe('store.consumer: races with close', () => {
  it('is refused with CLOSED, or ends at once, when its store closes while it starts', async () => {
    for (let turns = 0; turns < 8; turns++) {
      const store = await openEventStore({ storage: await openMemoryStorage() })
      await appendEach(store, ['a'])
      let calls = 0
      const starting = store.consumer('c', { handler: () => void calls++ })
      for (let i = 0; i < turns; i++) await Promise.resolve()
      await store.close()
      const outcome = await starting.then(
        async (c) => {
          await c.done
          return 'ended'
        },
        (error: unknown) => (error as DeltalogError).code,
      )
      expect(['ended', 'CLOSED'], `after ${turns} turns`).toContain(outcome)
      expect(calls).toBe(0)
    }
  })

  it('lets the close of the store it reads (with `into`) wait for the batch in hand', async () => {
    const source = await memoryStore()
    const target = await memoryStore()
    const p = await appendEach(source, ['a'])
    const g = gate()
    const order: string[] = []
    const consumer = await source.consumer('c', {
      handler: async () => {
        order.push('handling')
        await g.promise
        order.push('handled')
      },
      into: target,
    })
    await eventually(() => order.length === 1)
    const closing = source.close().then(() => order.push('closed'))
    expect(await settled(closing)).toBe(false)
    g.open()
    await closing
    await consumer.done
    expect(order).toEqual(['handling', 'handled', 'closed'])
    expect(await target.checkpoints.load('c')).toBe(p[0])
  })
})
