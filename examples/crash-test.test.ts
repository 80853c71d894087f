// Crash-testing your own code with deltalog/testing: an outbox that must never lose a message
// it acknowledged, whatever a power loss takes.
import fc from 'fast-check'
import { expect, test } from 'vitest'
import { openLog, type Log } from 'deltalog'
import { openCrashStorage } from 'deltalog/testing'

// The code under test: it acknowledges a message once the log has it durably.
const enqueue = async (log: Log, message: string): Promise<number> => {
  const { startSequence } = await log.append([{ key: 'outbox', value: message }])
  return startSequence
}

const messagesIn = async (log: Log): Promise<string[]> => {
  const found: string[] = []
  for await (const entry of log.scan({ key: 'outbox' })) {
    found.push(new TextDecoder().decode(entry.value))
  }
  return found
}

test('an acknowledged message survives any power loss', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.string(), { maxLength: 20 }),
      fc.nat({ max: 19 }),
      fc.integer(),
      async (messages, crashAfter, seed) => {
        const storage = await openCrashStorage()
        const log = await openLog({ storage, durability: 'sync', blockSize: 4 })
        const acknowledged: string[] = []
        for (const [i, message] of messages.entries()) {
          await enqueue(log, message)
          acknowledged.push(message)
          if (i === crashAfter) break
        }
        // Power fails: synced batches survive, and a seeded-random prefix of the rest.
        const restarted = await openLog({ storage: storage.crash('power', seed) })
        expect(await messagesIn(restarted)).toEqual(acknowledged)
        await restarted.close()
      },
    ),
  )
})
