import * as E from 'fp-ts/lib/Either.js'
import * as TE from 'fp-ts/lib/TaskEither.js'
import { describe, expect, it } from 'vitest'
import { INDEX_MARKER, INDEX_PROGRESS, MARKER } from '../../src/eventstore/envelope.js'
import { CHUNK } from '../../src/eventstore/indexing.js'
import { decodePosting, POSTING_EVENTS, postingRecords } from '../../src/eventstore/postings.js'
import { openEventStore } from '../../src/eventstore/store.js'
import { ioError } from '../../src/errors.js'
import { openLog, type Log } from '../../src/openLog.js'
import type { Batch, WriteOptions } from '../../src/storage/port.js'
import { verifyStorage } from '../../src/verify/verify.js'
import { reopenableMemory } from '../log/storages.js'
import { makeTempDir, removeDir } from '../support/tmpdir.js'

const collect = async <A>(it: AsyncIterable<A>): Promise<A[]> => {
  const out: A[] = []
  for await (const x of it) out.push(x)
  return out
}
const text = new TextDecoder()
const keysOf = async (log: Log, prefix: string): Promise<string[]> =>
  (await collect(log.scan()))
    .map((e) => `${e.sequence} ${text.decode(e.key)}`)
    .filter((k) => k.split(' ')[1]?.startsWith(prefix))

/** An event envelope as a store before the index wrote one. */
const envelope = (type: string, revision: number, tags?: string[]): string =>
  JSON.stringify({
    t: type,
    d: null,
    m: null,
    id: `id-${type}-${revision}`,
    g: false,
    r: revision,
    at: 0,
    ...(tags === undefined ? {} : { tg: tags }),
  })

describe('postings', () => {
  it('list the events they were written for, at their positions, from any first record', () => {
    const events = [
      { record: 0, type: 'A', tags: ['x', 'y'] },
      { record: 1, type: 'B', tags: ['y'] },
      { record: 3, type: 'A', tags: [] },
    ]
    const records = postingRecords(events, 4)
    expect(records.map((r) => r.key)).toEqual(['t/x', 't/y', 'y/A', 'y/B'])
    const start = 100
    const listed = records.map((r, i) =>
      decodePosting(r.key.startsWith('t/') ? 'tag' : 'type', r.key.slice(2), {
        sequence: start + 4 + i,
        value: r.value,
      }),
    )
    expect(listed).toEqual([
      E.right([{ position: 100, type: 'A', tags: ['x', 'y'] }]),
      E.right([
        { position: 100, type: 'A', tags: ['x', 'y'] },
        { position: 101, type: 'B', tags: ['y'] },
      ]),
      E.right([
        { position: 100, type: 'A', tags: undefined },
        { position: 103, type: 'A', tags: undefined },
      ]),
      E.right([{ position: 101, type: 'B', tags: undefined }]),
    ])
  })

  it(`split a commit of more than ${POSTING_EVENTS} events of one tag over several entries`, async () => {
    const memory = reopenableMemory()
    const store = await openEventStore({ storage: memory.open() })
    const n = POSTING_EVENTS + 10
    await store.append(Array.from({ length: n }, () => ({ type: 'A', tags: ['t'] })))
    expect(await keysOf(store.log, 't/')).toHaveLength(2)
    expect(await keysOf(store.log, 'y/')).toHaveLength(2)
    expect(await collect(store.read({ items: [{ tags: ['t'] }] }))).toHaveLength(n)
    expect(await collect(store.read({ items: [{ types: ['A'] }] }))).toHaveLength(n)
    await store.close()
    expect((await verifyStorage(memory.base)).violations).toEqual([])
  })
})

