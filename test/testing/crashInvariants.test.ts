import { describe, expect, it } from 'vitest'
import {
  checkRound,
  emptyHistory,
  recordValue,
  type Ack,
  type RecoveredEntry,
  type Round,
} from '../../src/testing/crashInvariants.js'

/** The entries an append of `count` records named `id` leaves from `start`. */
const entries = (id: string, start: number, count: number): RecoveredEntry[] =>
  Array.from({ length: count }, (_, i) => ({
    sequence: start + i,
    key: 'stream-0',
    value: recordValue(id, i, count),
  }))

const ack = (id: string, start: number, count: number): Ack => ({ id, start, count })

const round = (overrides: Partial<Round>): Round => ({
  openedAt: 0,
  acks: [ack('1.0', 0, 2), ack('1.1', 2, 1)],
  recovered: [...entries('1.0', 0, 2), ...entries('1.1', 2, 1), ...entries('1.2', 3, 3)],
  nextSequence: 8,
  ...overrides,
})

describe('checkRound', () => {
  it('accepts a recovery that holds every acknowledged append and whole unacknowledged ones', () => {
    const report = checkRound(emptyHistory, round({}))
    expect(report.violations).toEqual([])
    expect(report.history).toEqual({ maxPersisted: 5, recovered: 6, nextSequence: 8 })
    expect(report.skipped).toBe(2)
  })

  it('reports a lost acknowledged append', () => {
    const report = checkRound(emptyHistory, round({ recovered: entries('1.0', 0, 2) }))
    expect(report.violations).toEqual(['acknowledged record 1.1[0] at sequence 2 is lost'])
  })

  it('reports an append that survived in part', () => {
    const report = checkRound(
      emptyHistory,
      round({
        recovered: [
          ...entries('1.0', 0, 2),
          ...entries('1.1', 2, 1),
          ...entries('1.2', 3, 3).slice(0, 2),
        ],
      }),
    )
    expect(report.violations).toEqual(['append 1.2 survived in part: 2 of 3 records'])
  })

  it('reports sequences out of order and a reopened allocator that does not resume above them', () => {
    const report = checkRound(
      emptyHistory,
      round({
        acks: [],
        recovered: [...entries('1.0', 5, 1), ...entries('1.1', 4, 1)],
        nextSequence: 5,
      }),
    )
    expect(report.violations).toContain('sequence 4 follows 5 in the recovered log')
    expect(report.violations).toContain('the reopened log would hand out 5, not above 5')
  })

  it('reports a writer that reuses numbers from before the crash', () => {
    const first = checkRound(emptyHistory, round({}))
    const report = checkRound(first.history, {
      openedAt: 4,
      acks: [ack('2.0', 4, 1)],
      recovered: [...round({}).recovered, ...entries('2.0', 6, 1)],
      nextSequence: 9,
    })
    expect(report.violations).toContain('the writer opened at sequence 4, below 8')
    expect(report.violations).toContain('sequence 4 holds 1.2:1:3, not 2.0:0:1')
  })

  it('reports a writer that opens in the numbers the last recovery skipped', () => {
    // Round 1 persisted up to 5 and its reopened log would resume at 8: 6 and 7 are skipped
    // for good, since the killed writer may have handed them out.
    const first = checkRound(emptyHistory, round({}))
    const report = checkRound(first.history, {
      openedAt: 6,
      acks: [ack('2.0', 6, 1)],
      recovered: [...round({}).recovered, ...entries('2.0', 6, 1)],
      nextSequence: 9,
    })
    expect(report.violations).toEqual(['the writer opened at sequence 6, below 8'])
  })

  it('reports entries of an earlier recovery that disappeared', () => {
    const first = checkRound(emptyHistory, round({}))
    const report = checkRound(first.history, {
      openedAt: 8,
      acks: [],
      recovered: entries('1.0', 0, 2),
      nextSequence: 9,
    })
    expect(report.violations).toEqual(['4 entries recovered by an earlier round are gone'])
  })

  it('reports acknowledged ranges that overlap', () => {
    const report = checkRound(emptyHistory, round({ acks: [ack('1.0', 0, 2), ack('1.1', 1, 1)] }))
    expect(report.violations).toContain('append 1.1 was given 1, which was already handed out')
  })

  it("reports a hole among the writer's commits: the survivors are not a prefix", () => {
    const report = checkRound(
      emptyHistory,
      round({
        recovered: [...entries('1.0', 0, 2), ...entries('1.1', 2, 1), ...entries('1.2', 4, 3)],
      }),
    )
    expect(report.violations).toEqual([
      "sequence 4 survived but 3 did not: not a prefix of the writer's commits",
    ])
  })

  describe('a partial recovery: the entries above the last one recovered, and a count of the rest', () => {
    const first = checkRound(emptyHistory, round({}))
    const second = (olderCount: number, recovered = entries('2.0', 8, 2)): Round => ({
      openedAt: 8,
      acks: [ack('2.0', 8, 2)],
      recovered,
      olderCount,
      nextSequence: 11,
    })

    it('accepts it and carries the whole count forward', () => {
      const report = checkRound(first.history, second(6))
      expect(report.violations).toEqual([])
      expect(report.history).toEqual({ maxPersisted: 9, recovered: 8, nextSequence: 11 })
    })

    it('reports older entries that are gone, or that appeared, by the count alone', () => {
      expect(checkRound(first.history, second(5)).violations).toEqual([
        '1 entries recovered by an earlier round are gone',
      ])
      expect(checkRound(first.history, second(7)).violations).toEqual([
        '1 entries appeared among those an earlier round recovered',
      ])
    })

    it('refuses entries at or below the last recovery in the part it reads', () => {
      const report = checkRound(
        first.history,
        second(6, [...entries('1.2', 5, 1), ...entries('2.0', 8, 2)]),
      )
      expect(report.violations).toContain('a partial recovery must hold only entries above 5')
    })

    it('still finds a lost acknowledged record among the entries it reads', () => {
      const lost = second(6, entries('2.0', 8, 2).slice(0, 1))
      expect(checkRound(first.history, lost).violations).toEqual([
        'acknowledged record 2.0[1] at sequence 9 is lost',
        'append 2.0 survived in part: 1 of 2 records',
      ])
    })
  })
})
