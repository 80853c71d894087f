// The tracing seam itself: an operation run inside a channel publishes `TracingChannel`'s events
// in order with what the span needs, and with no subscriber builds no context at all.
import dc from 'node:diagnostics_channel'
import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it, vi } from 'vitest'
import {
  CHANNEL_NAMES,
  channelOf,
  isTraced,
  traceEither,
  tracePromise,
} from '../../src/diagnostics/channels.js'
import { DeltalogError, ioError, toDeltalogError } from '../../src/errors.js'
import { record } from './record.js'

describe('with no subscriber', () => {
  it('runs the operation without building its context, also after a subscriber left', async () => {
    const context = vi.fn(() => ({ log: 'memory' }))
    await expect(
      traceEither('commit', context, () => Promise.resolve(E.right(1))),
    ).resolves.toEqual(E.right(1))
    const left = record(['commit', 'eventAppend'])
    left.stop()
    await expect(
      traceEither('commit', context, () => Promise.resolve(E.right(2))),
    ).resolves.toEqual(E.right(2))
    await expect(tracePromise('eventAppend', context, () => Promise.resolve(3))).resolves.toBe(3)
    expect(context).not.toHaveBeenCalled()
    expect(isTraced(channelOf('commit'))).toBe(false)
    expect(left.events).toEqual([])
  })
})

describe('with a subscriber', () => {
  it('counts a subscriber to any one event', () => {
    const only = (): void => undefined
    const channel = dc.channel(`tracing:${CHANNEL_NAMES.deliver}:asyncEnd`)
    channel.subscribe(only)
    try {
      expect(isTraced(channelOf('deliver'))).toBe(true)
    } finally {
      channel.unsubscribe(only)
    }
    expect(isTraced(channelOf('deliver'))).toBe(false)
  })

  it('publishes start, end, asyncStart and asyncEnd around a Right, with its result', async () => {
    const recorder = record(['commit'])
    try {
      const done = vi.fn()
      await traceEither(
        'commit',
        () => ({ log: 'memory' }),
        () => Promise.resolve(E.right(5)),
        done,
      )
      expect(recorder.events.map((e) => e.event)).toEqual([
        'start',
        'end',
        'asyncStart',
        'asyncEnd',
      ])
      expect(recorder.spans('commit')).toEqual([{ log: 'memory', result: 5 }])
      expect(done).toHaveBeenCalledWith({ log: 'memory', result: 5 }, 5)
    } finally {
      recorder.stop()
    }
  })

  it('publishes a Left as an error, with the DeltalogError and its code', async () => {
    const recorder = record(['write'])
    try {
      const failure = ioError('disk full', new Error('ENOSPC'))
      const done = vi.fn()
      const outcome = await traceEither(
        'write',
        () => ({ log: 'memory' }),
        () => Promise.resolve(E.left(failure)),
        done,
      )
      expect(outcome).toEqual(E.left(failure))
      expect(recorder.events.map((e) => e.event)).toEqual([
        'start',
        'end',
        'error',
        'asyncStart',
        'asyncEnd',
      ])
      const [span] = recorder.spans('write')
      expect(span).toMatchObject({ log: 'memory', code: 'IO_ERROR' })
      expect(span?.['error']).toBeInstanceOf(DeltalogError)
      expect(done).not.toHaveBeenCalled()
    } finally {
      recorder.stop()
    }
  })

  it('publishes a rejection with its code, and rethrows it', async () => {
    const recorder = record(['eventAppend'])
    try {
      const error = toDeltalogError(ioError('gone', undefined))
      await expect(
        tracePromise(
          'eventAppend',
          () => ({ log: 'memory' }),
          () => Promise.reject(error),
        ),
      ).rejects.toBe(error)
      expect(recorder.spans('eventAppend')).toEqual([{ log: 'memory', error, code: 'IO_ERROR' }])
      await tracePromise(
        'eventAppend',
        () => ({ log: 'memory' }),
        () => Promise.resolve('ok'),
      )
      expect(recorder.spans('eventAppend')[1]).toEqual({ log: 'memory', result: 'ok' })
    } finally {
      recorder.stop()
    }
  })
})
