// One-line bugs that the suite must catch, each with the test files that guard against it. A
// mutant is a text replacement in one source file; `npm run test:mutants` applies each in a
// copy of the project and runs its guarding tests there, which must fail. The list is checked
// in every run (mutants.test.ts) so that a mutant that no longer applies is noticed at once.

export interface Mutant {
  /** The rule the bug breaks, as a failing test would name it. */
  readonly rule: string
  readonly file: string
  /** Text that occurs exactly once in `file`, and what it becomes. */
  readonly from: string
  readonly to: string
  /** The test files that must fail with the mutant in place. */
  readonly tests: ReadonlyArray<string>
}

export const mutants: ReadonlyArray<Mutant> = [
  {
    rule: 'a sync write reaches RocksDB with sync: true',
    file: 'src/storage/rocksdb.ts',
    from: 'binding.batch_do(db, ops, { sync }, cb)',
    to: 'binding.batch_do(db, ops, { sync: false }, cb)',
    tests: ['test/storage/sync.test.ts'],
  },
  {
    rule: 'an empty synced write still syncs',
    file: 'src/storage/rocksdb.ts',
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
    file: 'src/log/writer.ts',
    from: 'O.isSome(delta.seqBlock)\n    const written = await storage.write(batch, { sync })()',
    to: 'O.isSome(delta.seqBlock)\n    if (sync) durableEnd = built.right.state.nextSequence\n    const written = await storage.write(batch, { sync })()',
    tests: ['test/log/faults.test.ts'],
  },
  {
    rule: 'the durable watermark rises only after a flush synced',
    file: 'src/log/writer.ts',
    from: '    const targetLink = link\n    const synced = await storage.write([], { sync: true })()',
    to: '    const targetLink = link\n    durableEnd = Math.max(durableEnd, target)\n    const synced = await storage.write([], { sync: true })()',
    tests: ['test/log/faults.test.ts'],
  },
  {
    rule: 'an append that fills maxPendingBytes exactly does not wait',
    file: 'src/log/writer.ts',
    from: '(pendingBytes > 0 && pendingBytes + bytes > config.maxPendingBytes)',
    to: '(pendingBytes > 0 && pendingBytes + bytes >= config.maxPendingBytes)',
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
    rule: 'two spellings of one open directory are one writer',
    file: 'src/storage/directory.ts',
    from: 'if (claimed.has(real)) {',
    to: 'if (false) {',
    tests: ['test/log/opening.test.ts'],
  },
  {
    rule: 'only RocksDB lock conflicts are LOCKED',
    file: 'src/storage/rocksdb.ts',
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
    file: 'src/log/log.ts',
    from: '    if (owned > 0) {',
    to: '    if (owned < 0) {',
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
    file: 'src/log/writer.ts',
    from: '    config.onCommit?.(built.right.delta.segments, allocator.nextSequence)\n',
    to: '',
    tests: ['test/log/tail.test.ts'],
  },
  {
    rule: 'a follower behind the hot tail reads storage',
    file: 'src/log/log.ts',
    from: 'if (position >= hot.start()) {',
    to: 'if (position >= 0) {',
    tests: ['test/log/tail.test.ts'],
  },
  {
    rule: 'the hot tail is dropped when a failed write stops the writer',
    file: 'src/log/writer.ts',
    from: '    config.onStop?.()\n',
    to: '',
    tests: ['test/log/tail.test.ts'],
  },
  // The four broken writers the crash property must catch (DESIGN.md invariants 1–4).
  {
    rule: "a commit's SeqBlock record is written in the same batch as its entries",
    file: 'src/log/writer.ts',
    from: 'O.isSome(delta.seqBlock)\n    const written = await storage.write(batch, { sync })()\n',
    to:
      'O.isSome(delta.seqBlock)\n' +
      '    const apart = toCommitBatch({ ...delta, seqBlock: O.none }, link).ops\n' +
      '    let written = await storage.write(apart, { sync })()\n' +
      '    if (E.isRight(written) && O.isSome(delta.seqBlock))\n' +
      '      written = await storage.write(batch.slice(0, 1), { sync })()\n',
    tests: ['test/testing/crash.test.ts'],
  },
  {
    rule: 'a commit that takes numbers from a new block writes the SeqBlock record',
    file: 'src/log/writer.ts',
    from: '    const { ops: batch, link: nextLink } = toCommitBatch(delta, link)\n',
    to: '    const { ops: batch, link: nextLink } = toCommitBatch({ ...delta, seqBlock: O.none }, link)\n',
    tests: ['test/testing/crash.test.ts'],
  },
  {
    rule: 'a failed write stops the writer and keeps the allocator where it was',
    file: 'src/log/writer.ts',
    from: '      for (const r of group) r.settle(E.left(written.left))\n      stop(written.left)\n',
    to: '      for (const r of group) r.settle(E.left(written.left))\n      allocator = built.right.state\n',
    tests: ['test/testing/crash.test.ts'],
  },
  {
    rule: 'sync mode acknowledges an append only after its batch is synced',
    file: 'src/log/writer.ts',
    from: "    const sync = config.durability === 'sync' || flushes.length > 0 || O.isSome(delta.seqBlock)\n",
    to: '    const sync = flushes.length > 0\n',
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
]
