// The tracing case's subscriber: it ends a span for every operation published on any of the
// channels, failed ones too, and sees nothing once unsubscribed. No timing is asserted.
import { expect, it } from 'vitest'
import { subscribeAll } from '../../benchmarks/cases/tracing.js'
import { CHANNEL_NAMES, tracePromise, type ChannelKey } from '../../src/diagnostics/channels.js'
import { closed, DeltalogError } from '../../src/errors.js'

it('ends one span per traced operation on every channel, and none after unsubscribing', async () => {
  const keys = Object.keys(CHANNEL_NAMES) as ChannelKey[]
  const { seen, unsubscribe } = subscribeAll()
  for (const key of keys) {
    await tracePromise(
      key,
      () => ({ log: 'memory' }),
      () => Promise.resolve(1),
    )
  }
  const failing = tracePromise(
    'commit',
    () => ({ log: 'memory' }),
    () => Promise.reject(new DeltalogError(closed('the log'))),
  )
  await expect(failing).rejects.toThrow()
  unsubscribe()
  await tracePromise(
    'append',
    () => ({ log: 'memory' }),
    () => Promise.resolve(1),
  )
  expect(seen).toEqual(
    Object.fromEntries(
      Object.values(CHANNEL_NAMES).map((name) => [name, name === CHANNEL_NAMES.commit ? 2 : 1]),
    ),
  )
})
