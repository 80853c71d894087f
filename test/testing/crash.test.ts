// The engine under simulated crashes and faults: the model-based crash property must hold.
import fc from 'fast-check'
import { describe, it } from 'vitest'
import { openLog } from '../../src/openLog.js'
import { openCrashStorage } from '../../src/testing/crashStorage.js'
import { crashRuns, timeoutFor } from '../support/budget.js'
import { crashProperty } from './crashCommands.js'

// 100 sequences a run: the four broken writers of the mutation runner fail within the first 12
// (three seeds each, 2026-12-07). CRASH_RUNS sets more; npm run test:long runs 10,000.
const runs = crashRuns(100)

describe('the log under crashes and faults', () => {
  it(
    `keeps every invariant through crashes, faults and reopens (${runs} runs)`,
    async () => {
      await fc.assert(
        crashProperty((storage, options) => openLog({ storage, ...options }), openCrashStorage),
        { numRuns: runs },
      )
    },
    timeoutFor(runs, 400),
  )
})
