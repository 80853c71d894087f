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
      "the write's error, naming the last line and sequence committed; the log holds exactly the entries up to them",
    bound: 'when the failed write answers',
    test: {
      file: importFaults,
      name: 'leaves a log that was there as far as it got, and says where it stopped',
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
