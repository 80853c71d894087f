// What the layout benchmark writes and how it checks what it reads back: bulk commits to one key
// or spread over 10,000 keys, scattered single-entry streams, and the sequences each key holds.
import { readdir, stat } from 'node:fs/promises'
import { join } from 'node:path'
import type { RawDb } from '../raw.js'
import type { Commit, Layout } from './candidates.js'
import { userKey, VALUE_BYTES, valueAt, valuesOf, type UserKey, type Visit } from './records.js'

// -------------------------------------------------------------------------------------
// bulk commits
// -------------------------------------------------------------------------------------

/** Records per bulk commit. */
export const COMMIT_RECORDS = 1000
/** Keys of the many-key data sets. */
export const KEYS = 10_000
/** Record j goes to key (j · STRIDE) mod KEYS: consecutive records never share a key. */
export const STRIDE = 7919

export type Spread = 'one key' | 'many keys'

export const ONE_KEY = userKey('stream-0')
export const MANY_KEYS: ReadonlyArray<UserKey> = Array.from({ length: KEYS }, (_, k) =>
  userKey(`stream-${k}`),
)

const keyOf = (spread: Spread, j: number): UserKey =>
  spread === 'one key' ? ONE_KEY : (MANY_KEYS[(j * STRIDE) % KEYS] as UserKey)

/** Records `[start, end)` as one commit; record `j` is at sequence `j + 1`. */
const commitOf = (spread: Spread, start: number, end: number): Commit => {
  const runs: Array<{ key: UserKey; count: number }> = []
  for (let j = start; j < end; j++) {
    const key = keyOf(spread, j)
    const last = runs[runs.length - 1]
    if (last !== undefined && last.key === key) last.count++
    else runs.push({ key, count: 1 })
  }
  return { first: start + 1, runs, values: valuesOf(start + 1, end - start) }
}

/** `records` records in commits of `COMMIT_RECORDS`, each built, values and all, when asked for. */
export function* bulkCommits(spread: Spread, records: number): Generator<Commit> {
  for (let i = 0; i < records; i += COMMIT_RECORDS) {
    yield commitOf(spread, i, Math.min(records, i + COMMIT_RECORDS))
  }
}

/** Writes commits in order, one `batch_do` each, without sync. */
export const writeCommits = async (
  db: RawDb,
  layout: Layout,
  commits: Iterable<Commit>,
): Promise<void> => {
  for (const commit of commits) await db.batch(layout.encode(commit), false)
}

// STRIDE⁻¹ mod KEYS: key k holds the records j ≡ k · STRIDE⁻¹.
const INVERSE = Array.from({ length: KEYS }, (_, i) => i).find((i) => (i * STRIDE) % KEYS === 1)

/** The sequences of key `k` in a many-key data set of `records` records, in order. */
export const keySequences = (k: number, records: number): ReadonlyArray<number> => {
  const out: number[] = []
  for (let j = (k * (INVERSE ?? NaN)) % KEYS; j < records; j += KEYS) out.push(j + 1)
  return out
}

// -------------------------------------------------------------------------------------
// scattered streams
// -------------------------------------------------------------------------------------

/** Streams whose entries are scattered through the log, as readStream finds them. */
export interface Streams {
  readonly targets: ReadonlyArray<UserKey>
  readonly events: number
  readonly others: number
  readonly entries: number
  /** Per event: one single-entry commit to each target, then one to each of the others. */
  readonly write: (db: RawDb, layout: Layout) => Promise<void>
  /** The sequences of target `t`, in order. */
  readonly sequencesOf: (t: number) => ReadonlyArray<number>
}

export const streams = (targets: number, events: number, others: number): Streams => {
  const targetKeys = Array.from({ length: targets }, (_, t) => userKey(`order-${t}`))
  const otherKeys = Array.from({ length: others }, (_, o) => userKey(`account-${o}`))
  return {
    targets: targetKeys,
    events,
    others,
    entries: events * (targets + others),
    write: async (db, layout) => {
      let sequence = 1
      const single = (key: UserKey): Commit => {
        const first = sequence++
        return { first, runs: [{ key, count: 1 }], values: valuesOf(first, 1) }
      }
      for (let e = 0; e < events; e++) {
        for (const key of targetKeys) await db.batch(layout.encode(single(key)), false)
        for (const key of otherKeys) await db.batch(layout.encode(single(key)), false)
      }
    },
    sequencesOf: (t) => Array.from({ length: events }, (_, e) => e * (targets + others) + t + 1),
  }
}

