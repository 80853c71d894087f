// One active instance of a consumer and a projection across processes, on PostgreSQL: two
// processes (children/consumerHolder.ts) run the same consumer (at least once: it writes each
// position it handles to a file) and the same inline projection (a document per stream), both
// keeping their state in a store of its own table, through a lease of that table (holdLease).
// The test appends the events. One process holds the lease; the other stands by, and takes over
// when the holder is killed in the middle of a batch, or paused until the server ends its
// session. Then every event was handled, the documents are the fold of every event, each folded
// once, and a paused holder that comes back finds its late saves refused with FENCED.
import type { ChildProcess } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { openEventStore, partitionOf, verifyStorage, type EventStore } from '../../src/index.js'
import { openPostgresStorage } from '../../src/postgres/storage.js'
import { sourceEntry, spawnTypeScript, type RunningChild } from '../support/child.js'
import { connection, dropTables, freshTable, postgresRuns, postgresUrl } from './server.js'

const script = new URL('./children/consumerHolder.ts', import.meta.url).pathname

/** The lease's ttl: how long the server keeps a paused holder's lease. */
const TTL_MS = 1500

type Line = Record<string, unknown>

/** A child's lines as objects; `until` reads on to the first that matches. */
interface Instance {
  readonly process: ChildProcess
  /** The next line, unread. */
  readonly line: RunningChild['line']
  readonly seenFile: string
  readonly until: (match: (line: Line) => boolean, ms?: number) => Promise<Line>
  readonly send: (command: string) => void
}

// A type, not an interface: a projection's documents are JSON, which an interface is not known to be.
type Total = {
  readonly count: number
  readonly sum: number
  readonly positions: ReadonlyArray<number>
}

/** The tables, files and stores of one test, removed when it ends (`finished`). */
const setUp = async (finished: (f: () => Promise<void>) => void) => {
  const cleanups: Array<() => Promise<unknown>> = []
  finished(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
  })
  const eventsTable = freshTable()
  const intoTable = freshTable()
  const dir = mkdtempSync(join(tmpdir(), 'deltalog-holder-'))
  const releaseFile = join(dir, 'release')
  cleanups.push(async () => {
    await dropTables(eventsTable)
    await dropTables(intoTable)
    rmSync(dir, { recursive: true, force: true })
  })
  const storage = await openPostgresStorage({ connection: connection(), table: eventsTable })
  const events = await openEventStore({ storage })
  cleanups.push(async () => {
    await events.close()
    await storage.close()()
  })
  let appended = 0

  /** Appends `count` events to streams s0…s5, each of its own commit; `blocks` by index. */
  const append = async (count: number, blocks: Record<number, string> = {}): Promise<void> => {
    for (const end = appended + count; appended < end; appended++) {
      const block = blocks[appended]
      await events.appendToStream(`s${appended % 6}`, [
        { type: 'Added', data: block === undefined ? { n: appended } : { n: appended, block } },
      ])
    }
  }

  const start = (who: string, env: Record<string, string> = {}): Instance => {
    const seenFile = join(dir, `seen-${who}`)
    writeFileSync(seenFile, '')
    const child = spawnTypeScript(script, {
      env: {
        DELTALOG_TEST_POSTGRES_URL: postgresUrl ?? '',
        EVENTS_TABLE: eventsTable,
        INTO_TABLE: intoTable,
        TTL_MS: String(TTL_MS),
        SEEN_FILE: seenFile,
        RELEASE_FILE: releaseFile,
        ...env,
      },
    })
    cleanups.push(() => {
      child.child.kill('SIGCONT')
      return Promise.resolve(child.child.kill('SIGKILL'))
    })
    const until = async (match: (line: Line) => boolean, ms = 15_000): Promise<Line> => {
      const deadline = Date.now() + ms
      for (;;) {
        const line = JSON.parse(await child.line(Math.max(1, deadline - Date.now()))) as Line
        if (match(line)) return line
      }
    }
    return { process: child.child, line: child.line, seenFile, until, send: child.send }
  }

  /** Reads the runs' state: a read-only store on their table, opened once a holder made it. */
  const openReader = async (): Promise<EventStore> => {
    const s = await openPostgresStorage({
      connection: connection(),
      table: intoTable,
      readOnly: true,
    })
    const reader = await openEventStore({ storage: s, readOnly: true })
    cleanups.push(async () => {
      await reader.close()
      await s.close()()
    })
    return reader
  }

  /** The position of the last event appended. */
  const last = async (): Promise<number> => {
    let position = -1
    for await (const e of events.readAll()) position = e.position
    return position
  }

  /** The documents every event folded once gives. */
  const fold = async (): Promise<Record<string, Total>> => {
    const totals: Record<string, Total> = {}
    for await (const e of events.readAll()) {
      const t = totals[e.streamId] ?? { count: 0, sum: 0, positions: [] }
      totals[e.streamId] = {
        count: t.count + 1,
        sum: t.sum + (e.data as { n: number }).n,
        positions: [...t.positions, e.position],
      }
    }
    return totals
  }

  const positions = async (): Promise<number[]> => {
    const all: number[] = []
    for await (const e of events.readAll()) all.push(e.position)
    return all
  }

  return { append, start, openReader, last, fold, positions, intoTable, releaseFile }
}

