// The stream-state cache keeps at most its limit, dropping the state stored longest ago, and keeps
// a state read from the log only if no commit overtook it while it was read.
import { expect, it } from 'vitest'
import { makeStateCache } from '../../src/eventstore/cache.js'

const state = (lastRevision: number) => ({ lastRevision, deletedBefore: 0 })

it('drops the state stored longest ago past its limit; storing again makes one newest', () => {
  const cache = makeStateCache(2)
  cache.remember('a', state(0))
  cache.remember('b', state(0))
  cache.remember('a', state(1))
  cache.remember('c', state(0))
  expect(cache.get('b')).toBeUndefined()
  expect(cache.get('a')).toEqual(state(1))
  expect(cache.get('c')).toEqual(state(0))
  cache.clear()
  expect(cache.get('a')).toBeUndefined()
  expect(cache.get('c')).toBeUndefined()
})

it('keeps a state read from the log unless the writer kept that stream meanwhile', () => {
  const cache = makeStateCache(10)
  const quiet = cache.mark()
  cache.offer('a', state(0), quiet)
  expect(cache.get('a')).toEqual(state(0))
  // Another stream's commit during the read: the state read is as new as the log.
  const beside = cache.mark()
  cache.remember('b', state(3))
  cache.offer('c', state(1), beside)
  expect(cache.get('c')).toEqual(state(1))
  // This stream's commit during the read: the writer's state is newer, and stays.
  const overtaken = cache.mark()
  cache.remember('d', state(5))
  cache.offer('d', state(4), overtaken)
  expect(cache.get('d')).toEqual(state(5))
})

it('keeps no state read from the log across a clear, or a loss of a state kept meanwhile', () => {
  const cache = makeStateCache(2)
  const cleared = cache.mark()
  cache.clear()
  cache.offer('c', state(1), cleared)
  expect(cache.get('c')).toBeUndefined()
  cache.offer('c', state(2), cache.mark())
  expect(cache.get('c')).toEqual(state(2))
  // 'x' is kept during the read and then dropped past the limit: the read may be older.
  const lost = cache.mark()
  cache.remember('x', state(7))
  cache.remember('y', state(0))
  cache.remember('z', state(0))
  expect(cache.get('x')).toBeUndefined()
  cache.offer('x', state(6), lost)
  expect(cache.get('x')).toBeUndefined()
  // A state dropped that was kept before the read began is no reason to refuse one.
  const later = cache.mark()
  cache.remember('w', state(0))
  cache.offer('v', state(1), later)
  expect(cache.get('v')).toEqual(state(1))
})
