/**
 * The invariants a real crash must keep, checked after each recovery against what the killed
 * writer acknowledged. Pure: the process-crash harness feeds it the acknowledgements it read
 * from the child and the entries it read back from the reopened log, and it answers with the
 * violations found and the history to carry into the next round.
 *
 * Every record the crash writer appends has the value `id:index:count`, where `id` names the
 * append, so an append's entries can be recognised after a crash even when it was never
 * acknowledged: that is what lets all-or-nothing be checked for every append, not only the
 * acknowledged ones.
 */

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** One append the writer saw resolve: its records got `[start, start + count)`. */
export interface Ack {
  readonly id: string
  readonly start: number
  readonly count: number
}

/** One recovered entry, with its key and value as text. */
export interface RecoveredEntry {
  readonly sequence: number
  readonly key: string
  readonly value: string
}

/** What one writer run reported, and what the reopened log held after it was killed. */
export interface Round {
  /** The next sequence the writer's freshly opened log reported before its first append. */
  readonly openedAt: number
  readonly acks: ReadonlyArray<Ack>
  /**
   * The recovered log in global scan order: the whole of it, or — when `olderCount` is given —
   * only the entries above the history's `maxPersisted`.
   */
  readonly recovered: ReadonlyArray<RecoveredEntry>
  /**
   * For a partial check: how many entries the reopened log holds at or below the history's
   * `maxPersisted`. Those were read and checked whole by earlier rounds; counting them proves
   * none is gone without reading them again. No append straddles `maxPersisted`, since every
   * append of this round got numbers above it (the check of `openedAt`), so all-or-nothing
   * still holds for every append read.
   */
  readonly olderCount?: number
  /** `nextSequence()` of the log reopened after the crash. */
  readonly nextSequence: number
}

/** What later rounds need to know of the earlier ones. */
export interface History {
  /** The highest sequence recovered so far; -1 before any. */
  readonly maxPersisted: number
  /** How many entries the previous recovery held. */
  readonly recovered: number
  /** The `nextSequence()` of the previous recovery: where the next writer must start. */
  readonly nextSequence: number
}

/** The outcome of one round's checks. */
export interface RoundReport {
  readonly history: History
  readonly violations: ReadonlyArray<string>
  /** Numbers the allocator skipped at this restart: past the last persisted one, never used. */
  readonly skipped: number
}

/** Before the first run: an empty log. */
export const emptyHistory: History = { maxPersisted: -1, recovered: 0, nextSequence: 0 }

// -------------------------------------------------------------------------------------
// codecs
// -------------------------------------------------------------------------------------

/** The value of record `index` of an append of `count` records named `id`. */
export const recordValue = (id: string, index: number, count: number): string =>
  `${id}:${index}:${count}`

interface ParsedValue {
  readonly id: string
  readonly index: number
  readonly count: number
}

const parseValue = (value: string): ParsedValue | undefined => {
  const match = /^([^:]+):(\d+):(\d+)$/.exec(value)
  if (match === null) return undefined
  return { id: match[1] ?? '', index: Number(match[2]), count: Number(match[3]) }
}

// -------------------------------------------------------------------------------------
// destructors
// -------------------------------------------------------------------------------------

/**
 * Checks one round against the history of the rounds before it:
 *
 * 1. sequences strictly increase: the recovered log is in strictly increasing order, the
 *    writer started above every sequence persisted before, and its acknowledged ranges are
 *    disjoint;
 * 2. the log holds a prefix of the history: every acknowledged record is there with its value,
 *    what survived of the writer's commits has no holes, and every entry recovered before is
 *    still there;
 * 3. every append is all-or-nothing: each append's records are all present, at contiguous
 *    sequences in their order, or none is;
 * 4. the allocator resumes past every persisted sequence: the reopened log's next sequence is
 *    above the highest recovered one.
 */
