// Model-based test of the log engine: fast-check drives the real engine and a plain model side
// by side through arbitrary interleavings of appends (single and concurrent), scans, counts,
// key listings, follows, flushes, truncations and reopens, on the memory adapter and on RocksDB,
// and compares them after every step.
import { join } from 'node:path'
import fc from 'fast-check'
import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import { openPostgresStorageTE as openPostgresStorage } from '../../src/postgres/storage.js'
import { connection, dropTables, freshTable, postgresRuns } from '../postgres/server.js'
import { openLog, type Log, type LogEntry } from '../../src/openLog.js'
import { compareBytes } from '../../src/codec/bytes.js'
import { numRuns } from '../support/budget.js'
import { makeTempDir, removeDir } from '../support/tmpdir.js'
import { reopenableMemory } from './storages.js'

interface ModelEntry {
  readonly key: string
  readonly sequence: number
  readonly value: string
}

interface Model {
  entries: ModelEntry[]
  next: number
  truncatedBefore: number
  readonly blockSize: number
}

interface Real {
  log: Log
  readonly reopen: () => Promise<Log>
}

const text = (s: string): Uint8Array => new TextEncoder().encode(s)
const str = (b: Uint8Array): string => new TextDecoder().decode(b)
const show = (e: LogEntry): string => `${e.sequence}:${str(e.key)}=${str(e.value)}`
const showModel = (e: ModelEntry): string => `${e.sequence}:${e.key}=${e.value}`
const collect = async <A>(it: AsyncIterable<A>): Promise<A[]> => {
  const out: A[] = []
  for await (const x of it) out.push(x)
  return out
}

/** Within one open, sequences are contiguous whatever the block boundaries. */
const allocate = (m: Model, n: number): number => {
  const start = m.next
  m.next += n
  return start
}

const arbKey = fc.constantFrom('a', 'b', 'ab', 'c\u0000', 'é')
const arbRecords = fc.array(fc.record({ key: arbKey, value: fc.string({ maxLength: 6 }) }), {
  minLength: 1,
  maxLength: 7,
})
const arbBound = fc.option(fc.nat({ max: 40 }), { nil: undefined })

type Cmd = fc.AsyncCommand<Model, Real>

const commit = (m: Model, records: ReadonlyArray<{ key: string; value: string }>): number => {
  const start = allocate(m, records.length)
  records.forEach((r, i) => m.entries.push({ key: r.key, value: r.value, sequence: start + i }))
  return start
}

class Append implements Cmd {
  constructor(readonly records: ReadonlyArray<{ key: string; value: string }>) {}
  check = (): boolean => true
  async run(m: Model, r: Real): Promise<void> {
    const result = await r.log.append(this.records)
    expect(result).toEqual({ startSequence: commit(m, this.records), count: this.records.length })
    expect(r.log.nextSequence()).toBe(m.next)
  }
  toString = (): string => `append(${JSON.stringify(this.records)})`
}

class ConcurrentAppends implements Cmd {
  constructor(readonly groups: ReadonlyArray<ReadonlyArray<{ key: string; value: string }>>) {}
  check = (): boolean => true
  async run(m: Model, r: Real): Promise<void> {
    const results = await Promise.all(this.groups.map((g) => r.log.append(g)))
    // The first commits alone; the rest are grouped behind it, in call order. Either way the
    // ranges are contiguous, in call order, and tile the allocated span.
    for (const [i, group] of this.groups.entries()) {
      expect(results[i]).toEqual({ startSequence: commit(m, group), count: group.length })
    }
  }
  toString = (): string => `concurrent(${JSON.stringify(this.groups)})`
}

