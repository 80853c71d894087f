// Fault-matrix rows for the rocksdb area (see ../fault.ts).
import type { Fault } from '../fault.js'

const corruption = 'test/storage/corruption.test.ts'
const opening = 'test/log/opening.test.ts'

export const faults: ReadonlyArray<Fault> = [
  {
    fault:
      'random bytes flipped in any file of a closed log (tables, write-ahead log, MANIFEST, CURRENT, OPTIONS, mark)',
    storage: 'RocksDB',
    answer:
      '`verify`, `export`, `stats` and a scan each end with a result (a `verify` report of violations included), `CORRUPTION` or `IO_ERROR`; the process lives and exits cleanly',
    bound: '10 s each (measured: well under 1 s on a small log)',
    test: {
      file: corruption,
      name: 'answers verify, export, stats and scan within 10 s with a result, CORRUPTION or IO_ERROR, and the process survives',
    },
  },
  {
    fault: 'a flipped byte in a table file (`.sst`) of a closed log',
    storage: 'RocksDB',
    answer: '`CORRUPTION` naming the table, at open, before the binding reads it; no file changed',
    bound:
      'one read of each table that is new or changed since a writer recorded it as checked (226 MB of tables: about 0.5 s; a reopen that reads none: about 20 ms)',
    test: {
      file: 'test/storage/tables.test.ts',
      name: 'refuses to open a store whose table is damaged, with CORRUPTION, changing no file',
    },
  },
  {
    fault:
      'a table damaged after it was checked and recorded (bit rot: its size, inode and times unchanged), then `verify`',
    storage: 'RocksDB',
    answer:
      '`verifyStorage` and `deltalog verify` read every table whatever the record says: `CORRUPTION` naming the table, before any record is read',
    bound: 'one read of every table (about 0.5 s for 226 MB)',
    test: {
      file: 'test/storage/tableRecord.test.ts',
      name: 'verify reads every table, one the record vouches for included, and finds bit rot',
    },
  },
  {
    fault:
      'a table rewritten with a changed byte, its size and modification time set back, in a closed log',
    storage: 'RocksDB',
    answer:
      '`CORRUPTION` at open: its status-change time differs from the record, so the table is read again; no file changed',
    bound: 'one read of that table',
    test: {
      file: 'test/storage/tableRecord.test.ts',
      name: 'a table rewritten with another byte, its size and modification time kept, is read again: CORRUPTION',
    },
  },
  {
    fault: 'a table damaged under an open store (the binding fails a step of an iteration)',
    storage: 'RocksDB',
    answer:
      '`CORRUPTION` from the scan, `for await` included; the iteration ends at once and the store closes (a store whose iteration yielded nothing keeps its handle until exit: a later writer in this process is `LOCKED`, told to restart)',
    bound: 'the read that meets the damage; no wait',
    test: {
      file: corruption,
      name: 'ends a failed iteration at once, closes the store, and the process exits cleanly',
    },
  },
  {
    fault: 'a writable open of a log in on-disk format 1',
    storage: 'RocksDB',
    answer: '`MIGRATION_NEEDED`, decided on a read-only view: no file changed, no mark added',
    bound: 'one read-only open of the log',
    test: {
      file: opening,
      name: 'are refused with MIGRATION_NEEDED, untouched, until converted; then read, verify and append',
    },
  },
  {
    fault: 'a writable open of a damaged log (its format record or state does not decode)',
    storage: 'RocksDB',
    answer: '`CORRUPTION`, decided on a read-only view: no file changed',
    bound: 'one read-only open of the log',
    test: {
      file: opening,
      name: 'a damaged log is CORRUPTION to a writer, which changes no file first',
    },
  },
  {
    fault: "a read-only open of another program's RocksDB database",
    storage: 'RocksDB',
    answer: '`NOT_A_LOG`; no file changed',
    bound: 'one read-only open of the database',
    test: {
      file: opening,
      name: 'a RocksDB database with %s is NOT_A_LOG, to a writer and a reader',
    },
  },
  {
    fault:
      'bytes that still decode change in a table under an open store (bit rot while it runs; identity unchanged)',
    storage: 'RocksDB',
    answer:
      'reads return the bytes as they now are, with no error (the binding reads data blocks unchecked); `verifyStorage`, in the same process too, reads every table first: `CORRUPTION`',
    bound: 'verify: one read of every table',
    test: {
      file: 'test/storage/tableRecord.test.ts',
      name: 'verify in the process where a table passed reads it again, and finds bit rot',
    },
  },
  {
    fault:
      'the newest write-ahead log records, synced and acknowledged, damaged on the disk after the log closed',
    storage: 'RocksDB',
    answer:
      'not detected: RocksDB recovery takes them for a torn tail and drops them; `verify` passes, and their sequences are handed out again (durability assumes a disk that keeps what it synced)',
    bound: 'the open',
    test: {
      file: 'test/verify/wal.test.ts',
      name: 'drops, with no error, a synced commit whose write-ahead log record rotted after close',
    },
  },
  {
    fault: 'a damaged CURRENT file, or a lost MANIFEST (the database misses a file of its own)',
    storage: 'RocksDB',
    answer: '`CORRUPTION` at open, for readers and writers; nothing changed',
    bound: 'the open',
    test: {
      file: 'test/storage/rocksdb.test.ts',
      name: 'refuses a database whose CURRENT names no MANIFEST as CORRUPTION, changing nothing',
    },
  },
]
