// Fault-matrix rows for the event store's index of tags and types (see ../fault.ts).
import type { Fault } from '../fault.js'

const index = 'test/eventstore/index.test.ts'

export const faults: ReadonlyArray<Fault> = [
  {
    fault:
      'A writer opens a store written before the index of tags and types, and the disk fails part-way through indexing it',
    storage: 'any',
    answer:
      'the open rejects with the storage error; the next writer open goes on after the last commit of postings, indexing no event twice',
    bound: 'the storage error; then one pass over the events not yet indexed',
    test: {
      file: index,
      name: 'goes on where an interrupted indexing stopped, indexing no event twice',
    },
  },
  {
    fault: 'A read-only store reads by query a store written before the index, not yet indexed',
    storage: 'any',
    answer:
      '`MIGRATION_NEEDED`, saying that a writer that opens the store builds the index; other reads work',
    bound: 'at once',
    test: {
      file: index,
      name: 'is not indexed by a read-only open, whose reads by query say what to do',
    },
  },
  {
    fault: 'An entry of the index is lost, added or altered behind the store’s back',
    storage: 'any',
    answer:
      '`deltalog verify` / `verifyStorage` report that the index of tags (or types) disagrees with the events, with the counts',
    bound: 'one pass over the log',
    test: {
      file: index,
      name: 'finds a posting of an event that is not there, or of another type or tags',
    },
  },
  {
    fault:
      'A read-only store on PostgreSQL with a pool of four runs two subscriptions and a read at once (each open scan holds a connection, and a read looks up stream states as it goes)',
    storage: 'PostgreSQL',
    answer:
      'every read answers: the store’s reads hold no scan between their steps (before, they could take every connection and wait for one until `IO_ERROR` after `poolMs`), and a condition walks its tags a page at a time',
    bound: 'as the calls themselves',
    test: {
      file: 'test/postgres/eventStoreReader.test.ts',
      name: "subscribes to the writer's events and gets each once, in order, woken by NOTIFY",
    },
  },
]
