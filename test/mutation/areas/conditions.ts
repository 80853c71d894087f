// Mutants of the conditions' view of deleted events: a condition counts what reads return.
import type { Mutant } from '../mutant.js'

const tests = ['test/eventstore/dcb.test.ts']

export const mutants: ReadonlyArray<Mutant> = [
  {
    rule: 'a condition does not count a stored event its stream deleted',
    file: 'src/eventstore/streams.ts',
    from: 'return revision < state.deletedBefore ? undefined :',
    to: 'return false ? undefined :',
    tests,
  },
  {
    rule: 'a condition does not count an event of its commit that an earlier delete hides',
    file: 'src/eventstore/plan.ts',
    from: '      e.revision >= stateIn(draft, e.streamId).deletedBefore,',
    to: '      true,',
    tests,
  },
  {
    rule: 'a condition refused by an event deleted earlier in its commit is decided again',
    file: 'src/eventstore/plan.ts',
    from: "if (request.kind === 'append' && deletedSince(draft, request)) {",
    to: 'if (false) {',
    tests,
  },
]
