// Mutation tests: each deliberately broken engine breaks one rule, and the crash property must
// find a counterexample for every one of them within the default budget. A mutant that
// survives means the commands or the invariants are too weak.
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { openMutantLog } from '../../src/log/log.js'
import type { Mutant } from '../../src/log/writer.js'
import { openCrashStorage } from '../../src/testing/crashStorage.js'
import { numRuns } from '../budget.js'
import { crashProperty } from './crashCommands.js'

const mutants: ReadonlyArray<[Mutant, string]> = [
  ['seqBlockSeparate', 'the SeqBlock record written in a separate batch after the entries'],
  ['seqBlockNever', 'the SeqBlock record never written'],
  ['noRollback', 'the allocator not rolled back, and the writer not stopped, after a failed write'],
  ['ackBeforeSync', 'sync mode acknowledging an append before its batch is synced'],
]

describe('the crash property catches broken engines', () => {
  it.each(mutants)('catches %s: %s', async (mutant) => {
    const result = await fc.check(
      crashProperty(
        (storage, options) => openMutantLog({ storage, ...options }, mutant),
        openCrashStorage,
      ),
      { numRuns: numRuns(150) },
    )
    expect(result.failed, `mutant ${mutant} survived ${result.numRuns} runs`).toBe(true)
  })
})
