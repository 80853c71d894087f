// With no subscriber, the log builds nothing for its channels: an append, a commit and a storage
// write do not even enter the tracing seam (one `hasSubscribers` check each), and a truncation,
// which always does, builds no context. The seam is wrapped here to count what reaches it.
import { describe, expect, it, vi } from 'vitest'
import type * as channels from '../../src/diagnostics/channels.js'
import { openLog } from '../../src/openLog.js'
import { makeMemoryStorage } from '../../src/storage/memory.js'
import { LOG_CHANNELS, record } from './record.js'

const seen = vi.hoisted(() => ({ calls: [] as string[], built: 0 }))

vi.mock('../../src/diagnostics/channels.js', async (importOriginal) => {
  const real = await importOriginal<typeof channels>()
  return {
    ...real,
    traceEither: (
      key: channels.ChannelKey,
      context: () => channels.TraceContext,
      ...rest: [never, never]
    ) => {
      seen.calls.push(key)
      return real.traceEither(
        key,
        () => {
          seen.built++
          return context()
        },
        ...rest,
      )
    },
  }
})

describe('a log with no subscriber', () => {
  it('builds no context for appends, commits, writes, syncs or truncations', async () => {
    const left = record(LOG_CHANNELS)
    left.stop()
    const log = await openLog({ storage: makeMemoryStorage(), durability: 'buffered' })
    await Promise.all(
      Array.from({ length: 20 }, (_, i) => log.append([{ key: 'k', value: String(i) }])),
    )
    await log.append([{ key: 'k', value: 'last' }])
    await log.flush()
    await log.truncateBefore(3)
    await log.close()
    expect(seen.calls).toEqual(['truncate'])
    expect(seen.built).toBe(0)
  })

  it('enters the seam for every channel once someone subscribes', async () => {
    seen.calls.length = 0
    const recorder = record(LOG_CHANNELS)
    try {
      const log = await openLog({ storage: makeMemoryStorage(), durability: 'buffered' })
      await log.append([{ key: 'k', value: 'a' }])
      await log.append([{ key: 'k', value: 'b' }])
      await log.flush()
      await log.truncateBefore(1)
      await log.close()
      expect(new Set(seen.calls)).toEqual(new Set(LOG_CHANNELS))
    } finally {
      recorder.stop()
    }
  })
})