describe('lookups in the index', () => {
  it('walk several pages of the postings of a key, each once', async () => {
    const store = await openEventStore({ storage: reopenableMemory().open() })
    // More than the first pages of a walk (16, 32, 64 and 128 entries) hold.
    const count = 266
    const positions: number[] = []
    for (let i = 0; i < count; i++) {
      positions.push((await store.append([{ type: 'E', data: i, tags: ['t'] }])).position)
    }
    const read = await collect(store.read({ items: [{ tags: ['t'] }] }))
    expect(read.map((e) => e.position)).toEqual(positions)
    const byType = await collect(store.read({ items: [{ types: ['E'] }] }))
    expect(byType.map((e) => e.position)).toEqual(positions)
    const late = positions[count - 3] as number
    for (const failIfEventsMatch of [{ items: [{ tags: ['t'] }] }, { items: [{ types: ['E'] }] }]) {
      const e = await store
        .append([{ type: 'X' }], { condition: { failIfEventsMatch, after: late } })
        .catch((error: unknown) => error)
      expect(e).toMatchObject({ error: { position: positions[count - 2] } })
    }
    await store.close()
  })
})

describe('verify checks the index against the events', () => {
  const tampered = async (records: Array<{ key: string; value: string }>): Promise<string[]> => {
    const memory = reopenableMemory()
    const log = await openLog({ storage: memory.open() })
    const store = await openEventStore({ log })
    await store.append([{ type: 'A', tags: ['x'] }])
    await store.appendToStream('s', [{ type: 'B', tags: ['x', 'y'] }])
    await store.close()
    expect((await verifyStorage(memory.base)).violations).toEqual([])
    if (records.length > 0) await log.append(records)
    await log.close()
    return [...(await verifyStorage(memory.base)).violations]
  }

  it('finds an event the index does not list', async () => {
    expect(await tampered([{ key: 'e/s', value: envelope('B', 1, ['y']) }])).toEqual([
      'the index of tags disagrees with the events: 3 postings for 4 tags of events',
      'the index of types disagrees with the events: 2 postings for 3 events',
    ])
  })

  it('finds a posting of an event that is not there, or of another type or tags', async () => {
    // Postings two and three back from their own sequences: the store's two events are at
    // 2 and 6 (each commit: the event, then its postings).
    const [first, second] = [2, 6]
    const back = (position: number): number => 11 - position
    expect(await tampered([{ key: 'y/A', value: JSON.stringify([back(second)]) }])).toEqual([
      'the index of types disagrees with the events: 3 postings for 2 events',
    ])
    expect(
      await tampered([{ key: 't/x', value: JSON.stringify([[back(first), 'A', ['x', 'z']]]) }]),
    ).toEqual(['the index of tags disagrees with the events: 4 postings for 3 tags of events'])
  })

  it('finds a posting that lists an event with another type, where the counts agree', async () => {
    // The event, then a posting of its tag one back naming another type, and of its type two back.
    const event = { key: 'e/s', value: envelope('B', 1, ['y']) }
    const tag = { key: 't/y', value: JSON.stringify([[1, 'Q', ['y']]]) }
    const type = { key: 'y/B', value: JSON.stringify([2]) }
    expect(await tampered([event, tag, type])).toEqual([
      'the index of tags disagrees with the events: 4 postings for 4 tags of events',
    ])
  })

  it('names a posting that does not decode', async () => {
    const violations = await tampered([{ key: 't/x', value: 'nonsense' }])
    expect(violations[0]).toMatch(/^entry \d+ of key "t\/x" is not a posting of the index/)
  })
})

