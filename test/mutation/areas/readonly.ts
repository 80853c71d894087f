// Mutants of the event store opened to read only, from any process.
import type { Mutant } from '../mutant.js'

const tests = ['test/eventstore/readOnly.test.ts']

export const mutants: ReadonlyArray<Mutant> = [
  {
    rule: 'a read-only event store opens its log read-only',
    file: 'src/eventstore/store.ts',
    from: '...(options.readOnly === true ? { readOnly: true } : {}),',
    to: '...{},',
    tests,
  },
  {
    rule: 'a read-only event store never writes the marker',
    file: 'src/eventstore/store.ts',
    from: '    if (readOnly) await openUnmarked(log)\n    else {',
    to: '    {',
    tests,
  },
  {
    rule: "a read-only event store refuses a log with entries but no store's marker (NOT_A_LOG)",
    file: 'src/eventstore/store.ts',
    from: 'if (readOnly) await openUnmarked(',
    to: 'if (readOnly) void openUnmarked(',
    tests,
  },
  {
    rule: 'a read-only event store refuses every write with READ_ONLY before it is queued',
    file: 'src/eventstore/store.ts',
    from: 'const writer = readOnly ? refusingWriter() : makeWriter(ctx)',
    to: 'const writer = makeWriter(ctx)',
    tests,
  },
  {
    rule: 'a closed read-only event store refuses writes with CLOSED',
    file: 'src/eventstore/readOnly.ts',
    from: '      isClosed = true\n',
    to: '',
    tests,
  },
  {
    rule: 'a read-only event store keeps no stream state between calls',
    file: 'src/eventstore/store.ts',
    from: 'const reads = readsOf(ctx, readOnly)',
    to: 'const reads = readsOf(ctx, false)',
    tests,
  },
  {
    rule: 'a read-only event store keeps no stream state between calls, with the writer in another process (PostgreSQL)',
    file: 'src/eventstore/readOnly.ts',
    from: 'isReadOnly ? () => ({ ...ctx, states: untilMoved(() => ctx.log.nextSequence()) }) : () => ctx',
    to: '() => ctx',
    tests: ['test/postgres/eventStoreReader.test.ts'],
    needs: 'postgres',
  },
  {
    rule: "a read-only event store's subscription forgets stream states when its log moves",
    file: 'src/eventstore/readOnly.ts',
    from: '      seen = now\n      cache.clear()\n',
    to: '      seen = now\n',
    tests,
  },
]
