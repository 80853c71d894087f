// Fault-matrix rows for the postgres area (see ../fault.ts).
import type { Fault } from '../fault.js'

const timeouts = 'test/postgres/timeouts.test.ts'
const signals = 'test/cli/signals.test.ts'

export const faults: ReadonlyArray<Fault> = [
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
