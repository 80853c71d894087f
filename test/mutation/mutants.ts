// One-line bugs that the suite must catch, each with the test files that guard against it. A
// mutant is a text replacement in one source file; `npm run test:mutants` applies each in a
// copy of the project and runs its guarding tests there, which must fail. The list is checked
// in every run (mutants.test.ts) so that a mutant that no longer applies is noticed at once.

import type { Mutant } from './mutant.js'
import { mutants as benchmarks } from './areas/benchmarks.js'
import { mutants as checkprojection } from './areas/checkprojection.js'
import { mutants as cli } from './areas/cli.js'
import { mutants as conditions } from './areas/conditions.js'
import { mutants as consumers } from './areas/consumers.js'
import { mutants as examples } from './areas/examples.js'
import { mutants as dcb } from './areas/dcb.js'
import { mutants as esobserve, watchMutants } from './areas/esobserve.js'
import { mutants as format } from './areas/format.js'
import { mutants as observe } from './areas/observe.js'
import { mutants as postgres } from './areas/postgres.js'
import { mutants as projections } from './areas/projections.js'
import { mutants as reads } from './areas/reads.js'
import { mutants as readonly } from './areas/readonly.js'
import { mutants as rocksdb } from './areas/rocksdb.js'
import { mutants as rss } from './areas/rss.js'
import { mutants as upcast } from './areas/upcast.js'

export type { Mutant } from './mutant.js'

