// The engine under simulated crashes and faults: the model-based crash property must hold.
import fc from 'fast-check'
import { describe, it } from 'vitest'
import { openLog } from '../../src/openLog.js'
import { openCrashStorage } from '../../src/testing/crashStorage.js'
import { crashRuns, timeoutFor } from '../support/budget.js'
import { crashProperty } from './crashCommands.js'

const runs = crashRuns(150)

describe('the log under crashes and faults', () => {
  it(
    `keeps every invariant through crashes, faults and reopens (${runs} runs)`,
    async () => {
      await fc.assert(
        crashProperty((storage, options) => openLog({ storage, ...options }), openCrashStorage),
        { numRuns: runs },
      )
    },
    timeoutFor(runs, 200),
  )
})
