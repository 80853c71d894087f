// Mutants of the writer and readers, and the event store.
import type { Mutant } from '../mutant.js'

export const mutants: ReadonlyArray<Mutant> = [
  {
    rule: 'room freed admits every waiting append that fits, not only the first',
    file: 'src/log/admission.ts',
    from: 'while (waitingForRoom.length > 0) {',
    to: 'if (waitingForRoom.length > 0) {',
    tests: ['test/log/log.test.ts'],
  },
  {
    rule: "a reader's nextSequence is at least its truncation point",
    file: 'src/log/readOnlyWriter.ts',
    from: 'const end = (): number => Math.max(link.end, truncation.before)',
    to: 'const end = (): number => link.end',
    tests: ['test/log/readOnly.test.ts'],
  },
  {
    rule: "a writer's key scan skips a run whose commit its own truncation removed meanwhile",
    file: 'src/log/read.ts',
    from: 'if (run.firstSequence + run.count <= ctx.truncatedBefore()) continue',
    to: 'if (run.firstSequence + run.count < ctx.truncatedBefore()) continue',
    tests: ['test/log/truncate.test.ts'],
  },
  {
    rule: "a durable scan keeps its caller's to",
    file: 'src/log/bounded.ts',
    from: "visibility === 'durable' ? Math.min(to ?? Infinity, reads.writer.durableSequence()) : to",
    to: "visibility === 'durable' ? reads.writer.durableSequence() : to",
    tests: ['test/log/faults.test.ts'],
  },
  {
    rule: 'a follower takes its wake-up before it reads, so a commit during a read that finds nothing wakes it',
    file: 'src/log/follow.ts',
    from: 'if (!progressed) await Promise.race([wake, aborted])',
    to: 'if (!progressed) await Promise.race([changed.wait(), aborted])',
    tests: ['test/log/tail.test.ts'],
  },
  {
    rule: 'the hot tail holds exactly its entry limit',
    file: 'src/log/tail.ts',
    from: 'while (count > limits.entries || (bytes > limits.bytes && count > 0))',
    to: 'while (count >= limits.entries || (bytes > limits.bytes && count > 0))',
    tests: ['test/log/tail.test.ts'],
  },
  {
    rule: 'the hot tail holds exactly its byte limit',
    file: 'src/log/tail.ts',
    from: 'while (count > limits.entries || (bytes > limits.bytes && count > 0))',
    to: 'while (count > limits.entries || (bytes >= limits.bytes && count > 0))',
    tests: ['test/log/tail.test.ts'],
  },
]
