// Fault-matrix rows for the postgres area (see ../fault.ts).
import type { Fault } from '../fault.js'
const timeouts = 'test/postgres/timeouts.test.ts'
const signals = 'test/cli/signals.test.ts'

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
  {
    fault: 'the server accepts connections and never answers: open (append, scan)',
    storage: 'PostgreSQL',
    answer: "`IO_ERROR`, `timeout: { waited: 'connect' }`; no connection left",
    bound: '`timeouts.connectMs` (default 10 s)',
    test: {
      file: timeouts,
      name: 'fails an open with IO_ERROR (timeout: connect) within connectMs, and leaves no connection',
    },
  },
  {
    fault: 'the server answers the startup, then nothing',
    storage: 'PostgreSQL',
    answer: "`IO_ERROR`, `timeout: { waited: 'query' }`, the statement's outcome unknown",
    bound: '`timeouts.queryMs` (default 30 s)',
    test: {
      file: timeouts,
      name: 'fails an open with IO_ERROR (timeout: query) within queryMs when the server answers the startup only',
    },
  },
  {
    fault: 'the server stops answering under an open log: scan, append, follow, close',
    storage: 'PostgreSQL',
    answer:
      "scan and append: `IO_ERROR`, `timeout: { waited: 'query' }` (or `'connect'`), then `WRITER_FAILED`; a follower ends when its log closes; `close()` resolves",
    bound: '`queryMs` per call; `close()`: `queryMs` + `connectMs`',
    test: {
      file: timeouts,
      name: 'fails scan and append within queryMs, stops the writer, ends a follower, and closes in bounded time',
    },
  },
  {
    fault:
      'every pooled connection held by an unfinished scan: the next scan, append, count, close',
    storage: 'PostgreSQL',
    answer: "`IO_ERROR`, `timeout: { waited: 'pool' }`; `close()` resolves",
    bound: '`timeouts.poolMs` (default 10 s)',
    test: {
      file: timeouts,
      name: 'fails the next scan, append and count with IO_ERROR (timeout: pool) within poolMs, and closes',
    },
  },
  {
    fault: '`deltalog follow` on a server that never answers, then SIGTERM (or SIGINT)',
    storage: 'PostgreSQL',
    answer: 'exit 143 (130), `deltalog: interrupted by SIGTERM`',
    bound: '1 s',
    test: {
      file: signals,
      name: 'ends follow waiting for a server that never answers, on SIGTERM',
    },
  },
  {
    fault: '`deltalog scan` on a server that never answers, then SIGINT',
    storage: 'PostgreSQL',
    answer: 'exit 130, `deltalog: interrupted by SIGINT`',
    bound: '1 s',
    test: { file: signals, name: 'ends scan waiting for a server that never answers, on SIGINT' },
  },
  {
    fault: '`deltalog append` waiting for the answer to a statement, then SIGINT',
    storage: 'PostgreSQL',
    answer: 'exit 130, `deltalog: interrupted by SIGINT`',
    bound: '1 s',
    test: { file: signals, name: 'ends append waiting for the answer to a statement, on SIGINT' },
  },
  {
    fault: '`deltalog follow` on a directory, then SIGINT',
    storage: 'RocksDB',
    answer: 'exit 0',
    bound: '1 s',
    test: { file: signals, name: 'ends follow on a directory cleanly on SIGINT' },
  },
  {
    fault: '`deltalog follow` on a table, then SIGINT',
    storage: 'PostgreSQL',
    answer: 'exit 0',
    bound: '1 s',
    test: { file: signals, name: 'ends follow on a PostgreSQL table cleanly on SIGINT' },
  },
  {
    fault: "a reader's LISTEN connection lost while commits land",
    storage: 'PostgreSQL',
    answer: 'every listener told once it listens again; nothing missed',
    bound: 'the reconnect: 50 ms, doubling up to 2 s',
    test: {
      file: 'test/postgres/notifier.test.ts',
      name: 'announces the commits made while it was down once it listens again',
    },
  },
]
