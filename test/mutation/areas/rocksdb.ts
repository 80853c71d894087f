// Mutants of the RocksDB adapter: corruption, opening, key listing.
import type { Mutant } from '../mutant.js'

export const mutants: ReadonlyArray<Mutant> = [
  {
    rule: 'a failed iteration is ended by seeking back to its last key, not by a plain end',
    file: 'src/storage/rocksdbIterator.ts',
    from: 'failure === undefined ? endNative(binding, native) : recover(binding, native, last),',
    to: 'endNative(binding, native),',
    tests: ['test/storage/corruption.test.ts'],
  },
  {
    rule: 'an iteration that failed before yielding a key is stranded, never ended',
    file: 'src/storage/rocksdbIterator.ts',
    from: 'if (last === undefined) return false',
    to: 'if (last === undefined) return endNative(binding, native)',
    tests: ['test/storage/corruption.test.ts'],
  },
  {
    rule: 'the process exits before Node.js finalizes a parked database',
    file: 'src/storage/rocksdbStranded.ts',
    from: '  process.exit(code)',
    to: '  process.exitCode = code',
    tests: ['test/storage/corruption.test.ts'],
  },
  {
    rule: 'every data block of a table is checked, not only the first',
    file: 'src/storage/rocksdbTables.ts',
    from: 'for (const data of blockHandles(await contents(footer.index), footer.formatVersion >= 4)) {',
    to: 'for (const data of blockHandles(await contents(footer.index), footer.formatVersion >= 4).slice(0, 1)) {',
    tests: ['test/storage/tables.test.ts'],
  },
  {
    rule: "an existing database's tables are checked before the binding opens it",
    file: 'src/storage/rocksdb.ts',
    from: 'const tables = how.create ? E.right(undefined) : await checkTables(path)',
    to: 'const tables = E.right(undefined)',
    tests: ['test/storage/tables.test.ts', 'test/storage/corruption.test.ts'],
  },
  {
    rule: "a reader refuses another program's RocksDB database with NOT_A_LOG",
    file: 'src/storage/rocksdb.ts',
    from: 'return E.isLeft(recognised) ? recognised : E.left(refused)',
    to: 'return E.isLeft(recognised) ? recognised : view',
    tests: ['test/log/opening.test.ts'],
  },
  {
    rule: "missing parent directories are made with the log directory's mode",
    file: 'src/storage/directory.ts',
    from: 'await makeDirectory(dirname(path), mode)',
    to: 'await makeDirectory(dirname(path), 0o777)',
    tests: ['test/log/opening.test.ts'],
  },
  {
    rule: "a log's writer checks an existing store on a read-only view before opening it to write",
    file: 'src/storage/logDirectory.ts',
    from: 'if (!readOnly && options.check !== undefined) {',
    to: 'if (readOnly && options.check !== undefined) {',
    tests: ['test/log/opening.test.ts'],
  },
  {
    rule: 'the commands that append check the log on a read-only view first',
    file: 'src/cli/store.ts',
    from: 'const options = create ? { create, check: refusesToWrite } : { create }',
    to: 'const options = { create }',
    tests: ['test/cli/main.test.ts'],
  },
  {
    rule: "a key listing seeks past a listed key's remaining runs",
    file: 'src/log/keys.ts',
    from: 'if (current.listed) return { gte: runRange(current.key).lt }',
    to: 'if (current.listed) return { gt: at }',
    tests: ['test/log/keys.test.ts'],
  },
  {
    rule: 'a key listing leaves out a key whose last entry is just below the truncation point',
    file: 'src/log/keys.ts',
    from: 'if (end <= ctx.truncatedBefore()) return false',
    to: 'if (end < ctx.truncatedBefore()) return false',
    tests: ['test/log/read.test.ts', 'test/log/keys.test.ts'],
  },
]
