// Mutants of the command line: imports, appends, verify.
import type { Mutant } from '../mutant.js'

const importer = 'src/cli/commands/import.ts'

export const mutants: ReadonlyArray<Mutant> = [
  {
    rule: 'import checks every line against the log limits before it writes any',
    file: importer,
    from: 'const refused = validatePlaced([entry], DEFAULTS)',
    to: 'const refused = validatePlaced([], DEFAULTS)',
    tests: ['test/cli/main.test.ts'],
  },
  {
    rule: 'import writes nothing when a line late in its input is bad',
    file: importer,
    from: 'if (E.isLeft(placed)) return placed',
    to: 'if (E.isLeft(placed)) break',
    tests: ['test/cli/main.test.ts'],
  },
  {
    rule: 'a failed import removes what it wrote in a directory that was empty',
    file: importer,
    from: "if (before === 'kept') return",
    to: "if (before !== 'missing') return",
    tests: ['test/cli/import.test.ts'],
  },
  {
    rule: 'a failed import empties a directory that was empty and keeps it',
    file: 'src/cli/store.ts',
    from: "if (before === 'missing') {",
    to: "if (before !== 'kept') {",
    tests: ['test/cli/import.test.ts'],
  },
  {
    rule: 'a failed import into a log names the last line it committed',
    file: importer,
    from: 'after = chunk.at(-1)',
    to: 'after = chunk[0]',
    tests: ['test/cli/import.test.ts'],
  },
  {
    rule: 'import into a new PostgreSQL table creates it',
    file: 'src/cli/store.ts',
    from: "? E.right('missing')",
    to: '? looked',
    tests: ['test/cli/import.test.ts'],
    needs: 'postgres',
  },
  {
    rule: 'a failed import into a new PostgreSQL table drops both its tables',
    file: 'src/postgres/drop.ts',
    from: 'DROP TABLE IF EXISTS ${data}, ${meta}',
    to: 'DROP TABLE IF EXISTS ${data}',
    tests: ['test/cli/import.test.ts'],
    needs: 'postgres',
  },
  {
    rule: 'a string value with a lone surrogate is refused, not stored as U+FFFD',
    file: 'src/log/validate.ts',
    from: "typeof givenValue === 'string' && !isWellFormed(givenValue)",
    to: "typeof givenValue === 'string' && !isWellFormed(givenValue.toWellFormed())",
    tests: ['test/log/log.test.ts'],
  },
  {
    rule: 'an NDJSON line with a lone surrogate in its key or value is refused',
    file: 'src/cli/lines.ts',
    from: 'return isWellFormed(text)',
    to: 'return isWellFormed(text.toWellFormed())',
    tests: ['test/cli/lines.test.ts'],
  },
  {
    rule: 'append with empty stdin opens and creates nothing',
    file: 'src/cli/commands/append.ts',
    from: 'if (records.right.length === 0) {',
    to: 'if (records.right.length < 0) {',
    tests: ['test/cli/main.test.ts'],
  },
  {
    rule: 'a recorded head that no commit ends at is reported as no head of the log',
    file: 'src/verify/chain.ts',
    from: "problems.push({ kind: 'notAHead', sequence: head.end,",
    to: "problems.push({ kind: 'rewritten', sequence: head.end,",
    tests: ['test/verify/chain.test.ts'],
  },
  {
    rule: 'an event too large for the log is refused naming its own field',
    file: 'src/eventstore/writer.ts',
    from: "const write = request.single === true ? '' : `writes[${place.write}].`",
    to: "const write = request.single === true ? 'records.' : `writes[${place.write}].`",
    tests: ['test/eventstore/store.test.ts'],
  },
  {
    rule: 'an event too large for the log fails its own append alone',
    file: 'src/eventstore/writer.ts',
    from: 'retry(batch.filter((_, i) => i !== refused.request))',
    to: 'retry([])',
    tests: ['test/eventstore/store.test.ts'],
  },
  {
    rule: 'an interrupted import stops between commits and undoes what it created',
    file: 'src/cli/commands/import.ts',
    from: "    if (signal.aborted) return { error: aborted('import', signal.reason), after }\n",
    to: '',
    tests: ['test/cli/import.test.ts'],
  },
  {
    rule: "a command's copy of stdin is removed when a signal ends the process",
    file: 'src/cli/replay.ts',
    from: "    process.on('exit', removeOnExit)\n",
    to: '',
    tests: ['test/cli/signals.test.ts'],
  },
]
