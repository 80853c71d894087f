// Fault-matrix rows for the postgres area (see ../fault.ts).
import type { Fault } from '../fault.js'

const ownership = 'test/postgres/ownership.test.ts'

export const faults: ReadonlyArray<Fault> = [
  {
    fault:
      'A table deltalog did not create (no `_meta`, a foreign `_meta`, or one without the mark)',
    storage: 'PostgreSQL',
    answer: '`NOT_A_LOG`, to writers and readers; nothing created, changed or deleted',
    bound: 'three queries, no write',
    test: {
      file: ownership,
      name: 'is NOT_A_LOG to writers and readers, and nothing is created, changed or deleted',
    },
  },
  {
    fault: "A log's `_meta` kept, its table dropped",
    storage: 'PostgreSQL',
    answer: '`CORRUPTION`; nothing created',
    bound: 'three queries, no write',
    test: {
      file: ownership,
      name: 'opens a log whose _meta an earlier deltalog wrote, and refuses one whose table is gone',
    },
  },
  {
    fault: "Creating a new log's tables fails halfway (its name taken by a type)",
    storage: 'PostgreSQL',
    answer: "`IO_ERROR` with the server's message; nothing left behind (one transaction)",
    bound: 'one transaction',
    test: { file: ownership, name: 'leaves nothing behind when it fails halfway' },
  },
  {
    fault: 'Two first opens of a new table at the same moment',
    storage: 'PostgreSQL',
    answer: 'both open (the later takes the log over); never a raw `23505`',
    bound: "the other open's creating transaction",
    test: {
      file: ownership,
      name: 'both succeed, the later taking the log over, never a raw error',
    },
  },
  {
    fault: 'A table name that does not fit 63 bytes with `_meta` (over 58 bytes; a schema over 63)',
    storage: 'PostgreSQL',
    answer: '`INVALID_ARGUMENT` (`table`), naming the limit in bytes',
    bound: 'before any connection',
    test: {
      file: ownership,
      name: 'is INVALID_ARGUMENT naming the limit in bytes, before any connection',
    },
  },
  {
    fault: 'A writer role without `CREATE` on the schema, on tables made for it (docs recipe)',
    storage: 'PostgreSQL',
    answer: 'opens, writes, takes over and reads; creates nothing',
    bound: 'as any open',
    test: {
      file: 'test/postgres/privileges.test.ts',
      name: 'lets its role write, take over and read a log on the tables made for it',
    },
  },
]