const engine: ReadonlyArray<Mutant> = [
  {
    rule: 'a sync write reaches RocksDB with sync: true',
    file: 'src/storage/rocksdbStore.ts',
    from: 'binding.batch_do(db, ops, { sync }, cb)',
    to: 'binding.batch_do(db, ops, { sync: false }, cb)',
    tests: ['test/storage/sync.test.ts'],
  },
  {
    rule: 'an empty synced write still syncs',
    file: 'src/storage/rocksdbStore.ts',
    from: 'if (valid.right.length === 0 && !sync) return E.right(undefined)',
    to: 'if (valid.right.length === 0) return E.right(undefined)',
    tests: ['test/storage/sync.test.ts'],
  },
  {
    rule: 'a read hides entries below the truncation watermark',
    file: 'src/log/read.ts',
    from: '  const lower = Math.max(range.lower, ctx.truncatedBefore())\n',
    to: '  const lower = range.lower\n',
    tests: ['test/log/faults.test.ts'],
  },
  {
    rule: 'the durable watermark rises only after the write resolved',
    file: 'src/log/commit.ts',
    from: 'O.isSome(delta.seqBlock)\n  const written = await config.storage.write(batch, { sync })()',
    to: 'O.isSome(delta.seqBlock)\n  if (sync) state.durableEnd = built.right.state.nextSequence\n  const written = await config.storage.write(batch, { sync })()',
    tests: ['test/log/faults.test.ts'],
  },
  {
    rule: 'the durable watermark rises only after a flush synced',
    file: 'src/log/commit.ts',
    from: '  const targetLink = state.link\n  const synced = await core.config.storage.write([], { sync: true })()',
    to: '  const targetLink = state.link\n  state.durableEnd = Math.max(state.durableEnd, target)\n  const synced = await core.config.storage.write([], { sync: true })()',
    tests: ['test/log/faults.test.ts'],
  },
  {
    rule: 'an append that fills maxPendingBytes exactly does not wait',
    file: 'src/log/admission.ts',
    from: 'pendingBytes > 0 && pendingBytes + bytes > maxPendingBytes',
    to: 'pendingBytes > 0 && pendingBytes + bytes >= maxPendingBytes',
    tests: ['test/log/log.test.ts'],
  },
  {
    rule: 'the real-crash check refuses a writer that opens below the last recovered nextSequence',
    file: 'src/testing/crashInvariants.ts',
    from: 'if (round.openedAt < history.nextSequence || round.openedAt <= history.maxPersisted) {',
    to: 'if (round.openedAt <= history.maxPersisted) {',
    tests: ['test/testing/crashInvariants.test.ts'],
  },
  {
    rule: 'deltalog verify exits with 1 when it finds a violation',
    file: 'src/cli/commands/verify.ts',
    from: 'return report.violationCount === 0 ? 0 : 1',
    to: 'return 0',
    tests: ['test/cli/main.test.ts'],
  },
  {
    rule: 'two spellings of one open directory are one writer',
    file: 'src/storage/directory.ts',
    from: 'if (claimed.has(real)) {',
    to: 'if (false) {',
    tests: ['test/log/opening.test.ts'],
  },
  {
    rule: 'only RocksDB lock conflicts are LOCKED',
    file: 'src/storage/rocksdbErrors.ts',
    from: 'if (LOCK_CONFLICT.test(error.message)) return locked(message, error)',
    to: 'if (/^IO error: .*lock/i.test(error.message)) return locked(message, error)',
    tests: ['test/storage/rocksdb.test.ts'],
  },
  {
    rule: 'an unmarked database is opened only when recognised as a log',
    file: 'src/storage/rocksdb.ts',
    from: '  if (!recognised.right) return E.left(refused)',
    to: '',
    tests: ['test/log/opening.test.ts'],
  },
  {
    rule: 'a log directory is created private whatever the umask',
    file: 'src/storage/directory.ts',
    from: '    await chmod(path, mode)\n',
    to: '',
    tests: ['test/log/opening.test.ts'],
  },
  {
    rule: "an append takes a copy of the caller's arrays before it returns",
    file: 'src/log/validate.ts',
    from: '  if (owned > 0) {',
    to: '  if (owned < 0) {',
    tests: ['test/log/log.test.ts'],
  },
  {
    rule: "a reader opens a directory without the writer's lock",
    file: 'src/storage/rocksdb.ts',
    from: '    if (options.readOnly === true) return openReadOnly(binding, path, before.right.kind, options)\n',
    to: '',
    tests: ['test/log/readOnly.test.ts'],
  },
  {
    rule: 'the hot tail moves its start past every entry it lets go',
    file: 'src/log/tail.ts',
    from: '    if (left) start = count > 0 ? (segments[head] as Segment).first + skip : last',
    to: '',
    tests: ['test/log/tail.test.ts'],
  },
  {
    rule: 'the hot tail holds appendAt commits too',
    file: 'src/log/commit.ts',
    from: '  advance(core, built.right.state, nextLink, sync, built.right.delta.segments)\n',
    to: '  advance(core, built.right.state, nextLink, sync, [])\n',
    tests: ['test/log/tail.test.ts'],
  },
  {
    rule: 'a follower behind the hot tail reads storage',
    file: 'src/log/follow.ts',
    from: 'if (cursor.position >= hot.start()) {',
    to: 'if (cursor.position >= 0) {',
    tests: ['test/log/tail.test.ts'],
  },
  {
    rule: 'a scan stops when its signal aborts',
    file: 'src/log/bounded.ts',
    from: "abortable(endOnClose(ctx, entries), o.signal, 'scan')",
    to: "abortable(endOnClose(ctx, entries), undefined, 'scan')",
    tests: ['test/log/conventions.test.ts'],
  },
  {
    rule: 'an abort lets go of the storage iterator at once, not at the next next()',
    file: 'src/log/abort.ts',
    from: '    if (!inFlight) void release()\n',
    to: '',
    tests: ['test/log/conventions.test.ts'],
  },
  {
    rule: 'disposing of a log closes it',
    file: 'src/log/facade.ts',
    from: '    [Symbol.asyncDispose]: close,\n',
    to: '    [Symbol.asyncDispose]: () => Promise.resolve(),\n',
    tests: ['test/log/conventions.test.ts'],
  },
  {
    rule: 'the hot tail is dropped when a failed write stops the writer',
    file: 'src/log/commit.ts',
    from: '  config.onStop?.()\n',
    to: '',
    tests: ['test/log/tail.test.ts'],
  },
  // The four broken writers the crash property must catch (invariants 1–4 of docs/crash-testing.md).
  {
    rule: "a commit's SeqBlock record is written in the same batch as its entries",
    file: 'src/log/commit.ts',
    from: 'O.isSome(delta.seqBlock)\n  const written = await config.storage.write(batch, { sync })()\n',
    to:
      'O.isSome(delta.seqBlock)\n' +
      '  const apart = toCommitBatch({ ...delta, seqBlock: O.none }, state.link).ops\n' +
      '  let written = await config.storage.write(apart, { sync })()\n' +
      '  if (E.isRight(written) && O.isSome(delta.seqBlock))\n' +
      '    written = await config.storage.write(batch.slice(0, 1), { sync })()\n',
    tests: ['test/testing/crash.test.ts'],
  },
  {
    rule: 'a commit that takes numbers from a new block writes the SeqBlock record',
    file: 'src/log/commit.ts',
    from: '  const { ops: batch, link: nextLink } = toCommitBatch(delta, state.link)\n',
    to: '  const { ops: batch, link: nextLink } = toCommitBatch({ ...delta, seqBlock: O.none }, state.link)\n',
    tests: ['test/testing/crash.test.ts'],
  },
  {
    rule: 'a failed write stops the writer and keeps the allocator where it was',
    file: 'src/log/commit.ts',
    from: '    for (const r of group) r.settle(E.left(written.left))\n    stop(core, written.left)\n',
    to: '    for (const r of group) r.settle(E.left(written.left))\n    state.allocator = built.right.state\n',
    tests: ['test/testing/crash.test.ts'],
  },
  {
    rule: 'sync mode acknowledges an append only after its batch is synced',
    file: 'src/log/commit.ts',
    from: "  const sync = config.durability === 'sync' || flushes.length > 0 || O.isSome(delta.seqBlock)\n",
    to: '  const sync = flushes.length > 0\n',
    tests: ['test/testing/crash.test.ts'],
  },
  {
    rule: 'a retried conversion first removes what an interrupted one left',
    file: 'src/format/migrate.ts',
    from: '    await deleteRange(storage, V2, batchEntries)\n',
    to: '',
    tests: ['test/format/migrate.test.ts'],
  },
  {
    rule: 'a conversion is durable when it resolves, its clean-up included',
    file: 'src/format/migrate.ts',
    from: '    orThrow(await storage.write([], { sync: true })())\n    return E.right({ entries, commits',
    to: '    return E.right({ entries, commits',
    tests: ['test/format/migrate.test.ts'],
  },
  {
    rule: 'a cut is durable before anything is deleted',
    file: 'src/log/truncate.ts',
    from: '          sync: true,',
    to: '          sync: false,',
    tests: ['test/log/truncate.test.ts', 'test/log/faults.test.ts', 'test/storage/sync.test.ts'],
  },
  {
    rule: 'a cut anchors the chain at the last commit wholly below it',
    file: 'src/log/truncate.ts',
    from: '        anchor = { end: commit.end, checksum: commit.checksum.slice() }',
    to: '        anchor = current.anchor',
    tests: ['test/log/truncate.test.ts'],
  },
  {
    rule: "a fenced writer's write lands nothing",
    file: 'src/postgres/write.ts',
    from: "'allowed AS (SELECT 1 FROM fence WHERE value = $1), '",
    to: "'allowed AS (SELECT 1 FROM fence WHERE $1::text IS NOT NULL), '",
    tests: ['test/postgres/processes.test.ts'],
    needs: 'postgres',
  },
  {
    rule: 'a commit that changes the log notifies its channel',
    file: 'src/postgres/write.ts',
    from: "`(SELECT pg_notify('${channel}', '') FROM allowed WHERE $6) AS notified`",
    to: "'(SELECT 1 FROM allowed WHERE $6) AS notified'",
    tests: ['test/postgres/faults.test.ts'],
    needs: 'postgres',
  },
  {
    rule: 'an aborted verification stops at the next record',
    file: 'src/verify/findings.ts',
    from: "      stopIfAborted(signal, 'verify')\n",
    to: '',
    tests: ['test/verify/abort.test.ts'],
  },
  {
    rule: 'a verification whose signal aborted before reads nothing',
    file: 'src/verify/verify.ts',
    from: "VerifyReport>> => {\n  stopIfAborted(options.signal, 'verify')\n",
    to: 'VerifyReport>> => {\n',
    tests: ['test/verify/abort.test.ts'],
  },
]

// Each area's list lives in areas/, beside the others, so that they grow without meeting.
export const mutants: ReadonlyArray<Mutant> = [
  ...engine,
  ...rocksdb,
  ...postgres,
  ...cli,
  ...format,
  ...reads,
  ...readonly,
  ...upcast,
  ...conditions,
  ...examples,
  ...dcb,
  ...consumers,
  ...projections,
  ...checkprojection,
  ...esobserve,
  ...watchMutants,
  ...observe,
  ...rss,
  ...benchmarks,
]
