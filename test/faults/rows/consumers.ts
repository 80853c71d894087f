// Fault-matrix rows for durable consumers (see ../fault.ts).
import type { Fault } from '../fault.js'

const consumer = 'test/eventstore/consumer.test.ts'

export const faults: ReadonlyArray<Fault> = [
  {
    fault: "The process is killed while a consumer's handler has a batch in hand",
    storage: 'any',
    answer:
      'the restarted consumer hands that batch over again (at least once), then goes on; nothing below the saved checkpoint comes again, and the dead run’s late save lands nowhere',
    bound: 'one batch handled twice (`batch`, default 100 events)',
    test: {
      file: consumer,
      name: 'hands the batch in hand over again after a crash, and nothing below the checkpoint',
    },
  },
  {
    fault: "A consumer's handler keeps failing",
    storage: 'any',
    answer:
      "the run's `done` rejects with `HANDLER_FAILED`: the consumer's `name`, the batch's first `position` and last (`through`), the `attempts` and the handler's error as `cause`; the checkpoint stays before the batch, which the next run hands over first — no event is skipped",
    bound:
      '`retry.attempts` tries (default 5), the waits doubling from `retry.delayMs` (100 ms) up to `retry.maxDelayMs` (5 s): 1.5 s by default',
    test: {
      file: consumer,
      name: 'is retried with a doubling delay up to retry.attempts, then stops the run with HANDLER_FAILED',
    },
  },
  {
    fault: "An event store closes while a consumer's handler has a batch in hand",
    storage: 'any',
    answer:
      "`close()` waits for the handler, saves the batch's checkpoint, then closes; the run's `done` resolves",
    bound: 'as long as the handler takes: one that never resolves keeps `close()` waiting',
    test: {
      file: consumer,
      name: 'lets close wait for the batch in hand, and saves its checkpoint',
    },
  },
]
