// Mutants of the benchmarks' ceiling and tracing code: each breaks one rule of the ceiling
// model, the replayed batches, the curve, the report's sections or the tracing subscriber, and
// must fail test/benchmarks/ceiling.test.ts or tracing.test.ts.
import type { Mutant } from '../mutant.js'

const tests = ['test/benchmarks/ceiling.test.ts']

export const mutants: ReadonlyArray<Mutant> = [
  {
    rule: 'the ceiling is P appends per raw synced batch',
    file: 'benchmarks/ceiling.ts',
    from: 'producers / (ms / 1000)',
    to: '1 / (ms / 1000)',
    tests,
  },
  {
    rule: 'each replayed batch puts under keys no earlier batch used',
    file: 'benchmarks/ceiling.ts',
    from: 'keyOf(put.keyBytes, batch * shape.puts.length + i)',
    to: 'keyOf(put.keyBytes, i)',
    tests,
  },
  {
    rule: "PostgreSQL's ceiling counts a synced write besides the round trip",
    file: 'benchmarks/ceiling.ts',
    from: 'limits.postgres.p50 + limits.fsync.p50',
    to: 'limits.postgres.p50',
    tests,
  },
  {
    rule: 'a recorded commit is one write: a round of more is refused',
    file: 'benchmarks/commitBatch.ts',
    from: 'more.length > 0',
    to: 'more.length > 1',
    tests,
  },
  {
    rule: 'the curve spaces producer counts on a log scale',
    file: 'benchmarks/curve.ts',
    from: '((Math.log2(producers) - minLog) / (maxLog - minLog))',
    to: '((producers - 2 ** minLog) / (2 ** maxLog - 2 ** minLog))',
    tests,
  },
  {
    rule: 'the ceiling stands unnumbered before the numbered cases',
    file: 'benchmarks/report.ts',
    from: "c.id === CEILING_ID ? 'C' : String(++n)",
    to: 'String(++n)',
    tests,
  },
  {
    rule: 'the tracing subscriber counts every span it ends',
    file: 'benchmarks/cases/tracing.ts',
    from: 'seen[name] = (seen[name] ?? 0) + 1',
    to: 'seen[name] = 1',
    tests: ['test/benchmarks/tracing.test.ts'],
  },
  {
    rule: 'the subscriber that does nothing subscribes to every channel',
    file: 'benchmarks/cases/tracing.ts',
    from: 'channels.forEach((channel) => channel.subscribe(handlers))',
    to: 'channels.slice(1).forEach((channel) => channel.subscribe(handlers))',
    tests: ['test/benchmarks/tracing.test.ts'],
  },
  {
    rule: 'the subscriber that does nothing leaves every channel it subscribed to',
    file: 'benchmarks/cases/tracing.ts',
    from: 'channels.forEach((channel) => channel.unsubscribe(handlers))',
    to: 'channels.slice(1).forEach((channel) => channel.unsubscribe(handlers))',
    tests: ['test/benchmarks/tracing.test.ts'],
  },
  {
    rule: "the ceiling's section shows the explanation of its target",
    file: 'benchmarks/report.ts',
    from: "            ...whyOf(ceiling, explanations).flatMap((paragraph) => ['', paragraph]),\n",
    to: '',
    tests,
  },
]
