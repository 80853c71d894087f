import * as TE from 'fp-ts/lib/TaskEither.js'
import { openMemoryStorage } from '../../src/storage/memory.js'
import { registerConformance } from './conformance.js'

registerConformance({
  name: 'memory',
  persistent: false,
  create: () => {
    const storage = openMemoryStorage()
    return Promise.resolve({
      storage,
      reopen: () => TE.left(new Error('the memory adapter is not persistent')),
      dispose: async () => {
        await storage.close()()
      },
    })
  },
})
