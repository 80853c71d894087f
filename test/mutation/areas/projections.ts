// Mutants of inline projections (their one commit of documents and state, the guard, rebuilds)
// and of snapshots.
import type { Mutant } from '../mutant.js'

const projection = ['test/eventstore/projection.test.ts']
const snapshots = ['test/eventstore/snapshots.test.ts']

export const mutants: ReadonlyArray<Mutant> = [
  {
    rule: "a projection's documents are written in the commit of its state, not one before",
    file: 'src/eventstore/projection.ts',
    from: '  records.push({ key: stateKey(fold.name), value: stateValue })\n',
    to:
      "  await store.target.submit({ kind: 'records', records: records.splice(0) })\n" +
      '  records.push({ key: stateKey(fold.name), value: stateValue })\n',
    tests: projection,
  },
  {
    rule: "a projection's state names the last event of its batch",
    file: 'src/eventstore/projection.ts',
    from: 'const position = switching ? through - 1 : (last as ReadEvent).position',
    to: 'const position = switching ? through - 1 : (events[0] as ReadEvent).position',
    tests: projection,
  },
  {
    rule: 'events of one key in one batch fold into one document',
    file: 'src/eventstore/folding.ts',
    from: '      document = changed.has(k)\n',
    to: '      document = false\n',
    tests: projection,
  },
  {
    rule: "a rebuild keeps its documents in its own lane's cache, not the serving one's",
    file: 'src/eventstore/projection.ts',
    from: 'for (const [k, document] of changed) remember(lane, k, document)',
    to: 'for (const [k, document] of changed) remember(live, k, document)',
    tests: projection,
  },
  {
    rule: "a rebuild writes its documents under its own version, not the serving one's",
    file: 'src/eventstore/projection.ts',
    from: 'key: documentKey(fold.name, next.version, k),',
    to: 'key: documentKey(fold.name, lanes.live.lane.version, k),',
    tests: projection,
  },
  {
    rule: 'a rebuild level with the serving version switches in that commit',
    file: 'src/eventstore/projection.ts',
    from: 'const switching = isRebuild && through - 1 >= lanes.live.lane.position',
    to: 'const switching = isRebuild && through - 1 > lanes.live.lane.position',
    tests: projection,
  },
  {
    rule: 'a rebuild interrupted by a stop goes on at the next run',
    file: 'src/eventstore/projection.ts',
    from: 'initial.rebuilding === undefined ? undefined : folding(initial.rebuilding, false)',
    to: 'undefined',
    tests: projection,
  },
  {
    rule: 'a throwing evolve or key stops the projection',
    file: 'src/eventstore/folding.ts',
    from: '      return failed(cause)\n',
    to: '      continue\n',
    tests: projection,
  },
  {
    rule: 'a document that is not JSON stops the projection',
    file: 'src/eventstore/folding.ts',
    from: 'if (document !== undefined && !isJson(document)) {',
    to: 'if (false) {',
    tests: projection,
  },
  {
    rule: "a position is checked against the head only of the events' own log",
    file: 'src/eventstore/projection.ts',
    from: '...(position >= 0 && store.target.sameLog ? { below: position } : {}),',
    to: '...(position >= 0 ? { below: position } : {}),',
    tests: projection,
  },
  {
    rule: 'a scan of documents skips removed ones',
    file: 'src/eventstore/documents.ts',
    from: 'if (document !== undefined && text.startsWith(prefix)) {',
    to: 'if (text.startsWith(prefix)) {',
    tests: projection,
  },
  {
    rule: 'a guarded write is refused unless its key holds what its writer last saw (FENCED)',
    file: 'src/eventstore/plan.ts',
    from: 'if (draft.guarded.get(guard.key) !== guard.expected) return',
    to: 'if (false) return',
    tests: projection,
  },
  {
    rule: 'a guarded write sees what an earlier request of its batch wrote to the key',
    file: 'src/eventstore/plan.ts',
    from: 'for (const r of records) if (r.key === guard.key) draft.guarded.set(r.key, TEXT.decode(r.value))',
    to: 'for (const r of records) if (r.key === guard.key) void TEXT.decode(r.value)',
    tests: projection,
  },
  {
    rule: 'records naming a position at or past the head are refused',
    file: 'src/eventstore/plan.ts',
    from: 'if (below !== undefined && below >= draft.known.head) {',
    to: 'if (false) {',
    tests: projection,
  },
  {
    rule: 'the writer loads the newest value of every guarded key',
    file: 'src/eventstore/writer.ts',
    from: "if (r.kind === 'records' && r.guard !== undefined) guards.add(r.guard.key)",
    to: "if (r.kind === 'records' && r.guard === undefined) guards.add('')",
    tests: projection,
  },
  {
    rule: 'a record the log refuses fails its records request alone',
    file: 'src/eventstore/writer.ts',
    from: '          refusedRecord(requests, planned.records, value)\n',
    to: '          undefined\n',
    tests: [...projection, ...snapshots],
  },
  {
    rule: 'a snapshot of another version is ignored',
    file: 'src/eventstore/snapshots.ts',
    from: '    stored.version === version &&\n',
    to: '',
    tests: snapshots,
  },
  {
    rule: 'a snapshot taken before the stream was deleted is ignored',
    file: 'src/eventstore/snapshots.ts',
    from: '    stored.deletedBefore === stream.deletedBefore &&\n',
    to: '',
    tests: snapshots,
  },
  {
    rule: 'a fold from a snapshot during which the stream was deleted is done again',
    file: 'src/eventstore/snapshots.ts',
    from: 'if (usable !== undefined && (await loadState(ctx, id)).deletedBefore !== stream.deletedBefore) {',
    to: 'if (false) {',
    tests: snapshots,
  },
  {
    rule: 'a snapshot is stored once `every` events were folded past the last one',
    file: 'src/eventstore/snapshots.ts',
    from: 'last - base >= every',
    to: 'last - base > every',
    tests: snapshots,
  },
  {
    rule: 'a read-only store writes no snapshot',
    file: 'src/eventstore/store.ts',
    from: 'readOnly ? undefined : submit, streamId, options)',
    to: 'submit, streamId, options)',
    tests: snapshots,
  },
  {
    rule: 'a version begun by this run reads from the log no document it has written',
    file: 'src/eventstore/folding.ts',
    from: 'lane.written !== undefined && !lane.written.has(k)',
    to: 'lane.written !== undefined',
    tests: projection,
  },
  {
    rule: 'a version begun by an earlier run reads its documents from the log',
    file: 'src/eventstore/projection.ts',
    from: 'live: folding(initial.active, initialText === undefined),',
    to: 'live: folding(initial.active, true),',
    tests: projection,
  },
]