class Scan implements Cmd {
  constructor(
    readonly key: string | undefined,
    readonly from: number | undefined,
    readonly to: number | undefined,
    readonly limit: number | undefined,
    readonly reverse: boolean,
  ) {}
  check = (): boolean => true
  async run(m: Model, r: Real): Promise<void> {
    const options = {
      ...(this.key === undefined ? {} : { key: this.key }),
      ...(this.from === undefined ? {} : { from: this.from }),
      ...(this.to === undefined ? {} : { to: this.to }),
      ...(this.limit === undefined ? {} : { limit: this.limit }),
      reverse: this.reverse,
    }
    let expected = m.entries.filter(
      (e) =>
        (this.key === undefined || e.key === this.key) &&
        e.sequence >= (this.from ?? 0) &&
        (this.to === undefined || e.sequence < this.to),
    )
    if (this.reverse) expected = [...expected].reverse()
    expected = expected.slice(0, this.limit ?? expected.length)
    expect((await collect(r.log.scan(options))).map(show)).toEqual(expected.map(showModel))
  }
  toString = (): string =>
    `scan(${JSON.stringify({ key: this.key, from: this.from, to: this.to, limit: this.limit, reverse: this.reverse })})`
}

class Count implements Cmd {
  constructor(
    readonly key: string | undefined,
    readonly from: number | undefined,
    readonly to: number | undefined,
  ) {}
  check = (): boolean => true
  async run(m: Model, r: Real): Promise<void> {
    const expected = m.entries.filter(
      (e) =>
        (this.key === undefined || e.key === this.key) &&
        e.sequence >= (this.from ?? 0) &&
        (this.to === undefined || e.sequence < this.to),
    ).length
    const options = {
      ...(this.key === undefined ? {} : { key: this.key }),
      ...(this.from === undefined ? {} : { from: this.from }),
      ...(this.to === undefined ? {} : { to: this.to }),
    }
    expect(await r.log.count(options)).toBe(expected)
  }
  toString = (): string =>
    `count(${JSON.stringify({ key: this.key, from: this.from, to: this.to })})`
}

class Keys implements Cmd {
  constructor(readonly prefix: string | undefined) {}
  check = (): boolean => true
  async run(m: Model, r: Real): Promise<void> {
    const expected = [...new Set(m.entries.map((e) => e.key))]
      .filter((k) => this.prefix === undefined || k.startsWith(this.prefix))
      .sort((x, y) => compareBytes(text(x), text(y)))
    const keys = await collect(r.log.keys(this.prefix === undefined ? {} : { prefix: this.prefix }))
    expect(keys.map(str)).toEqual(expected)
  }
  toString = (): string => `keys(${JSON.stringify(this.prefix)})`
}

class Follow implements Cmd {
  constructor(
    readonly key: string | undefined,
    readonly from: number,
    readonly records: ReadonlyArray<{ key: string; value: string }>,
  ) {}
  check = (): boolean => true
  async run(m: Model, r: Real): Promise<void> {
    const controller = new AbortController()
    const follower = r.log.follow({
      ...(this.key === undefined ? {} : { key: this.key }),
      from: this.from,
      signal: controller.signal,
    })
    // Entries written while the follower is open arrive after the existing ones.
    const written = r.log.append(this.records)
    commit(m, this.records)
    const expected = m.entries
      .filter((e) => e.sequence >= this.from && (this.key === undefined || e.key === this.key))
      .map(showModel)
    const seen: string[] = []
    if (expected.length > 0) {
      for await (const e of { [Symbol.asyncIterator]: () => follower }) {
        seen.push(show(e))
        if (seen.length === expected.length) break
      }
    }
    controller.abort()
    await written
    expect(seen).toEqual(expected)
  }
  toString = (): string =>
    `follow(${JSON.stringify({ key: this.key, from: this.from })}, then append ${JSON.stringify(this.records)})`
}

class Flush implements Cmd {
  check = (): boolean => true
  async run(m: Model, r: Real): Promise<void> {
    await r.log.flush()
    expect(r.log.durableSequence()).toBe(m.next)
  }
  toString = (): string => 'flush'
}

class Truncate implements Cmd {
  constructor(readonly before: number) {}
  check = (): boolean => true
  async run(m: Model, r: Real): Promise<void> {
    await r.log.truncateBefore(this.before)
    const point = Math.min(this.before, m.next)
    m.truncatedBefore = Math.max(m.truncatedBefore, point)
    m.entries = m.entries.filter((e) => e.sequence >= m.truncatedBefore)
    expect(await r.log.count()).toBe(m.entries.length)
  }
  toString = (): string => `truncateBefore(${this.before})`
}

