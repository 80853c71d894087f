// Mutants of tags, queries and conditional appends: the condition check, the index of tags and
// types, and verify's check of it.
import type { Mutant } from '../mutant.js'

const model = 'test/eventstore/dcbModel.test.ts'
const dcb = 'test/eventstore/dcb.test.ts'
const index = 'test/eventstore/index.test.ts'

export const mutants: ReadonlyArray<Mutant> = [
  {
    rule: 'a condition counts only the events above its after, not the one at it',
    file: 'src/eventstore/lookup.ts',
    from: 'const from = after === undefined ? 0 : after + 1',
    to: 'const from = after === undefined ? 0 : after',
    tests: [model, dcb],
  },
  {
    rule: 'a walk of postings starts at its first position, inclusive',
    file: 'src/eventstore/postings.ts',
    from: 'if (p.position >= from) yield p',
    to: 'if (p.position > from) yield p',
    tests: [model],
  },
  {
    rule: 'a walk of postings stops below its end, exclusive',
    file: 'src/eventstore/postings.ts',
    from: 'if (to !== undefined && p.position >= to) return',
    to: 'if (to !== undefined && p.position > to) return',
    tests: [model],
  },
  {
    rule: 'a condition with after at the head of the log is refused',
    file: 'src/eventstore/plan.ts',
    from: 'condition.after >= draft.known.head',
    to: 'condition.after > draft.known.head',
    tests: [dcb],
  },
  {
    rule: "an item matches an event that has all of the item's tags, not any of them",
    file: 'src/eventstore/query.ts',
    from: 'item.tags.every((t) => tags.includes(t))',
    to: '(item.tags.length === 0 || item.tags.some((t) => tags.includes(t)))',
    tests: [model, dcb],
  },
  {
    rule: "the index is written in the same commit as the batch's events",
    file: 'src/eventstore/writer.ts',
    from: 'await streams.log.append(planned.records)',
    to: 'await streams.log.append(planned.records.filter((r) => !/^[ty]\\//.test(r.key))).then(async (a) => (await streams.log.append(planned.records.filter((r) => /^[ty]\\//.test(r.key))), a))',
    tests: [model],
  },
  {
    rule: 'a posting lists an event by its distance back from the posting',
    file: 'src/eventstore/postings.ts',
    from: '.map((e) => entry(e, at - e.record))',
    to: '.map((e) => entry(e, at - e.record - 1))',
    tests: [model, index],
  },
  {
    rule: 'a condition fails on a match written by an earlier request of the same batch',
    file: 'src/eventstore/plan.ts',
    from: '(stored !== undefined || inBatch !== undefined)',
    to: '(stored !== undefined)',
    tests: [model, dcb],
  },
  {
    rule: 'a condition fails on a stored match',
    file: 'src/eventstore/plan.ts',
    from: '(stored !== undefined || inBatch !== undefined)',
    to: '(inBatch !== undefined)',
    tests: [model, dcb],
  },
  {
    rule: "a condition refused by a match of its batch names that event's position",
    file: 'src/eventstore/writer.ts',
    from: 'settle(E.left(conditionFailed(start + inBatch, outcome.left.after)))',
    to: 'settle(E.left(conditionFailed(start + inBatch + 1, outcome.left.after)))',
    tests: [model, dcb],
  },
  {
    rule: "an item with types and tags matches a tag's posting of one of its types only",
    file: 'src/eventstore/lookup.ts',
    from: 'matchesItem(item, p.type, p.tags ?? [])',
    to: 'matchesItem({ ...item, types: undefined }, p.type, p.tags ?? [])',
    tests: [model, dcb],
  },
  {
    rule: 'a read by query yields an event matching several items once',
    file: 'src/eventstore/lookup.ts',
    from: '      if (last !== undefined && order(pick.value) === last) continue\n',
    to: '',
    tests: [model, dcb],
  },
  {
    rule: 'a read by query merges the walks of its items in ascending position',
    file: 'src/eventstore/lookup.ts',
    from: 'order(head.value) < order(pick.value)',
    to: 'order(head.value) > order(pick.value)',
    tests: [model, dcb],
  },
  {
    rule: 'a walk of postings reads every page of its key',
    file: 'src/eventstore/postings.ts',
    from: 'if (last === undefined || page.length < size) return',
    to: 'if (last === undefined || page.length <= size) return',
    tests: [index],
  },
  {
    rule: 'indexing an older store goes on from the progress it saved',
    file: 'src/eventstore/indexing.ts',
    from: '  return decoded.right.below\n',
    to: '  return 0\n',
    tests: [index],
  },
  {
    rule: "verify takes each posting away from the events' digest",
    file: 'src/eventstore/verifyIndex.ts',
    from: 'tags.add(tagPart(name, p.position, p.type, p.tags ?? []), -1)',
    to: 'tags.add(tagPart(name, p.position, p.type, p.tags ?? []), 1)',
    tests: [model, index],
  },
  {
    rule: 'verify compares what the postings say of each event, not only how many there are',
    file: 'src/eventstore/verifyIndex.ts',
    from: 'return this.count === 0 && this.low === 0 && this.high === 0',
    to: 'return this.count === 0',
    tests: [index],
  },
]
