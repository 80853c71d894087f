// The course-subscription example of the Dynamic Consistency Boundary specification (dcb.events)
// on the event store: students subscribe to courses, and a subscription must keep two rules at
// once — a course takes at most its capacity, a student joins at most MAX_COURSES courses — with
// no aggregate owning both. Each command reads the events its decision needs by a query of
// tags and types, decides, and appends on the condition that no event matching that query was
// written after the last one it read; when another command got there first, it decides again.
//
//   npm run example:courses [-- ./data/courses]
//
// `runCourseSubscriptions(store)` runs the same scenario on any store (memory, RocksDB,
// PostgreSQL) and resolves with the lines the script prints.
import { rm } from 'node:fs/promises'
import { pathToFileURL } from 'node:url'
import {
  DeltalogError,
  openEventStore,
  type EventInput,
  type EventStore,
  type Query,
  type ReadEvent,
} from 'deltalog'

/** The most courses one student may be subscribed to (the specification's 10). */
export const MAX_COURSES = 10

// -------------------------------------------------------------------------------------
// events and their tags
// -------------------------------------------------------------------------------------

type CourseDefined = { readonly courseId: string; readonly capacity: number }
type CourseCapacityChanged = { readonly courseId: string; readonly capacity: number }
type StudentSubscribed = { readonly courseId: string; readonly studentId: string }

/** The tags that put an event inside a course's and a student's consistency boundaries. */
export const courseTag = (courseId: string): string => `course:${courseId}`
export const studentTag = (studentId: string): string => `student:${studentId}`

const courseDefined = (data: CourseDefined): EventInput => ({
  type: 'CourseDefined',
  data,
  tags: [courseTag(data.courseId)],
})

const capacityChanged = (data: CourseCapacityChanged): EventInput => ({
  type: 'CourseCapacityChanged',
  data,
  tags: [courseTag(data.courseId)],
})

// One event in two boundaries: the course's (its capacity) and the student's (their limit).
const studentSubscribed = (data: StudentSubscribed): EventInput => ({
  type: 'StudentSubscribedToCourse',
  data,
  tags: [studentTag(data.studentId), courseTag(data.courseId)],
})

// -------------------------------------------------------------------------------------
// decision models and the command loop
// -------------------------------------------------------------------------------------

/** What a command decides on: the events of `query`, folded into a state. */
interface DecisionModel<S> {
  readonly query: Query
  readonly initial: S
  readonly evolve: (state: S, event: ReadEvent) => S
}

/** A command's answer: the events to append (to a stream, or to none), or why not. */
type Decision =
  | { readonly append: ReadonlyArray<EventInput>; readonly streamId?: string }
  | { readonly refuse: string }

/** How a command ended, and how many times another command's append made it decide again. */
export interface Outcome {
  readonly ok: boolean
  readonly message: string
  readonly retries: number
}

/** A command gives up after this many conflicts in a row; none comes near it here. */
const MAX_ATTEMPTS = 100

/**
 * Runs a command: reads its decision model, decides, and appends on the condition that no event
 * matching the model's query lies above the last position read (or exists at all, if it read
 * none). A refused condition means the model is stale: read it again and decide again.
 */
const handle = async <S>(
  store: EventStore,
  model: DecisionModel<S>,
  decide: (state: S) => Decision,
  done: string,
): Promise<Outcome> => {
  for (let retries = 0; retries < MAX_ATTEMPTS; retries++) {
    let state = model.initial
    let after: number | undefined
    for await (const event of store.read(model.query)) {
      state = model.evolve(state, event)
      after = Math.max(after ?? -1, event.position)
    }
    const decision = decide(state)
    if ('refuse' in decision) return { ok: false, message: decision.refuse, retries }
    const condition = { failIfEventsMatch: model.query, ...(after === undefined ? {} : { after }) }
    try {
      if (decision.streamId === undefined) await store.append(decision.append, { condition })
      else await store.appendToStream(decision.streamId, decision.append, { condition })
      return { ok: true, message: done, retries }
    } catch (error) {
      if (!(error instanceof DeltalogError) || error.error.code !== 'APPEND_CONDITION_FAILED') {
        throw error
      }
    }
  }
  throw new Error(`${done}: gave up after ${MAX_ATTEMPTS} conflicting appends`)
}

// -------------------------------------------------------------------------------------
// commands
// -------------------------------------------------------------------------------------

/** A course's capacity, or undefined while it is not defined. */
const courseCapacity = (courseId: string): DecisionModel<number | undefined> => ({
  query: {
    items: [{ types: ['CourseDefined', 'CourseCapacityChanged'], tags: [courseTag(courseId)] }],
  },
  initial: undefined,
  evolve: (_, event) => (event.data as CourseDefined | CourseCapacityChanged).capacity,
})

/** Defines a course; its id must be new. */
export const defineCourse = (store: EventStore, courseId: string, capacity: number) =>
  handle(
    store,
    courseCapacity(courseId),
    (current) =>
      current !== undefined
        ? { refuse: `course ${courseId} already exists` }
        : { append: [courseDefined({ courseId, capacity })] },
    `defined ${courseId} for ${capacity}`,
  )

/** Changes a course's capacity to another positive number, even below its subscriptions. */
export const changeCapacity = (store: EventStore, courseId: string, capacity: number) =>
  handle(
    store,
    courseCapacity(courseId),
    (current): Decision => {
      if (current === undefined) return { refuse: `course ${courseId} does not exist` }
      if (current === capacity) return { refuse: `course ${courseId} already takes ${capacity}` }
      return { append: [capacityChanged({ courseId, capacity })] }
    },
    `${courseId} now takes ${capacity}`,
  )