/** The projection's documents as committed. */
const documents = async (reader: EventStore): Promise<Record<string, Total>> => {
  const out: Record<string, Total> = {}
  for await (const { key, document } of reader.documents<Total>('totals').scan()) {
    out[key] = document
  }
  return out
}

const projected = async (reader: EventStore): Promise<number | undefined> =>
  (await reader.documents('totals').state())?.active.position

/** Waits until the reader sees both runs' state at `position`. */
const caughtUp = async (reader: EventStore, position: number, runs = ['seen', 'totals']) => {
  const deadline = Date.now() + 15_000
  for (;;) {
    const seen = runs.includes('seen') ? await reader.checkpoints.load('seen') : position
    const totals = runs.includes('totals') ? await projected(reader) : position
    if (seen === position && totals === position) return
    if (Date.now() > deadline) {
      throw new Error(`not caught up with ${position}: consumer ${seen}, projection ${totals}`)
    }
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
}

const seenIn = (file: string): number[] =>
  readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map(Number)

const is =
  (key: string, value: unknown = true) =>
  (line: Line): boolean =>
    line[key] === value

// Each case takes about 10 s, most of it starting processes: the limit leaves room for a loaded
// machine.
describe.runIf(postgresRuns)(
  'one active consumer and projection across processes',
  { timeout: 90_000 },
  () => {
    it('a standby takes over from a holder killed mid-batch: every event handled, the documents the fold of every event, each once', async ({
      onTestFinished,
    }) => {
      const group = await setUp(onTestFinished)
      await group.append(60, { 24: 'consumer' })
      const a = group.start('a', { BLOCKS: '1' })
      const b = group.start('b')
      await a.until(is('started'))
      await b.until(is('started'))
      a.send('lease')
      await a.until(is('holding'))
      await a.until(is('running'))
      b.send('lease')
      const blocked = (await a.until(is('blocked', 'consumer')))['positions'] as number[]
      const reader = await group.openReader()
      // The projection goes on while the consumer's handler waits.
      await caughtUp(reader, await group.last(), ['totals'])
      // A holds the lease, its heartbeats keep it: the standby gets nothing for longer than the ttl.
      await expect(b.line(TTL_MS + 1000)).rejects.toThrow(/sent no line/)
      // The consumer's checkpoint is the event before the batch in hand.
      const saved = await reader.checkpoints.load('seen')
      const all = await group.positions()
      expect(saved).toBe(all[all.indexOf(Math.min(...blocked)) - 1])

      a.process.kill('SIGKILL')
      const killed = Date.now()
      await b.until(is('holding'))
      // A killed holder's session ends at once: no ttl to wait.
      expect(Date.now() - killed).toBeLessThan(TTL_MS)
      await b.until(is('running'))
      await group.append(40)
      await caughtUp(reader, await group.last())

      expect(await documents(reader)).toEqual(await group.fold())
      all.push(...(await group.positions()).slice(all.length))
      const byA = seenIn(a.seenFile)
      const byB = seenIn(b.seenFile)
      expect([...new Set([...byA, ...byB])].sort((x, y) => x - y)).toEqual(all)
      // The standby began after the last saved checkpoint: with the batch the killed holder had in
      // hand, handled again, and nothing before it.
      expect(byB).toEqual(all.filter((p) => p > (saved ?? -1)))
      b.send('close')
      await b.until(is('closed'))
    })

    it('a standby takes over from a holder paused mid-batch after the ttl; the paused one, resumed, finds its late saves FENCED', async ({
      onTestFinished,
    }) => {
      const group = await setUp(onTestFinished)
      await group.append(60, { 24: 'consumer' })
      const a = group.start('a', { BLOCKS: '1' })
      const b = group.start('b')
      await a.until(is('started'))
      await b.until(is('started'))
      a.send('lease')
      await a.until(is('holding'))
      await a.until(is('running'))
      b.send('lease')
      await a.until(is('blocked', 'consumer'))
      const reader = await group.openReader()
      await caughtUp(reader, await group.last(), ['totals'])
      // The projection's next batch blocks in the middle of its fold, the consumer's waits: then
      // the holder is paused.
      await group.append(5, { 62: 'projection' })
      await a.until(is('blocked', 'projection'))
      const before = {
        seen: await reader.checkpoints.load('seen'),
        totals: await projected(reader),
      }
      a.process.kill('SIGSTOP')

      await b.until(is('holding'), TTL_MS + 5000)
      await b.until(is('running'))
      await group.append(35)
      const end = await group.last()
      await caughtUp(reader, end)

      writeFileSync(group.releaseFile, '')
      a.send('go')
      a.process.kill('SIGCONT')
      // The projection's batch, folded, is committed first: refused, as the writer was fenced.
      const ended = (run: string) => (l: Line) => l['run'] === run || l['stopped'] === run
      expect(await a.until(ended('projection'))).toEqual({
        run: 'projection',
        code: 'FENCED',
      })
      // The consumer's checkpoint is refused too, by the fence or by the writer it stopped.
      const consumer = await a.until(ended('consumer'))
      expect([
        { run: 'consumer', code: 'FENCED' },
        { run: 'consumer', code: 'WRITER_FAILED', cause: 'FENCED' },
      ]).toContainEqual(consumer)
      expect(before.seen).toBeLessThan(end)
      expect(before.totals).toBeLessThan(end)

      // Nothing of the paused holder's landed: the state is the standby's, each event folded once.
      await new Promise((resolve) => setTimeout(resolve, 200))
      expect(await reader.checkpoints.load('seen')).toBe(end)
      expect(await projected(reader)).toBe(end)
      expect(await documents(reader)).toEqual(await group.fold())
      const all = await group.positions()
      const handled = new Set([...seenIn(a.seenFile), ...seenIn(b.seenFile)])
      expect([...handled].sort((x, y) => x - y)).toEqual(all)
      b.send('close')
      await b.until(is('closed'))
      const storage = await openPostgresStorage({
        connection: connection(),
        table: group.intoTable,
        readOnly: true,
      })
      try {
        expect((await verifyStorage(storage)).violations).toEqual([])
      } finally {
        await storage.close()()
      }
    })

    it("runs the partitions example of docs/postgres.md as written: one partition's documents, then a clean stop on SIGTERM", async ({
      onTestFinished,
    }) => {
      const doc = readFileSync(new URL('../../docs/postgres.md', import.meta.url), 'utf8')
      // The page's second ts block.
      const example = [...doc.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1] ?? '')[1] ?? ''
      const ordersTable = freshTable()
      const prefix = `${freshTable()}_`
      const dir = mkdtempSync(join(tmpdir(), 'deltalog-partitions-'))
      onTestFinished(async () => {
        rmSync(dir, { recursive: true, force: true })
        await dropTables(ordersTable)
        for (const i of [0, 1, 2, 3]) await dropTables(`${prefix}${i}`)
      })
      // The orders, as another process would have written them: the amount is the order's number.
      const storage = await openPostgresStorage({ connection: connection(), table: ordersTable })
      const orders = await openEventStore({ storage })
      onTestFinished(async () => {
        await orders.close()
        await storage.close()()
      })
      const expected: Record<string, { total: number }> = {}
      for (let n = 0; n < 40; n++) {
        const id = `order-${n % 10}`
        await orders.appendToStream(id, [{ type: 'OrderLine', data: { amount: n } }])
        if (partitionOf(id, 4) === 1) expected[id] = { total: (expected[id]?.total ?? 0) + n }
      }
      expect(Object.keys(expected).length).toBeGreaterThan(0)
      let last = -1
      for await (const e of orders.readAll()) last = e.position

      const script = join(dir, 'partition.mts')
      const postgresEntry = new URL('../../src/postgres/index.ts', import.meta.url).pathname
      writeFileSync(
        script,
        example
          .replace("from 'deltalog/postgres'", `from ${JSON.stringify(postgresEntry)}`)
          .replace("from 'deltalog'", `from ${JSON.stringify(sourceEntry)}`)
          .replace("'orders_log'", JSON.stringify(ordersTable))
          .replace('`order_totals_${index}`', `\`${prefix}\${index}\``),
      )
      const child = spawnTypeScript(script, {
        env: { DATABASE_URL: postgresUrl ?? '', PARTITION: '1' },
      })
      onTestFinished(() => Promise.resolve(void child.child.kill('SIGKILL')))

      // Its table exists once it holds the lease and has opened it: then its documents come.
      const deadline = Date.now() + 20_000
      const folded: Record<string, unknown> = {}
      for (;;) {
        const reading = await openPostgresStorage({
          connection: connection(),
          table: `${prefix}1`,
          readOnly: true,
        }).catch(() => undefined)
        if (reading !== undefined) {
          const reader = await openEventStore({ storage: reading, readOnly: true })
          const totals = reader.documents('order-totals-1')
          if ((await totals.state())?.active.position === last) {
            for await (const { key, document } of totals.scan()) folded[key] = document
          }
          await reader.close()
          await reading.close()()
          if (Object.keys(folded).length > 0) break
        }
        if (Date.now() > deadline) throw new Error('the partition was not folded within 20 s')
        await new Promise((resolve) => setTimeout(resolve, 100))
      }
      expect(folded).toEqual(expected)
      child.child.kill('SIGTERM')
      // The projection stops, the store closes, the lease is let go: a clean exit.
      expect(await child.rest()).toEqual([])
    })
  },
)
