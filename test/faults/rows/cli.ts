// Fault-matrix rows for the cli area (see ../fault.ts).
import type { Fault } from '../fault.js'

const importFaults = 'test/cli/import.test.ts'

export const faults: ReadonlyArray<Fault> = [
  {
    fault:
      '`deltalog import` input with a bad line (bad JSON, a sequence out of order, a key or value over the limits) late in it',
    storage: 'any',
    answer:
      '`INVALID_ARGUMENT` naming the line (`field`: `stdin line N…`), exit code 2; nothing written or created',
    bound: 'one reading of the input, before any write',
    test: {
      file: 'test/cli/main.test.ts',
      name: 'imports all or nothing: a bad line late in the input writes nothing',
    },
  },
  {
    fault: 'a write fails part-way through `deltalog import` into a new or empty directory',
    storage: 'RocksDB',
    answer:
      "the write's error, saying that nothing was imported: the directory it created (or what it wrote in an empty one) removed",
    bound: 'when the failed write answers',
    test: {
      file: importFaults,
      name: 'removes the directory it created, and one it wrote into empty is empty again',
    },
  },
  {
    fault: 'a write fails part-way through `deltalog import` into an empty log that was there',
    storage: 'RocksDB',
    answer:
      "the write's error, naming the last line and sequence committed and advising `--resume`; the log holds exactly the entries up to them, and `import --resume` with the same input writes the rest (after checking that the log holds the input's first entries: otherwise `NOT_EMPTY`, nothing written)",
    bound: 'when the failed write answers',
    test: {
      file: importFaults,
      name: 'leaves a log that was there as far as it got, and says where it stopped',
    },
  },
  {
    fault:
      'a write fails part-way through `deltalog import` into a log that was there, and again in its `--resume`, which is then interrupted (SIGINT)',
    storage: 'RocksDB',
    answer:
      'each says where it stopped and advises `--resume`; the last `--resume` completes it, and the log equals a plain import of the same input',
    bound: 'when the failed write answers; one reading of the log and the input before writing',
    test: {
      file: importFaults,
      name: 'goes on where a failed or interrupted import into a log that was there stopped',
    },
  },
  {
    fault:
      '`deltalog import --resume` into a log that is not the start of its input (a changed value, an entry past the input, sequences handed out past the next)',
    storage: 'RocksDB',
    answer: '`NOT_EMPTY` saying where log and input part; nothing written',
    bound: 'one reading of the log and the input, before any write',
    test: {
      file: importFaults,
      name: 'refuses a log that is not the start of the input with NOT_EMPTY, and writes nothing',
    },
  },
  {
    fault: 'a write fails part-way through `deltalog import` into tables created by their owner',
    storage: 'PostgreSQL',
    answer:
      "the write's error, naming the last line and sequence committed and advising `--resume`; `import --resume` refuses a table that is not the start of the input (`NOT_EMPTY`) and completes one that is",
    bound: 'when the failed write answers',
    test: {
      file: importFaults,
      name: 'goes on where it stopped, and refuses a table that is not the start of the input',
    },
  },
  {
    fault: 'a write fails part-way through `deltalog import` into a new table',
    storage: 'PostgreSQL',
    answer:
      "the write's error, saying that nothing was imported: the two tables it created dropped",
    bound: 'when the failed write answers, then one `DROP TABLE`',
    test: { file: importFaults, name: 'drops the tables it created' },
  },
]
