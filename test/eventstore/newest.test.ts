import { describe, expect, it } from 'vitest'
import type { DeltalogError } from '../../src/errors.js'
import { makeNewest } from '../../src/eventstore/newest.js'
import { openEventStore, type EventStore } from '../../src/eventstore/store.js'
import type { Storage } from '../../src/storage/port.js'
import { reopenableMemory } from '../log/storages.js'

/** A storage that counts the iterations opened on it. */
const counting = (storage: Storage): Storage & { readonly opened: () => number } => {
  let opened = 0
  return {
    ...storage,
    iterator: (options) => {
      opened++
      return storage.iterator(options)
    },
    opened: () => opened,
  }
}

const outcome = (p: Promise<unknown>): Promise<string> =>
  p.then(
    () => 'ok',
    (e: DeltalogError) => e.code,
  )

const withCondition = (store: EventStore, tags: string[], after?: number): Promise<string> =>
  outcome(
    store.append([{ type: 'X' }], {
      condition: {
        failIfEventsMatch: { items: [{ tags }] },
        ...(after === undefined ? {} : { after }),
      },
    }),
  )

describe('the newest positions of tags and types', () => {
  it('keeps the most recently set, at most its limit, and learns what a commit wrote', () => {
    const newest = makeNewest(2)
    newest.set('t/a', 1)
    newest.set('t/b', 2)
    newest.set('t/a', 4)
    newest.set('t/c', 3)
    expect(newest.get('t/b')).toBeUndefined()
    expect([newest.get('t/a'), newest.get('t/c')]).toEqual([4, 3])
    const all = makeNewest()
    all.written([{ record: 2, type: 'A', tags: ['x', 'y'] }], 10)
    expect([all.get('t/x'), all.get('t/y'), all.get('y/A'), all.get('t/z')]).toEqual([
      12,
      12,
      12,
      undefined,
    ])
    // Of a commit's events with one tag, the last is the newest.
    all.written(
      [
        { record: 1, type: 'A', tags: ['x'] },
        { record: 3, type: 'A', tags: ['x'] },
      ],
      20,
    )
    expect([all.get('t/x'), all.get('y/A')]).toEqual([23, 23])
    all.clear()
    expect(all.get('t/x')).toBeUndefined()
  })

  it('decide a condition whose tag has no event above after with no read of the index', async () => {
    const memory = reopenableMemory()
    const storage = counting(memory.open())
    const store = await openEventStore({ storage })
    const old = await store.append([{ type: 'A', tags: ['student:1', 'course:1'] }])
    const head = await store.append([{ type: 'B', tags: ['course:1'] }])
    // Learns the newest position of student:1 from its last posting, once.
    expect(await withCondition(store, ['course:1', 'student:1'], head.position)).toBe('ok')
    const plain = storage.opened()
    await store.append([{ type: 'Y' }])
    const perAppend = storage.opened() - plain
    const before = storage.opened()
    expect(await withCondition(store, ['course:1', 'student:1'], head.position)).toBe('ok')
    // No more reads than a plain append: student:1 has nothing above `after`.
    expect(storage.opened() - before).toBe(perAppend)
    expect(await withCondition(store, ['course:1', 'student:1'], old.position - 1)).toBe(
      'APPEND_CONDITION_FAILED',
    )
    await store.close()
  })

  it('follow every commit, and are read again from the index after a reopen', async () => {
    const memory = reopenableMemory()
    const store = await openEventStore({ storage: memory.open() })
    const first = await store.append([{ type: 'A', tags: ['k'] }])
    expect(await withCondition(store, ['k'], first.position)).toBe('ok')
    // Known now; the next commit of the tag must move it.
    const second = await store.append([{ type: 'A', tags: ['k'] }])
    expect(await withCondition(store, ['k'], first.position)).toBe('APPEND_CONDITION_FAILED')
    expect(await withCondition(store, ['k'], second.position)).toBe('ok')
    await store.close()
    const again = await openEventStore({ storage: memory.open() })
    expect(await withCondition(again, ['k'], first.position)).toBe('APPEND_CONDITION_FAILED')
    expect(await withCondition(again, ['k'], second.position)).toBe('ok')
    expect(await withCondition(again, ['never'])).toBe('ok')
    const typed = await outcome(
      again.append([{ type: 'Z' }], {
        condition: {
          failIfEventsMatch: { items: [{ types: ['Never', 'A'] }] },
          after: first.position,
        },
      }),
    )
    expect(typed).toBe('APPEND_CONDITION_FAILED')
    await again.close()
  })
})
