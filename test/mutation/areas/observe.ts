// Mutants of what a running log shows of itself: the tracing channels (src/diagnostics,
// src/log/observe.ts, where appends and truncations enter in src/log/engine.ts) and
// `log.metrics()` (src/log/metrics.ts, the counts kept in src/log/admission.ts, the followers).
import type { Mutant } from '../mutant.js'

const channels = ['test/diagnostics/log.test.ts']
const metrics = ['test/log/metrics.test.ts']

export const mutants: ReadonlyArray<Mutant> = [
  {
    rule: "a failed operation's span carries its error code",
    file: 'src/diagnostics/channels.ts',
    from: '        ctx.code = outcome.left.code\n',
    to: '',
    tests: ['test/diagnostics/channels.test.ts', ...channels],
  },
  {
    rule: 'an append is traced when someone subscribes, and only then',
    file: 'src/log/engine.ts',
    from: 'isTraced(appendChannel) ? tracedAppend(log, records) : append(log, records)',
    to: 'isTraced(appendChannel) ? append(log, records) : tracedAppend(log, records)',
    tests: [...channels, 'test/diagnostics/unsubscribed.test.ts'],
  },
  {
    rule: 'no context is built for a channel no one subscribes to',
    file: 'src/diagnostics/channels.ts',
    from: '  if (!isTraced(channel)) return run()\n  const ctx = context()\n  return channel.start.runStores(ctx, () => {\n    let running: Promise<E.Either<L, A>>',
    to: '  const ctx = context()\n  if (!isTraced(channel)) return run()\n  return channel.start.runStores(ctx, () => {\n    let running: Promise<E.Either<L, A>>',
    tests: ['test/diagnostics/channels.test.ts', 'test/diagnostics/unsubscribed.test.ts'],
  },
  {
    rule: 'a sync with no data is published on deltalog:sync, not deltalog:write',
    file: 'src/log/observe.ts',
    from: "            empty ? 'sync' : 'write',\n",
    to: "            'write',\n",
    tests: channels,
  },
  {
    rule: "a commit's span says whether its batch was synced",
    file: 'src/log/observe.ts',
    from: 'ctx.sync = state.durableEnd >= state.allocator.nextSequence',
    to: 'ctx.sync = true',
    tests: channels,
  },
  {
    rule: "a commit's range runs from its first append to the allocator's new end",
    file: 'src/log/observe.ts',
    from: 'count: core.state.allocator.nextSequence - startSequence',
    to: 'count: outcome.right.count',
    tests: channels,
  },
  {
    rule: 'a truncation is published on deltalog:truncate',
    file: 'src/log/engine.ts',
    from: "      'truncate',\n",
    to: "      'sync',\n",
    tests: channels,
  },
  {
    rule: 'the last commit counts each of its appends',
    file: 'src/log/observe.ts',
    from: '    appends++\n',
    to: '    appends += appends === 0 ? 1 : 2\n',
    tests: metrics,
  },
  {
    rule: 'a latency bucket holds the values at or below its bound',
    file: 'src/diagnostics/histogram.ts',
    from: 'value > (BUCKET_BOUNDS_MS[i] as number)',
    to: 'value >= (BUCKET_BOUNDS_MS[i] as number)',
    tests: ['test/diagnostics/histogram.test.ts'],
  },
  {
    rule: 'a percentile is the bound of the bucket holding its rank',
    file: 'src/diagnostics/histogram.ts',
    from: 'if (seen >= rank) return',
    to: 'if (seen > rank) return',
    tests: ['test/diagnostics/histogram.test.ts'],
  },
  {
    rule: 'a written append is no longer counted pending',
    file: 'src/log/admission.ts',
    from: '      pendingAppends--\n',
    to: '',
    tests: metrics,
  },
  {
    rule: 'an admitted append no longer counts its bytes as waiting',
    file: 'src/log/admission.ts',
    from: '    waitingBytes -= waiter.bytes\n',
    to: '',
    tests: metrics,
  },
  {
    rule: 'an append that waited for room adds its wait to the total',
    file: 'src/log/admission.ts',
    from: 'waitedMs += performance.now() - waiter.since',
    to: 'waitedMs += 0',
    tests: metrics,
  },
  {
    rule: 'a synced write clears the durable lag',
    file: 'src/log/observe.ts',
    from: '  if (state.durableEnd >= state.allocator.nextSequence) meter.nonDurableSince = undefined\n  else meter.nonDurableSince ??= started',
    to: '  meter.nonDurableSince ??= started',
    tests: metrics,
  },
  {
    rule: 'a follower leaves the metrics when it ends',
    file: 'src/log/follow.ts',
    from: '    log.followers?.delete(cursor)\n',
    to: '',
    tests: metrics,
  },
  {
    rule: 'a commit that wrote nothing is not counted',
    file: 'src/log/observe.ts',
    from: 'if (appends > 0 && state.allocator.nextSequence > before) {',
    to: 'if (appends > 0) {',
    tests: metrics,
  },
]
