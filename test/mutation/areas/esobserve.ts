// Mutants of the event store's tracing channels (src/eventstore/tracing.ts and where it is
// called): each breaks what a span says of an append or a delivery.
import type { Mutant } from '../mutant.js'

const tracing = 'src/eventstore/tracing.ts'
const tests = ['test/diagnostics/eventStore.test.ts']

export const mutants: ReadonlyArray<Mutant> = [
  {
    rule: "an append's span says whether a write of appendMulti gave an expected revision",
    file: tracing,
    from: "expected: write['expectedRevision'] !== undefined,",
    to: "expected: write['expectedRevision'] === undefined,",
    tests,
  },
  {
    rule: "an append's span says whether it had a condition",
    file: tracing,
    from: "condition: given(options, 'condition'),",
    to: "condition: given(options, 'expectedRevision'),",
    tests,
  },
  {
    rule: "an append's span counts the events of every write",
    file: tracing,
    from: 'writes.reduce((n, w) => n + w.events, 0)',
    to: 'writes.length',
    tests,
  },
  {
    rule: "an append's span carries the position of its last event",
    file: tracing,
    from: 'ctx.position = Math.max(-1, ...results.map((r) => r.position))',
    to: 'ctx.position = Math.min(...results.map((r) => r.position))',
    tests,
  },
  {
    rule: "an append's span reads the writes only while someone subscribes",
    file: 'src/diagnostics/channels.ts',
    from: '  if (!isTraced(channel)) return run()\n  const ctx = context()\n  return channel.start.runStores(ctx, () => {\n    let running: Promise<A>\n',
    to: '  const ctx = context()\n  if (!isTraced(channel)) return run()\n  return channel.start.runStores(ctx, () => {\n    let running: Promise<A>\n',
    tests,
  },
  {
    rule: 'a span names a memory store\'s log "memory"',
    file: tracing,
    from: "persistent === false ? 'memory' : 'storage'",
    to: "persistent === false ? 'storage' : 'storage'",
    tests,
  },
  {
    rule: "a span names the log by its storage's location when the storage names one",
    file: tracing,
    from: "if (typeof storage.location === 'string') return storage.location",
    to: "if (typeof storage.location === 'string') return 'storage'",
    tests,
  },
  {
    rule: "a delivery's span carries the position of the batch's last event",
    file: tracing,
    from: '{ lastPosition: last.position }',
    to: '{ lastPosition: first.position }',
    tests,
  },
  {
    rule: "a subscription's delivery span ends when the subscriber asks for the next message",
    file: tracing,
    from: '    next: () => {\n      close()\n',
    to: '    next: () => {\n',
    tests,
  },
  {
    rule: "a subscription's delivery span ends with the error the subscriber throws in",
    file: tracing,
    from: '      close(error)\n',
    to: '      close()\n',
    tests,
  },
  {
    rule: "a consumer's delivery span counts its handler's calls",
    file: 'src/eventstore/consumer.ts',
    from: '(ctx, tries) => (ctx.attempts = tries),',
    to: '(ctx) => (ctx.attempts = 1),',
    tests,
  },
  {
    rule: "a consumer's delivery span covers the checkpoint's save",
    file: 'src/eventstore/consumer.ts',
    from: '              if (tries > 0) await target.submit(checkpointRequest(target.sameLog, n, last))\n',
    to: '              if (tries > 0) void target.submit(checkpointRequest(target.sameLog, n, last))\n',
    tests,
  },
  {
    rule: "a projection's delivery span counts the documents the batch changed",
    file: 'src/eventstore/projection.ts',
    from: '(ctx, folded) => (ctx.documents = folded.size),',
    to: '(ctx) => (ctx.documents = events.length),',
    tests,
  },
]

const watch = 'src/cli/commands/watch.ts'
const watchTests = ['test/cli/watch.test.ts']

/** Mutants of `deltalog stats --watch`. */
export const watchMutants: ReadonlyArray<Mutant> = [
  {
    rule: 'stats --watch counts the commit that starts at the head of the refresh before',
    file: watch,
    from: 'gte: encodeCommitKey(from),',
    to: 'gt: encodeCommitKey(from),',
    tests: watchTests,
  },
  {
    rule: 'stats --watch counts every entry of a commit',
    file: watch,
    from: 'entries += commit.right.end - commit.right.firstSequence',
    to: 'entries += 1',
    tests: watchTests,
  },
  {
    rule: 'stats --watch gives rates per second',
    file: watch,
    from: 'Math.round((count * 1000 * 10) / ms) / 10',
    to: 'Math.round((count * 100 * 10) / ms) / 10',
    tests: watchTests,
  },
  {
    rule: 'stats --watch stops after --count refreshes',
    file: watch,
    from: 'args.count === undefined || n < args.count',
    to: 'args.count === undefined || n <= args.count',
    tests: watchTests,
  },
  {
    rule: 'stats --watch ends at once on SIGINT',
    file: watch,
    from: '    if (signal.aborted) break\n',
    to: '',
    tests: watchTests,
  },
  {
    rule: 'stats --watch shows where the log is truncated',
    file: watch,
    from: 'truncatedBefore: truncation.right,',
    to: 'truncatedBefore: 0,',
    tests: watchTests,
  },
  {
    rule: 'stats --watch shows the writer epoch of a table',
    file: 'src/postgres/activity.ts',
    from: 'epoch: epoch.rows[0]?.value ?? null,',
    to: 'epoch: null,',
    tests: watchTests,
    needs: 'postgres',
  },
  {
    rule: 'stats --watch tells the followers of a table from other sessions',
    file: 'src/postgres/activity.ts',
    from: `"WHEN query = $2 THEN 'listener' ELSE 'hidden' END AS kind "`,
    to: `"WHEN query = $2 THEN 'hidden' ELSE 'hidden' END AS kind "`,
    tests: watchTests,
    needs: 'postgres',
  },
  {
    rule: 'stats --watch sees the sessions that last wrote a table',
    file: 'src/postgres/activity.ts',
    from: "const write = writeStatement(names).slice(0, writeStatement(names).indexOf(' FOR SHARE'))",
    to: "const write = writeStatement(names).slice(0, writeStatement(names).indexOf(' FOR SHARE')) + 'x'",
    tests: watchTests,
    needs: 'postgres',
  },
]
