// Fault-matrix rows for event stores opened to read only (see ../fault.ts).
import type { Fault } from '../fault.js'

const readOnly = 'test/eventstore/readOnly.test.ts'

export const faults: ReadonlyArray<Fault> = [
  {
    fault:
      'A writer in another process deletes a stream that a read-only event store has read (its cache cannot see the delete)',
    storage: 'any',
    answer:
      "the reader's next read hides the stream's events: a reader keeps no stream state between calls, and a subscription forgets its states when its log moves",
    bound: 'the next read: nothing waits',
    test: {
      file: readOnly,
      name: "keeps no stream state: a writer's delete after the reader read the stream hides its events on the next read",
    },
  },
  {
    fault: 'A writer commits after a read-only event store opened its directory',
    storage: 'RocksDB',
    answer:
      'not seen: the reader reads the directory as it was when it opened, and its subscriptions wait after `caughtUp`; a new open sees the commits',
    bound: 'until the store is opened again',
    test: {
      file: readOnly,
      name: 'sees the directory as it was when it opened: later commits need a new open',
    },
  },
  {
    fault: "A read-only event store opened on a log that holds entries but not the store's marker",
    storage: 'any',
    answer: '`NOT_A_LOG`; nothing written',
    bound: 'one scan of one entry',
    test: {
      file: readOnly,
      name: "is NOT_A_LOG on a log that holds entries but no store's marker, and writes nothing",
    },
  },
]