describe('a store written before the index', () => {
  /** A log as an older store left it: its marker and events, no index. */
  const olderStore = async (events: number): Promise<ReturnType<typeof reopenableMemory>> => {
    const memory = reopenableMemory()
    const log = await openLog({ storage: memory.open() })
    await log.append([{ key: MARKER, value: JSON.stringify({ version: 1 }) }])
    for (let i = 0; i < events; i += 1000) {
      const n = Math.min(1000, events - i)
      await log.append(
        Array.from({ length: n }, (_, j) => ({
          key: 'e/s',
          value: envelope(j % 2 === 0 ? 'Even' : 'Odd', i + j, [`t${(i + j) % 3}`]),
        })),
      )
    }
    await log.close()
    return memory
  }

  it('is indexed when a writer opens it, so queries and verify see every event', async () => {
    const memory = await olderStore(10)
    const store = await openEventStore({ storage: memory.open() })
    const odd = await collect(store.read({ items: [{ types: ['Odd'] }] }))
    expect(odd.map((e) => e.revision)).toEqual([1, 3, 5, 7, 9])
    const t0 = await collect(store.read({ items: [{ tags: ['t0'] }] }))
    expect(t0.map((e) => e.revision)).toEqual([0, 3, 6, 9])
    const e = await store
      .append([{ type: 'X' }], { condition: { failIfEventsMatch: { items: [{ tags: ['t2'] }] } } })
      .catch((error: unknown) => error)
    expect(e).toMatchObject({ code: 'APPEND_CONDITION_FAILED', error: { position: 3 } })
    await store.close()
    expect((await verifyStorage(memory.base)).violations).toEqual([])
  })

  it('is CORRUPTION, indexing nothing twice, when the saved progress of indexing does not decode', async () => {
    const memory = await olderStore(3)
    const log = await openLog({ storage: memory.open() })
    await log.append([{ key: INDEX_PROGRESS, value: 'not progress' }])
    await log.close()
    await expect(openEventStore({ storage: memory.open() })).rejects.toMatchObject({
      code: 'CORRUPTION',
      message: expect.stringMatching(/how far indexing got, does not decode/) as unknown,
    })
  })

  it('closes the log it opened when the open fails, so the directory can be opened again', async () => {
    const dir = await makeTempDir('index-progress')
    try {
      const log = await openLog({ path: dir })
      await log.append([{ key: MARKER, value: JSON.stringify({ version: 1 }) }])
      await log.append([{ key: 'e/s', value: envelope('A', 0) }])
      await log.append([{ key: INDEX_PROGRESS, value: 'not progress' }])
      await log.close()
      await expect(openEventStore({ path: dir })).rejects.toMatchObject({ code: 'CORRUPTION' })
      // Left open, the failed store's log would keep the directory: LOCKED.
      const again = await openLog({ path: dir })
      await again.close()
    } finally {
      await removeDir(dir)
    }
  })

  it('is not indexed by a read-only open, whose reads by query say what to do', async () => {
    const memory = await olderStore(3)
    const reader = await openEventStore({ storage: memory.open(), readOnly: true })
    expect(await collect(reader.readAll())).toHaveLength(3)
    await expect(collect(reader.read({ items: [{ types: ['Odd'] }] }))).rejects.toMatchObject({
      code: 'MIGRATION_NEEDED',
      message: expect.stringMatching(/a writer that opens it builds the index/) as unknown,
    })
    await reader.close()
    await (await openEventStore({ storage: memory.open() })).close()
    const again = await openEventStore({ storage: memory.open(), readOnly: true })
    expect(await collect(again.read({ items: [{ types: ['Odd'] }] }))).toHaveLength(1)
    await again.close()
  })

  it('goes on where an interrupted indexing stopped, indexing no event twice', async () => {
    const memory = await olderStore(CHUNK + 5)
    // An open whose second commit of postings fails: the disk is gone.
    const failing = memory.open()
    const progress = Buffer.from(INDEX_PROGRESS)
    let commits = 0
    const interrupted = {
      ...failing,
      write: (batch: Batch, options: WriteOptions) => {
        if (batch.some((op) => Buffer.from(op.key).includes(progress))) commits++
        return commits > 1
          ? TE.left(ioError('the disk is gone', undefined))
          : failing.write(batch, options)
      },
    }
    await expect(openEventStore({ storage: interrupted })).rejects.toThrow()
    const log = await openLog({ storage: memory.open(), readOnly: true })
    expect(await keysOf(log, INDEX_PROGRESS)).toHaveLength(1)
    expect(await keysOf(log, INDEX_MARKER + ' ')).toEqual([])
    await log.close()
    const store = await openEventStore({ storage: memory.open() })
    expect(await collect(store.read({ items: [{ types: ['Even', 'Odd'] }] }))).toHaveLength(
      CHUNK + 5,
    )
    await store.close()
    expect((await verifyStorage(memory.base)).violations).toEqual([])
  })
})
