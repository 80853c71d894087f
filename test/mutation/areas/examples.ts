// Mutants of the runnable examples — what each example shows must fail its test when broken —
// and of what the event store's docs promise beside them.
import type { Mutant } from '../mutant.js'

const courses = 'examples/course-subscriptions.ts'
const bank = 'examples/bank-account.ts'

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
  {
    rule: 'the bank example folds an account from its snapshot and the events after it',
    file: bank,
    from: '    snapshot: { every: 3, version: 1 },\n',
    to: '',
    tests: ['test/examples.test.ts'],
  },
  {
    rule: "the bank example's consumer resumes after its checkpoint: a notification is sent once",
    file: 'src/eventstore/consumer.ts',
    from: 'const start = saved ?? o.after ?? (o.from ?? 0) - 1',
    to: 'const start = o.after ?? (o.from ?? 0) - 1',
    tests: ['test/examples.test.ts'],
  },
]