class Reopen implements Cmd {
  check = (): boolean => true
  async run(m: Model, r: Real): Promise<void> {
    await r.log.close()
    r.log = await r.reopen()
    // The allocator resumes at the end of its last block: never below what it handed out, and
    // skipping less than one block (a block larger than blockSize is exactly used up).
    const resumed = r.log.nextSequence()
    expect(resumed).toBeGreaterThanOrEqual(m.next)
    expect(resumed - m.next).toBeLessThan(m.blockSize)
    m.next = resumed
    expect(r.log.durableSequence()).toBe(m.next)
  }
  toString = (): string => 'reopen'
}

const commands = [
  arbRecords.map((rs) => new Append(rs)),
  fc.array(arbRecords, { minLength: 2, maxLength: 5 }).map((gs) => new ConcurrentAppends(gs)),
  fc
    .tuple(fc.option(arbKey, { nil: undefined }), arbBound, arbBound, arbBound, fc.boolean())
    .map(([k, f, t, l, rev]) => new Scan(k, f, t, l, rev)),
  fc
    .tuple(fc.option(arbKey, { nil: undefined }), arbBound, arbBound)
    .map(([k, f, t]) => new Count(k, f, t)),
  fc.option(fc.constantFrom('a', 'c', 'é', 'z'), { nil: undefined }).map((p) => new Keys(p)),
  fc
    .tuple(fc.option(arbKey, { nil: undefined }), fc.nat({ max: 30 }), arbRecords)
    .map(([k, f, rs]) => new Follow(k, f, rs)),
  fc.constant(new Flush()),
  fc.nat({ max: 40 }).map((b) => new Truncate(b)),
  fc.constant(new Reopen()),
]

const arbBlockSize = fc.constantFrom(2, 3, 5, 8, 4096)

/**
 * The property: for any block size, durability and run of commands, the engine opened by
 * `opener` (one per run) and the model agree at every step.
 */
const agreement = (
  opener: () => (options: { blockSize: number; durability: 'sync' | 'buffered' }) => Promise<Log>,
  maxCommands: number,
) =>
  fc.asyncProperty(
    arbBlockSize,
    fc.constantFrom('sync' as const, 'buffered' as const),
    fc.commands(commands, { maxCommands, size: 'max' }),
    async (blockSize, durability, cmds) => {
      const openWith = opener()
      const open = () => openWith({ blockSize, durability })
      const real: Real = { log: await open(), reopen: open }
      const model: Model = { entries: [], next: 0, truncatedBefore: 0, blockSize }
      try {
        await fc.asyncModelRun(() => ({ model, real }), cmds)
      } finally {
        await real.log.close()
      }
    },
  )

describe('log engine against a model', () => {
  it('agrees on the memory adapter', async () => {
    const onMemory = () => {
      const memory = reopenableMemory()
      return (options: { blockSize: number; durability: 'sync' | 'buffered' }) =>
        openLog({ storage: memory.open(), ...options })
    }
    await fc.assert(agreement(onMemory, 40), { numRuns: numRuns(100) })
  })

  it('agrees on RocksDB', async () => {
    const dir = await makeTempDir('model')
    let run = 0
    const onRocks = () => {
      const path = join(dir, `db-${run++}`)
      return (options: { blockSize: number; durability: 'sync' | 'buffered' }) =>
        openLog({ path, ...options })
    }
    try {
      await fc.assert(agreement(onRocks, 25), { numRuns: numRuns(25) })
    } finally {
      await removeDir(dir)
    }
  })

  it.runIf(postgresRuns)('agrees on PostgreSQL', async () => {
    const tables: string[] = []
    const onPostgres = () => {
      const table = freshTable()
      tables.push(table)
      return async (options: { blockSize: number; durability: 'sync' | 'buffered' }) => {
        const storage = await openPostgresStorage({ connection: connection(), table })()
        if (E.isLeft(storage)) throw new Error(storage.left.message)
        return openLog({ storage: storage.right, ...options })
      }
    }
    try {
      await fc.assert(agreement(onPostgres, 25), { numRuns: numRuns(15) })
    } finally {
      for (const table of tables) await dropTables(table)
    }
  })
})
