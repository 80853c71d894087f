// Mutants of deltalog/testing's checkProjection: each drops or weakens one of the rules it
// holds a projection or consumer to, or one of the crashes it tries, and must let one of the
// deliberately broken projections of its test pass (or fail a correct one).
import type { Mutant } from '../mutant.js'

const tests = ['test/testing/checkProjection.test.ts']

export const mutants: ReadonlyArray<Mutant> = [
  {
    rule: "checkProjection compares a projection's documents with the fold up to its position",
    file: 'src/testing/projectionChecks.ts',
    from: '  if (subject.fold !== undefined) {',
    to: '  if (subject.fold === null) {',
    tests,
  },
  {
    rule: 'checkProjection refuses a saved position past the head of the log that survived',
    file: 'src/testing/projectionChecks.ts',
    from: 'if (position !== undefined && position >= head) {',
    to: 'if (position !== undefined && position > Number.MAX_SAFE_INTEGER) {',
    tests,
  },
  {
    rule: 'checkProjection requires a consumer to have handled every event up to its checkpoint',
    file: 'src/testing/projectionChecks.ts',
    from: 'const missed = covered.find((e) => !handled(e.position))',
    to: 'const missed = covered.find((e) => !handled(e.position) && false)',
    tests,
  },
  {
    rule: 'checkProjection cuts the power as well as killing the process',
    file: 'src/testing/checkProjection.ts',
    from: "mode: fc.constantFrom<CrashMode>('process', 'power'),",
    to: "mode: fc.constantFrom<CrashMode>('process', 'process'),",
    tests,
  },
  {
    rule: 'checkProjection requires the subject to catch up with every event at the end of a run',
    file: 'src/testing/projectionStory.ts',
    from: '    await catchUp(subject, life, events)\n',
    to: '',
    tests,
  },
  {
    rule: 'checkProjection checks a crashed copy against the events of the storage it was taken from',
    file: 'src/testing/projectionStory.ts',
    from: '          events = makeSourceEvents(subject.source)\n',
    to: '',
    tests,
  },
  {
    rule: "checkProjection fails when the subject's run fails",
    file: 'src/testing/projectionLife.ts',
    from: 'if (alive && !stopping) failure ??= `its run failed: ${messageOf(error)}`',
    to: 'if (alive && stopping) failure ??= `its run failed: ${messageOf(error)}`',
    tests,
  },
]
