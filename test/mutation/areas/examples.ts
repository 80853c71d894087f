// Mutants of the runnable examples: what each example shows must fail its test when broken.
import type { Mutant } from '../mutant.js'

const courses = 'examples/course-subscriptions.ts'

export const mutants: ReadonlyArray<Mutant> = [
  {
    rule: 'a course takes no more students than its capacity when many subscribe at once',
    file: courses,
    from: 'await store.append(decision.append, { condition })',
    to: 'await store.append(decision.append)',
    tests: ['test/examples.test.ts'],
  },
  {
    rule: "a command's condition starts after the last event its decision read",
    file: courses,
    from: 'after = event.position',
    to: 'after = event.position - 1',
    tests: ['test/examples.test.ts'],
  },
]
