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
  {
    rule: 'a condition whose tag has no event above after is decided with no read of the index',
    file: 'src/eventstore/newest.ts',
    from: '    return tags.every(above)',
    to: '    return true',
    tests: ['test/eventstore/newest.test.ts'],
  },
  {
    rule: 'the newest positions count an event just above after as above it',
    file: 'src/eventstore/newest.ts',
    from: 'position > (after ?? -1)',
    to: 'position > (after ?? -1) + 1',
    tests: ['test/eventstore/newest.test.ts', 'test/eventstore/dcb.test.ts'],
  },
  {
    rule: "the writer's newest positions follow every commit it writes",
    file: 'src/eventstore/writer.ts',
    from: '    streams.newest.written(planned.events, start)\n',
    to: '',
    tests: ['test/eventstore/newest.test.ts'],
  },
  {
    rule: 'the newest position of a tag is read from its last posting',
    file: 'src/eventstore/newest.ts',
    from: 'orThrow(listed).reduce((max, p) => Math.max(max, p.position), -1)',
    to: '-1',
    tests: ['test/eventstore/newest.test.ts', 'test/eventstore/dcb.test.ts'],
  },
  {
    rule: 'an item of types alone may match if any of its types has an event above after',
    file: 'src/eventstore/newest.ts',
    from: '  return types.some(above)',
    to: '  return types.every(above)',
    tests: ['test/eventstore/dcb.test.ts', 'test/eventstore/newest.test.ts'],
  },
  {
    rule: 'an event without tags is stored as before tags existed: no tg field',
    file: 'src/eventstore/envelope.ts',
    from: "if (e.tags.length > 0) envelope['tg'] = e.tags",
    to: "envelope['tg'] = e.tags",
    tests: ['test/eventstore/envelope.test.ts'],
  },
  {
    rule: 'the newest positions take each tag and type of a commit at its last event',
    file: 'src/eventstore/newest.ts',
    from: '        for (const tag of e.tags) tags.set(tag, e.record)',
    to: '        for (const tag of e.tags) if (!tags.has(tag)) tags.set(tag, e.record)',
    tests: ['test/eventstore/newest.test.ts'],
  },
  {
    rule: "a condition finds a match of the same batch by the match's tag",
    file: 'src/eventstore/plan.ts',
    from: '    for (const tag of e.tags) listIn(draft.byTag, tag).push(e)\n',
    to: '',
    tests: ['test/eventstore/dcb.test.ts', 'test/eventstore/dcbModel.test.ts'],
  },
  {
    rule: "a condition of types alone finds a match of the same batch by the match's type",
    file: 'src/eventstore/plan.ts',
    from: '    listIn(draft.byType, e.type).push(e)\n',
    to: '',
    tests: ['test/eventstore/dcb.test.ts', 'test/eventstore/dcbModel.test.ts'],
  },
  {
    rule: 'saved progress of indexing that does not decode is CORRUPTION, not a start from 0',
    file: 'src/eventstore/indexing.ts',
    from: '  if (E.isLeft(decoded)) {\n',
    to: '  if (E.isLeft(decoded) && false) {\n',
    tests: ['test/eventstore/index.test.ts'],
  },
  {
    rule: 'a failed open of an event store closes the log it opened',
    file: 'src/eventstore/store.ts',
    from: '    if (owned) await log.close().catch(() => undefined)\n',
    to: '',
    tests: ['test/eventstore/index.test.ts', 'test/eventstore/readOnly.test.ts'],
  },
]