interface SubscriptionState {
  /** The course's capacity; undefined while the course does not exist. */
  readonly capacity: number | undefined
  /** How many students the course has. */
  readonly students: number
  /** The courses the student has. */
  readonly courses: ReadonlySet<string>
}

/**
 * What a subscription decides on: three boundaries in one query — the course (does it exist,
 * what does it take), the course's subscriptions, and the student's.
 */
const subscriptionModel = (
  studentId: string,
  courseId: string,
): DecisionModel<SubscriptionState> => ({
  query: {
    items: [
      { types: ['CourseDefined', 'CourseCapacityChanged'], tags: [courseTag(courseId)] },
      { types: ['StudentSubscribedToCourse'], tags: [courseTag(courseId)] },
      { types: ['StudentSubscribedToCourse'], tags: [studentTag(studentId)] },
    ],
  },
  initial: { capacity: undefined, students: 0, courses: new Set() },
  evolve: (state, event) => {
    if (event.type !== 'StudentSubscribedToCourse') {
      return { ...state, capacity: (event.data as CourseDefined | CourseCapacityChanged).capacity }
    }
    const data = event.data as StudentSubscribed
    return {
      ...state,
      students: state.students + (data.courseId === courseId ? 1 : 0),
      courses:
        data.studentId === studentId ? new Set([...state.courses, data.courseId]) : state.courses,
    }
  },
})

/** Subscribes a student to a course, keeping all four rules. */
export const subscribe = (store: EventStore, studentId: string, courseId: string) =>
  handle(
    store,
    subscriptionModel(studentId, courseId),
    (state): Decision => {
      if (state.capacity === undefined) return { refuse: `course ${courseId} does not exist` }
      if (state.courses.has(courseId)) {
        return { refuse: `${studentId} is already subscribed to ${courseId}` }
      }
      if (state.students >= state.capacity) return { refuse: `course ${courseId} is full` }
      if (state.courses.size >= MAX_COURSES) {
        return { refuse: `${studentId} already has ${MAX_COURSES} courses` }
      }
      // Kept in the student's own stream, so that erasing a student (deleteStream) erases them.
      return {
        append: [studentSubscribed({ studentId, courseId })],
        streamId: `student-${studentId}`,
      }
    },
    `${studentId} subscribed to ${courseId}`,
  )

// -------------------------------------------------------------------------------------
// the scenario
// -------------------------------------------------------------------------------------

/** How many of `outcomes` succeeded, how many were refused, and how many retries they took. */
const tally = (outcomes: ReadonlyArray<Outcome>) => ({
  ok: outcomes.filter((o) => o.ok).length,
  refused: outcomes.filter((o) => !o.ok).length,
  retries: outcomes.reduce((sum, o) => sum + o.retries, 0),
  reasons: [...new Set(outcomes.filter((o) => !o.ok).map((o) => o.message))],
})

/**
 * The scenario, on an open store that holds no courses yet: the four rules one by one, then
 * many commands at once on one course, and one student on many courses. Resolves with what it
 * prints, one line per step.
 */
export const runCourseSubscriptions = async (store: EventStore): Promise<string[]> => {
  const lines: string[] = []
  const say = (o: Outcome): void => void lines.push(o.ok ? o.message : `refused: ${o.message}`)

  say(await defineCourse(store, 'math', 2))
  say(await defineCourse(store, 'math', 5))
  say(await subscribe(store, 'ada', 'physics'))
  say(await subscribe(store, 'ada', 'math'))
  say(await subscribe(store, 'ada', 'math'))
  say(await subscribe(store, 'bob', 'math'))
  say(await subscribe(store, 'cy', 'math'))
  say(await changeCapacity(store, 'math', 3))
  say(await subscribe(store, 'cy', 'math'))

  // Erasing a student hides their subscriptions from every read and every condition: math has
  // a place again.
  await store.deleteStream('student-cy')
  lines.push('cy erased')
  say(await subscribe(store, 'eve', 'math'))

  // Three clerks define the same course at the same moment: one of them does.
  const clerks = tally(await Promise.all([4, 5, 6].map((n) => defineCourse(store, 'history', n))))
  lines.push(
    `3 clerks define history at once: ${clerks.ok} defined, ${clerks.refused} refused (${clerks.reasons.join('; ')})`,
  )

  // A course of capacity 5 and 20 students subscribing at the same moment.
  say(await defineCourse(store, 'art', 5))
  const students = Array.from({ length: 20 }, (_, i) => `student-${i}`)
  const rush = tally(await Promise.all(students.map((s) => subscribe(store, s, 'art'))))
  lines.push(
    `20 students at once on art: ${rush.ok} subscribed, ${rush.refused} refused (${rush.reasons.join('; ')}), after ${rush.retries} retries`,
  )

  // One student subscribing to MAX_COURSES + 2 courses at the same moment.
  const courses = Array.from({ length: MAX_COURSES + 2 }, (_, i) => `elective-${i}`)
  for (const course of courses) await defineCourse(store, course, 10)
  const spree = tally(await Promise.all(courses.map((c) => subscribe(store, 'dee', c))))
  lines.push(
    `dee on ${courses.length} courses at once: ${spree.ok} subscribed, ${spree.refused} refused (${spree.reasons.join('; ')})`,
  )
  return lines
}

/** The script: the scenario on a RocksDB directory of its own. */
const main = async (): Promise<void> => {
  const path = process.argv[2] ?? './data/courses'
  await rm(path, { recursive: true, force: true })
  const store = await openEventStore({ path })
  try {
    for (const line of await runCourseSubscriptions(store)) console.log(line)
  } finally {
    await store.close()
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await main()
}
