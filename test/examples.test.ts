// The runnable examples run as documented and print what they claim.
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { openEventStore, openMemoryStorage, type EventStore } from '../src/index.js'
import { openPostgresStorage } from '../src/postgres/index.js'
import { runBank } from '../examples/bank-account.js'
import { MAX_COURSES, runCourseSubscriptions } from '../examples/course-subscriptions.js'
import { connection, dropTables, freshTable, postgresRuns } from './postgres/server.js'
import { runTypeScript } from './support/child.js'
import { makeTempDir, removeDir } from './support/tmpdir.js'

// What the bank scenario prints: the commands' outcomes, the consumer's notification of each
// large withdrawal once, the projection's balances before and after a deploy (each resumes
// after what it saved), and an aggregate folded from its snapshot.
const bankPrinted = [
  'withdrew 30 from alice',
  'refused: bob has 50, asked 80',
  'withdrew 60 from alice',
  'notify: large withdrawal of 60 from alice',
  'balances: alice 10, bob 75; the bank holds 85',
  'withdrew 70 from bob',
  'notify: large withdrawal of 70 from bob',
  'balances: alice 10, bob 5; the bank holds 15',
  'alice: 10, folded from 3 events',
  'alice: 15, folded from her snapshot and 1 event',
]

describe('the bank account example', () => {
  it('runs as a script on RocksDB', async () => {
    const dir = await makeTempDir('bank')
    try {
      const script = new URL('../examples/bank-account.ts', import.meta.url).pathname
      const child = runTypeScript(`${script}`, { args: [join(dir, 'bank')] })
      expect(child.stderr).toBe('')
      expect(child.status).toBe(0)
      expect(child.stdout.trim().split('\n')).toEqual(bankPrinted)
    } finally {
      await removeDir(dir)
    }
  })

  it('runs on a memory storage', async () => {
    const store = await openEventStore({ storage: await openMemoryStorage() })
    try {
      expect(await runBank(store)).toEqual(bankPrinted)
    } finally {
      await store.close()
    }
  })
})

describe('the course-subscription example (DCB)', () => {
  // What the scenario prints: each rule refuses once, an erased student's place is free again
  // (though conditions still count the erased event), and the concurrent commands end within
  // the capacity of the course and the student's limit whatever order they were decided in.
  const printed = [
    'defined math for 2',
    'refused: course math already exists',
    'refused: course physics does not exist',
    'ada subscribed to math',
    'refused: ada is already subscribed to math',
    'bob subscribed to math',
    'refused: course math is full',
    'math now takes 3',
    'cy subscribed to math',
    'cy erased',
    'eve subscribed to math',
    '3 clerks define history at once: 1 defined, 2 refused (course history already exists)',
    'defined art for 5',
    /^20 students at once on art: 5 subscribed, 15 refused \(course art is full\), after \d+ retries$/,
    `dee on ${MAX_COURSES + 2} courses at once: ${MAX_COURSES} subscribed, 2 refused (dee already has ${MAX_COURSES} courses)`,
  ]

  const expectPrinted = (lines: ReadonlyArray<string>): void => {
    expect(lines).toHaveLength(printed.length)
    printed.forEach((line, i) =>
      typeof line === 'string' ? expect(lines[i]).toBe(line) : expect(lines[i]).toMatch(line),
    )
  }

  /**
   * What the store holds afterwards, read without the index (a scan of every event): who got
   * which course, no pair twice, no course past its capacity, no student past the limit, and
   * no course defined twice.
   */
  const expectStored = async (store: EventStore): Promise<void> => {
    const pairs: string[] = []
    for await (const e of store.readAll({
      filter: { eventTypes: ['StudentSubscribedToCourse'] },
    })) {
      const { studentId, courseId } = e.data as { studentId: string; courseId: string }
      expect(e.tags).toEqual([`student:${studentId}`, `course:${courseId}`])
      pairs.push(`${studentId}/${courseId}`)
    }
    expect(new Set(pairs).size).toBe(pairs.length)
    const count = (part: RegExp): number => pairs.filter((p) => part.test(p)).length
    expect(count(/\/math$/)).toBe(3)
    expect(count(/\/art$/)).toBe(5)
    expect(count(/^dee\//)).toBe(MAX_COURSES)
    expect(pairs).toHaveLength(3 + 5 + MAX_COURSES)
    const defined: string[] = []
    for await (const e of store.readAll({ filter: { eventTypes: ['CourseDefined'] } })) {
      defined.push((e.data as { courseId: string }).courseId)
    }
    expect(new Set(defined).size).toBe(defined.length)
    expect(defined).toContain('history')
  }

  it('runs as a script on RocksDB', async () => {
    const dir = await makeTempDir('courses')
    try {
      const script = new URL('../examples/course-subscriptions.ts', import.meta.url).pathname
      const child = runTypeScript(script, { args: [join(dir, 'courses')] })
      expect(child.stderr).toBe('')
      expect(child.status).toBe(0)
      expectPrinted(child.stdout.trim().split('\n'))
      const store = await openEventStore({ path: join(dir, 'courses'), readOnly: true })
      try {
        await expectStored(store)
      } finally {
        await store.close()
      }
    } finally {
      await removeDir(dir)
    }
  })

  it('runs on a memory storage', async () => {
    const store = await openEventStore({ storage: await openMemoryStorage() })
    try {
      expectPrinted(await runCourseSubscriptions(store))
      await expectStored(store)
    } finally {
      await store.close()
    }
  })

  it.runIf(postgresRuns)('runs on PostgreSQL', async () => {
    const table = freshTable()
    try {
      await using storage = await openPostgresStorage({ connection: connection(), table })
      const store = await openEventStore({ storage })
      try {
        expectPrinted(await runCourseSubscriptions(store))
        await expectStored(store)
      } finally {
        await store.close()
      }
    } finally {
      await dropTables(table)
    }
  })
})
