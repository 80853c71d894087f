// Fault-matrix rows for the format area (see ../fault.ts).
import type { Fault } from '../fault.js'

// Decoding is pure: its answer comes before any further read.
const decoding = 'at once: a pure decode'
// verifyStorage reads each record once, in bounded memory.
const verifying = 'one pass over the log'

const codec = (file: string): string => `test/codec/${file}.test.ts`

export const faults: ReadonlyArray<Fault> = [
  {
    fault: 'a varint of 8 bytes whose value is past 2^53 − 1',
    storage: 'any',
    answer: '`CORRUPTION` from the record that holds it',
    bound: decoding,
    test: {
      file: codec('varint'),
      name: 'refuses 8 bytes whose value is past Number.MAX_SAFE_INTEGER, and reads the largest safe one',
    },
  },
  {
    fault: 'a run of 0 entries in a commit record',
    storage: 'any',
    answer: '`CORRUPTION`: `commit N: bad run`',
    bound: decoding,
    test: {
      file: codec('commit'),
      name: 'refuses a run with a count of 0, which encodeCommit never writes',
    },
  },
  {
    fault: 'a run of 0 entries in a format 1 commit index',
    storage: 'any',
    answer: '`CORRUPTION`: `commit index: bad run count`',
    bound: decoding,
    test: {
      file: 'test/format/v1/commitIndex.test.ts',
      name: 'refuses a run with a count of 0, which encodeRuns never writes',
    },
  },
  {
    fault: 'a run record with a count of 0, or bytes after its values',
    storage: 'any',
    answer: '`CORRUPTION`',
    bound: decoding,
    test: {
      file: codec('commit'),
      name: 'refuses an unknown form, a zero count and bytes after the values',
    },
  },
  {
    fault: 'bytes after the pointer of a run record that points into its commit',
    storage: 'any',
    answer: '`CORRUPTION`: `run N: bad pointer into its commit`',
    bound: decoding,
    test: {
      file: codec('commit'),
      name: 'refuses bytes after a pointer into the commit, and a pointer into its 40-byte header',
    },
  },
  {
    fault: "a run pointer into its commit record's 40-byte header",
    storage: 'any',
    answer: '`CORRUPTION`: `run points outside the values of its commit`',
    bound: decoding,
    test: {
      file: codec('commit'),
      name: 'refuses bytes after a pointer into the commit, and a pointer into its 40-byte header',
    },
  },
  {
    fault: 'a truncation record whose anchor is past its cut',
    storage: 'any',
    answer: '`CORRUPTION`: `the truncation anchor is past its cut`',
    bound: decoding,
    test: { file: codec('truncation'), name: 'refuses an anchor past its cut' },
  },
  {
    fault: 'a commit changed after a hole in the chain',
    storage: 'any',
    answer: 'verify: the hole, and `the commit at N was changed`',
    bound: verifying,
    test: {
      file: 'test/verify/chain.test.ts',
      name: 'finds a changed commit after a hole: the commit that revealed the hole anchors it',
    },
  },
  {
    fault: "a commit's `prevEnd` changed, nothing else",
    storage: 'any',
    answer: 'verify: `the commit at N was changed` (not missing commits)',
    bound: verifying,
    test: {
      file: 'test/verify/chain.test.ts',
      name: 'reports a changed previous end as a changed commit, not as missing commits',
    },
  },
  {
    fault: "a recorded head forged at the truncation anchor's end",
    storage: 'any',
    answer: 'verify: `the log was rewritten: its chain at N is not the recorded head`',
    bound: verifying,
    test: {
      file: 'test/verify/chain.test.ts',
      name: 'checks a truncated log from the anchor its truncation kept',
    },
  },
  {
    fault: 'a crash between a truncation and its deletions (records left below the cut)',
    storage: 'any',
    answer: 'verify: no violation, the leftovers are hidden',
    bound: verifying,
    test: {
      file: 'test/verify/store.test.ts',
      name: 'passes a truncation marked but not yet removed: its leftovers are no damage',
    },
  },
  {
    fault: 'a stray key `02 01 xx` beside the SeqBlock',
    storage: 'any',
    answer: 'verify: `key 0201… is no record deltalog writes`',
    bound: verifying,
    test: {
      file: 'test/verify/store.test.ts',
      name: 'reports a stray key beside the SeqBlock record',
    },
  },
  {
    fault: 'an event store truncated past its `$eventstore` marker, then a revision skipped',
    storage: 'any',
    answer:
      'verify: `revisions are not dense` (the cut keeps the marker; revisions from the cut on)',
    bound: verifying,
    test: {
      file: 'test/verify/verify.test.ts',
      name: 'checks an event store cut past its marker, from the cut on',
    },
  },
  {
    fault: 'a power loss right after a rerun removed format 1 leftovers',
    storage: 'any',
    answer: 'the leftovers stay removed: the removal is synced before it resolves',
    bound: 'as the conversion',
    test: {
      file: 'test/format/migrate.test.ts',
      name: 'removes the format 1 records an interrupted conversion left, durably',
    },
  },
]
