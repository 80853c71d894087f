// Mutants of the runnable examples — what each example shows must fail its test when broken —
// and of what the event store's docs promise beside them.
import type { Mutant } from '../mutant.js'

const courses = 'examples/course-subscriptions.ts'

export const mutants: ReadonlyArray<Mutant> = [
  {
    rule: 'a course takes no more students than its capacity when many subscribe at once',
    file: courses,
    from: 'store.appendToStream(decision.streamId, decision.append, { condition })',
    to: 'store.appendToStream(decision.streamId, decision.append)',
    tests: ['test/examples.test.ts'],
  },
  {
    rule: 'a course is defined once however many define it at once',
    file: courses,
    from: 'await store.append(decision.append, { condition })',
    to: 'await store.append(decision.append)',
    tests: ['test/examples.test.ts'],
  },
  {
    rule: "a command's condition carries the last position its decision read",
    file: courses,
    from: 'failIfEventsMatch: model.query, ...(after === undefined ? {} : { after })',
    to: 'failIfEventsMatch: model.query',
    tests: ['test/examples.test.ts'],
  },
]
