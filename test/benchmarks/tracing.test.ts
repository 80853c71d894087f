// The tracing case's subscribers: the span-like one ends a span for every operation published
// on any of the channels, failed ones too, and sees nothing once unsubscribed; the one that does
// nothing makes every channel traced while it subscribes, and none after. No timing is asserted.
import { expect, it } from 'vitest'
import { subscribeAll, subscribeNoop } from '../../benchmarks/cases/tracing.js'
import {
  CHANNEL_NAMES,
  channelOf,
  isTraced,
  tracePromise,
  type ChannelKey,
} from '../../src/diagnostics/channels.js'
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

it('the subscriber that does nothing traces every channel while it subscribes, and none after', () => {
  const keys = Object.keys(CHANNEL_NAMES) as ChannelKey[]
  const traced = (): boolean[] => keys.map((key) => isTraced(channelOf(key)))
  // Files share workers: what another file left subscribed is what must be back at the end.
  const before = traced()
  const unsubscribe = subscribeNoop()
  expect(traced()).toEqual(keys.map(() => true))
  unsubscribe()
  expect(traced()).toEqual(before)
})
