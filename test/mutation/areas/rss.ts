// Mutants of what keeps a fast producer's memory flat: the bound on a commit's size (group.ts),
// and the batch check that allocates nothing for a well-formed operation (storage/port.ts).
import type { Mutant } from '../mutant.js'

const group = ['test/log/group.test.ts']
const port = ['test/storage/port.test.ts']

export const mutants: ReadonlyArray<Mutant> = [
  {
    rule: 'a commit takes appends only while their bytes stay within MAX_COMMIT_BYTES',
    file: 'src/log/group.ts',
    from: 'bytes > maxBytes ||',
    to: 'bytes > maxBytes * 4 ||',
    tests: group,
  },
  {
    rule: "a commit's bound counts the bytes of every append it took, not the last one's",
    file: 'src/log/group.ts',
    from: 'bytes += request.bytes',
    to: 'bytes = request.bytes',
    tests: group,
  },
  {
    rule: 'a commit takes appends only while their records stay within MAX_COMMIT_RECORDS',
    file: 'src/log/group.ts',
    from: '|| records > maxRecords)',
    to: '|| records > maxRecords * 4)',
    tests: group,
  },
  {
    rule: "a commit's bound counts the records of every append it took, not the last one's",
    file: 'src/log/group.ts',
    from: 'records += request.records.keys.length',
    to: 'records = request.records.keys.length',
    tests: group,
  },
  {
    rule: 'the default bound on a commit is 4096 records',
    file: 'src/log/group.ts',
    from: 'export const MAX_COMMIT_RECORDS = 4096',
    to: 'export const MAX_COMMIT_RECORDS = 1 << 20',
    tests: group,
  },
  {
    rule: 'an append larger than the bound alone still makes a commit of its own',
    file: 'src/log/group.ts',
    from: '      appends++\n',
    to: '      appends += request.bytes > maxBytes ? 0 : 1\n',
    tests: group,
  },
  {
    rule: 'the default bound on a commit is 1 MiB of records',
    file: 'src/log/group.ts',
    from: 'export const MAX_COMMIT_BYTES = 1 << 20',
    to: 'export const MAX_COMMIT_BYTES = 1 << 24',
    tests: group,
  },
  {
    rule: 'a truncation or placement is never taken into a group of appends',
    file: 'src/log/group.ts',
    from: "if (request.kind === 'truncate' || request.kind === 'place') return i",
    to: "if (request.kind === 'truncate') return i",
    tests: group,
  },
  {
    rule: 'a batch operation with an empty key is refused, not passed as well formed',
    file: 'src/storage/port.ts',
    from: '    key.length > 0 &&\n',
    to: '',
    tests: port,
  },
  {
    rule: 'a put without a byte value is refused, not passed as well formed',
    file: 'src/storage/port.ts',
    from: "(type === 'del' || isBytes(value))",
    to: "(type === 'del' || value !== undefined)",
    tests: port,
  },
  {
    rule: 'a batch operation whose fresh is no boolean is refused, not passed as well formed',
    file: 'src/storage/port.ts',
    from: "(fresh === undefined || typeof fresh === 'boolean')",
    to: 'true',
    tests: port,
  },
  {
    rule: 'a refused batch operation is named by its index',
    file: 'src/storage/port.ts',
    from: 'index < 0 ? where : `${where}[${index}]`',
    to: 'where',
    tests: port,
  },
]
