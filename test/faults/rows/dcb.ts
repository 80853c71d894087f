// Fault-matrix rows for tags, queries and conditional appends (see ../fault.ts).
import type { Fault } from '../fault.js'

export const faults: ReadonlyArray<Fault> = [
  {
    fault:
      'The process is killed, or the machine loses power, while conditional appends are being committed',
    storage: 'any',
    answer:
      'the reopened store holds every acknowledged durable append and no part of any other; the index of tags and types is written in the same commit as its events, so `verify` finds it in agreement with them',
    bound: 'the next open: nothing to rebuild',
    test: {
      file: 'test/eventstore/dcbModel.test.ts',
      name: 'agree on the crash-simulating storage, through process kills and power losses',
    },
  },
  {
    fault:
      'A batch of conditional appends whose conditions name more tags and types than the pool has connections, or a read by query with more of them than that',
    storage: 'PostgreSQL',
    answer:
      'decided and read as usual: a lookup in the index holds a connection only while it reads a page of postings, never while it waits for another',
    bound: 'no wait for the pool beyond one page read',
    test: {
      file: 'test/eventstore/dcb.test.ts',
      name: 'checks concurrent conditions of many tags, and reads a query of many types, on a pool of two',
    },
  },
]
