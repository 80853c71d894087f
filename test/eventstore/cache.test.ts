// The stream-state cache keeps at most its limit, dropping the state stored longest ago, and keeps
// a state read from the log only if no commit changed states while it was read.
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

it('keeps a state read from the log only if the writer changed no state since the read began', () => {
  const cache = makeStateCache(10)
  const quiet = cache.mark()
  cache.offer('a', state(0), quiet)
  expect(cache.get('a')).toEqual(state(0))
  const overtaken = cache.mark()
  cache.remember('b', state(3))
  cache.offer('c', state(1), overtaken)
  expect(cache.get('c')).toBeUndefined()
  const cleared = cache.mark()
  cache.clear()
  cache.offer('c', state(1), cleared)
  expect(cache.get('c')).toBeUndefined()
  cache.offer('c', state(2), cache.mark())
  expect(cache.get('c')).toEqual(state(2))
})
