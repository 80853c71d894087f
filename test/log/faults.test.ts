// Rules that only show after a fault or a crash: the truncation watermark survives a power
// loss, reads hide truncated entries whatever the deletions managed, and the durable watermark
// never runs ahead of what storage confirmed. Each test is named for the rule it guards.
import { describe, expect, it } from 'vitest'
import { DeltalogError } from '../../src/errors.js'
import { openLog, type Log, type LogEntry } from '../../src/openLog.js'
import { openCrashStorage } from '../../src/testing/crashStorage.js'

const collect = async <A>(it: AsyncIterable<A>): Promise<A[]> => {
  const out: A[] = []
  for await (const x of it) out.push(x)
  return out
}

const text = new TextDecoder()
const show = (entries: ReadonlyArray<LogEntry>): string[] =>
  entries.map((e) => `${e.sequence}:${text.decode(e.key)}=${text.decode(e.value)}`)

const code = async (promise: Promise<unknown>): Promise<string> => {
  try {
    await promise
    return 'resolved'
  } catch (error) {
    return error instanceof DeltalogError ? error.code : String(error)
  }
}

const appendEach = async (log: Log, values: ReadonlyArray<string>): Promise<void> => {
  for (const value of values) await log.append([{ key: 'a', value }])
}

describe('truncation', () => {
  it('a resolved truncateBefore survives a power loss: the entries below it never come back', async () => {
    for (let seed = 0; seed < 8; seed++) {
      const store = await openCrashStorage()
      const log = await openLog({ storage: store, durability: 'buffered', blockSize: 64 })
      await appendEach(log, ['0', '1', '2', '3'])
      await log.truncateBefore(2)
      const after = await openLog({ storage: store.crashView('power', seed) })
      const seen = show(await collect(after.scan()))
      expect(
        seen.filter((e) => e.startsWith('0:') || e.startsWith('1:')),
        `seed ${seed}`,
      ).toEqual([])
      await after.close()
      await log.close()
    }
  })

  it('key scans, global scans and counts hide truncated entries when the deletions failed', async () => {
    const store = await openCrashStorage()
    const log = await openLog({ storage: store })
    await appendEach(log, ['0', '1', '2', '3'])
    await log.append([{ key: 'b', value: '4' }])
    store.failNext('write', 1) // the watermark is written; the first deletion batch fails
    expect(await code(log.truncateBefore(2))).toBe('IO_ERROR')
    const check = async (l: Log): Promise<void> => {
      expect(show(await collect(l.scan({ key: 'a' })))).toEqual(['2:a=2', '3:a=3'])
      expect(show(await collect(l.scan({ key: 'a', reverse: true })))).toEqual(['3:a=3', '2:a=2'])
      expect(show(await collect(l.scan()))).toEqual(['2:a=2', '3:a=3', '4:b=4'])
      expect(await l.count({ key: 'a' })).toBe(2)
      expect(await l.count()).toBe(3)
    }
    await check(log)
    await log.close()
    // The deleted-or-not entries are still on disk: a reopened log hides them as well.
    const reopened = await openLog({ storage: store.crashView('process') })
    await check(reopened)
    await reopened.close()
  })
})

describe('the durable watermark', () => {
  it('does not move when a sync-mode write fails its sync', async () => {
    const store = await openCrashStorage()
    const log = await openLog({ storage: store, durability: 'sync' })
    await log.append([{ key: 'a', value: '0' }])
    expect(log.durableSequence()).toBe(1)
    store.failNext('sync')
    expect(await code(log.append([{ key: 'a', value: '1' }]))).toBe('IO_ERROR')
    expect(log.nextSequence()).toBe(1)
    expect(log.durableSequence()).toBe(1)
    expect(show(await collect(log.scan({ visibility: 'durable' })))).toEqual(['0:a=0'])
    await log.close()
  })

  it('does not move when a flush fails its sync, and durable reads show only what a power loss keeps', async () => {
    const store = await openCrashStorage()
    const log = await openLog({ storage: store, durability: 'buffered', blockSize: 64 })
    await appendEach(log, ['0', '1', '2']) // the first takes a block and is synced
    expect(log.durableSequence()).toBe(1)
    store.failNext('sync')
    expect(await code(log.flush())).toBe('IO_ERROR')
    expect(log.durableSequence()).toBe(1)
    const durable = show(await collect(log.scan({ visibility: 'durable' })))
    expect(durable).toEqual(['0:a=0'])
    // Whatever a power loss keeps, it keeps at least what durable reads showed.
    for (let seed = 0; seed < 4; seed++) {
      const after = await openLog({ storage: store.crashView('power', seed) })
      expect(show(await collect(after.scan())).slice(0, durable.length)).toEqual(durable)
      await after.close()
    }
    await log.close()
  })

  it('bounds durable reads, which keep their own to', async () => {
    const store = await openCrashStorage()
    const log = await openLog({ storage: store, durability: 'buffered', blockSize: 64 })
    await appendEach(log, ['0', '1', '2'])
    await log.flush()
    await appendEach(log, ['3'])
    expect(log.durableSequence()).toBe(3)
    const durable = async (to: number): Promise<string[]> =>
      show(await collect(log.scan({ visibility: 'durable', to })))
    expect(await durable(2)).toEqual(['0:a=0', '1:a=1'])
    expect(await durable(4)).toEqual(['0:a=0', '1:a=1', '2:a=2'])
    await log.close()
  })

  it('is raised by a flush only once the sync resolved', async () => {
    const store = await openCrashStorage()
    const log = await openLog({ storage: store, durability: 'buffered', blockSize: 64 })
    await appendEach(log, ['0', '1'])
    const flushing = log.flush()
    // The flush is queued behind nothing, but its sync has not resolved in this turn.
    expect(log.durableSequence()).toBe(1)
    await flushing
    expect(log.durableSequence()).toBe(2)
    await log.close()
  })
})
