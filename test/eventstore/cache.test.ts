// The stream-state cache keeps at most its limit, dropping the state stored longest ago.
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
