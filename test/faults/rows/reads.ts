// Fault-matrix rows for the reads area (see ../fault.ts).
import type { Fault } from '../fault.js'

export const faults: ReadonlyArray<Fault> = [
  {
    fault: "An event store's delete is written but reported failed (the acknowledgement is lost)",
    storage: 'any',
    answer:
      '`deleteStream` rejects with `IO_ERROR`; reads then hide the stream, as storage holds it (no stale cached state, also for a read in flight); later writes get `WRITER_FAILED`',
    bound: "the write's own time: nothing waits",
    test: {
      file: 'test/eventstore/store.test.ts',
      name: 'leaves no stale stream state: reads show the delete that landed',
    },
  },
]