// -------------------------------------------------------------------------------------
// checks
// -------------------------------------------------------------------------------------

/** A small seeded generator, so that every layout reads the same keys in the same round. */
export const random = (seed: number): (() => number) => {
  let x = seed >>> 0
  return () => {
    x = (x + 0x6d2b79f5) >>> 0
    let t = Math.imul(x ^ (x >>> 15), 1 | x)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 0x1_0000_0000
  }
}

export const range = (from: number, to: number): ReadonlyArray<number> =>
  Array.from({ length: to - from }, (_, i) => from + i)

/** Bytes of the SST and WAL files in a closed database's directory. */
export const diskBytes = async (path: string): Promise<number> => {
  let total = 0
  for (const name of await readdir(path)) {
    if (name.endsWith('.sst') || name.endsWith('.log')) total += (await stat(join(path, name))).size
  }
  return total
}

/** What a timed read checks as it goes: how many entries, their sequences, their values. */
export interface Tally {
  n: number
  sum: number
  bad: number
}

export const tally = (): { readonly t: Tally; readonly visit: Visit } => {
  const t = { n: 0, sum: 0, bad: 0 }
  return {
    t,
    // Byte 7 of a value is the low byte of its sequence.
    visit: (sequence, value) => {
      t.n++
      t.sum += sequence
      if (value.length !== VALUE_BYTES || value[7] !== (sequence & 0xff)) t.bad++
    },
  }
}

export const expectTally = (what: string, t: Tally, sequences: ReadonlyArray<number>): void => {
  const sum = sequences.reduce((a, b) => a + b, 0)
  if (t.n !== sequences.length || t.sum !== sum || t.bad !== 0) {
    throw new Error(
      `${what}: read ${t.n} entries (sequence sum ${t.sum}, ${t.bad} bad values), ` +
        `expected ${sequences.length} (sum ${sum})`,
    )
  }
}

/**
 * Reads a data set back, untimed, comparing every value byte for byte with what was written: a
 * global scan of all `entries` (in sequence order where the layout has one), key scans of the
 * given keys, and point reads of the first, the last and 100 random sequences.
 */
export const verify = async (
  what: string,
  layout: Layout,
  db: RawDb,
  entries: number,
  keys: ReadonlyArray<readonly [UserKey, ReadonlyArray<number>]>,
): Promise<void> => {
  const fail = (message: string): never => {
    throw new Error(`${layout.id}, ${what}: ${message}`)
  }
  const seen = new Uint8Array(entries + 1)
  let previous = 0
  await layout.globalScan(db, (sequence, value) => {
    if (layout.id !== 'L0' && sequence !== previous + 1) {
      fail(`global scan read ${sequence} after ${previous}`)
    }
    previous = sequence
    if (!(sequence >= 1 && sequence <= entries) || seen[sequence] === 1) {
      fail(`global scan read ${sequence} twice or out of range`)
    }
    seen[sequence] = 1
    if (!value.equals(valueAt(sequence))) fail(`global scan: wrong value at ${sequence}`)
  })
  const missed = seen.indexOf(0, 1)
  if (missed !== -1) fail(`global scan missed ${missed}`)
  for (const [key, sequences] of keys) {
    const read: number[] = []
    await layout.keyScan(db, key, (sequence, value) => {
      read.push(sequence)
      if (!value.equals(valueAt(sequence))) fail(`key scan: wrong value at ${sequence}`)
    })
    if (read.join() !== sequences.join()) fail(`key scan of ${key.bytes.toString()}`)
  }
  const pointRead = layout.pointRead
  if (pointRead !== undefined) {
    const next = random(entries)
    const sample = range(0, 100).map(() => 1 + Math.floor(next() * entries))
    for (const sequence of [1, entries, ...sample]) {
      if (!(await pointRead(db, sequence)).equals(valueAt(sequence))) {
        fail(`point read: wrong value at ${sequence}`)
      }
    }
  }
}
