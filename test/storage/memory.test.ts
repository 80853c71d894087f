import * as E from 'fp-ts/lib/Either.js'
import * as O from 'fp-ts/lib/Option.js'
import * as TE from 'fp-ts/lib/TaskEither.js'
import { describe, expect, it } from 'vitest'
import { openMemoryStorage, openMemoryStorageTE } from '../../src/storage/memory.js'
import { registerConformance } from './conformance.js'

registerConformance({
  name: 'memory',
  persistent: false,
  create: async () => {
    const storage = await openMemoryStorage()
    return {
      storage,
      reopen: () => TE.left(new Error('the memory adapter is not persistent')),
      dispose: async () => {
        await storage.close()()
      },
    }
  },
})

describe('openMemoryStorage', () => {
  it('resolves with a new, empty store each time; its TaskEither form is right with one', async () => {
    const opening = openMemoryStorage()
    expect(opening).toBeInstanceOf(Promise)
    await using first = await opening
    await first.write([{ type: 'put', key: Uint8Array.of(1), value: Uint8Array.of(2) }], {
      sync: false,
    })()
    await using second = await openMemoryStorage()
    expect(O.isNone(E.getOrElseW(() => O.some(0))(await second.get(Uint8Array.of(1))()))).toBe(true)
    const opened = await openMemoryStorageTE()()
    expect(E.isRight(opened)).toBe(true)
    if (E.isRight(opened)) await opened.right[Symbol.asyncDispose]()
  })
})