export const checkRound = (history: History, round: Round): RoundReport => {
  const violations: string[] = []
  const fail = (message: string): void => {
    violations.push(message)
  }
  const partial = round.olderCount !== undefined
  if (partial && round.recovered.some((e) => e.sequence <= history.maxPersisted)) {
    fail(`a partial recovery must hold only entries above ${history.maxPersisted}`)
  }
  const highest = checkOrder(history, round, fail)
  checkNothingLost(history, round, fail)
  checkAllOrNothing(round, fail)
  const maxPersisted = Math.max(history.maxPersisted, highest)
  // 4. The allocator resumes past every persisted sequence.
  if (round.nextSequence <= maxPersisted) {
    fail(`the reopened log would hand out ${round.nextSequence}, not above ${maxPersisted}`)
  }
  return {
    history: {
      maxPersisted,
      recovered: (round.olderCount ?? 0) + round.recovered.length,
      nextSequence: round.nextSequence,
    },
    violations,
    skipped: Math.max(0, round.nextSequence - (maxPersisted + 1)),
  }
}

type Fail = (message: string) => void

/** Invariant 1: order, and no number handed out twice. Returns the highest recovered sequence. */
const checkOrder = (history: History, round: Round, fail: Fail): number => {
  let previous = -1
  let highest = -1
  for (const entry of round.recovered) {
    if (entry.sequence <= previous) {
      fail(`sequence ${entry.sequence} follows ${previous} in the recovered log`)
    }
    previous = entry.sequence
    highest = Math.max(highest, entry.sequence)
  }
  if (round.openedAt < history.nextSequence || round.openedAt <= history.maxPersisted) {
    fail(
      `the writer opened at sequence ${round.openedAt}, below ${Math.max(history.nextSequence, history.maxPersisted + 1)}`,
    )
  }
  const sorted = [...round.acks].sort((a, b) => a.start - b.start)
  let ackEnd = round.openedAt
  for (const ack of sorted) {
    if (ack.start < ackEnd) {
      fail(`append ${ack.id} was given ${ack.start}, which was already handed out`)
    }
    ackEnd = Math.max(ackEnd, ack.start + ack.count)
  }
  return highest
}

/** Invariant 2: nothing acknowledged, or recovered by an earlier round, is lost. */
const checkNothingLost = (history: History, round: Round, fail: Fail): void => {
  const bySequence = new Map(round.recovered.map((e) => [e.sequence, e]))
  for (const ack of round.acks) {
    for (let i = 0; i < ack.count; i++) {
      const entry = bySequence.get(ack.start + i)
      const expected = recordValue(ack.id, i, ack.count)
      if (entry === undefined) {
        fail(`acknowledged record ${ack.id}[${i}] at sequence ${ack.start + i} is lost`)
      } else if (entry.value !== expected) {
        fail(`sequence ${ack.start + i} holds ${entry.value}, not ${expected}`)
      }
    }
  }
  // The writer hands out one contiguous range from where it opened, and durability is in
  // commit order: what survived of it is a prefix of that range, without holes.
  const fresh = round.recovered.filter((e) => e.sequence >= round.openedAt)
  const hole = fresh.findIndex((e, i) => e.sequence !== round.openedAt + i)
  if (hole >= 0) {
    fail(
      `sequence ${fresh[hole]?.sequence} survived but ${round.openedAt + hole} did not: not a prefix of the writer's commits`,
    )
  }
  const olderKept =
    round.olderCount ?? round.recovered.filter((e) => e.sequence <= history.maxPersisted).length
  if (olderKept < history.recovered) {
    fail(`${history.recovered - olderKept} entries recovered by an earlier round are gone`)
  } else if (olderKept > history.recovered) {
    fail(`${olderKept - history.recovered} entries appeared among those an earlier round recovered`)
  }
}

/** Invariant 3: all or nothing, for acknowledged and unacknowledged appends alike. */
const checkAllOrNothing = (round: Round, fail: Fail): void => {
  const appends = new Map<string, RecoveredEntry[]>()
  for (const entry of round.recovered) {
    const parsed = parseValue(entry.value)
    if (parsed === undefined) {
      fail(`sequence ${entry.sequence} holds a value no append wrote: ${entry.value}`)
      continue
    }
    const group = appends.get(parsed.id) ?? []
    group.push(entry)
    appends.set(parsed.id, group)
  }
  for (const [id, entries] of appends) {
    const first = entries[0]
    const count = first === undefined ? 0 : (parseValue(first.value)?.count ?? 0)
    const base = first?.sequence ?? 0
    const whole =
      entries.length === count &&
      entries.every((e, i) => {
        const parsed = parseValue(e.value)
        return parsed?.index === i && parsed.count === count && e.sequence === base + i
      })
    if (!whole) fail(`append ${id} survived in part: ${entries.length} of ${count} records`)
  }
}
