import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import { openRocksStorage } from '../../src/storage/rocksdb.js'
import { runTypeScript } from '../child.js'
import { makeTempDir, removeDir } from '../tmpdir.js'
import { registerConformance } from './conformance.js'

registerConformance({
  name: 'rocksdb',
  create: async () => {
    const dir = await makeTempDir('rocks')
    const path = join(dir, 'db')
    const opened = await openRocksStorage(path)()
    if (E.isLeft(opened)) throw new Error(opened.left.message)
    const storage = opened.right
    return {
      storage,
      reopen: () => openRocksStorage(path),
      dispose: async () => {
        await storage.close()()
        await removeDir(dir)
      },
    }
  },
})

describe('rocksdb adapter', () => {
  it('refuses an open from another process with LOCKED', async () => {
    const dir = await makeTempDir('rocks-lock')
    const path = join(dir, 'db')
    const opened = await openRocksStorage(path)()
    expect(E.isRight(opened)).toBe(true)
    try {
      // A child process opens the same directory through the adapter and reports the result.
      const script = join(dir, 'open.mjs')
      const adapter = new URL('../../src/storage/rocksdb.ts', import.meta.url).pathname
      await writeFile(
        script,
        `import { openRocksStorage } from ${JSON.stringify(adapter)}\n` +
          `const r = await openRocksStorage(${JSON.stringify(path)})()\n` +
          `console.log(JSON.stringify(r._tag === 'Left' ? r.left.code : 'opened'))\n`,
      )
      const child = runTypeScript(script)
      expect(child.stderr).toBe('')
      expect(JSON.parse(child.stdout)).toBe('LOCKED')
    } finally {
      if (E.isRight(opened)) await opened.right.close()()
      await removeDir(dir)
    }
  })

  it('does not create a missing database when told not to', async () => {
    const dir = await makeTempDir('rocks-missing')
    try {
      const result = await openRocksStorage(join(dir, 'absent'), { createIfMissing: false })()
      expect(E.isLeft(result) && result.left.code).toBe('INVALID_ARGUMENT')
    } finally {
      await removeDir(dir)
    }
  })

  it('reports a path it cannot create as IO_ERROR with the cause kept', async () => {
    const dir = await makeTempDir('rocks-file')
    try {
      const file = join(dir, 'file')
      await writeFile(file, 'not a directory')
      const result = await openRocksStorage(join(file, 'db'))()
      expect(E.isLeft(result) && result.left.code).toBe('IO_ERROR')
      expect(E.isLeft(result) && 'cause' in result.left && result.left.cause).toBeInstanceOf(Error)
    } finally {
      await removeDir(dir)
    }
  })

  it('rejects an empty path with INVALID_ARGUMENT', async () => {
    const result = await openRocksStorage('')()
    expect(E.isLeft(result) && result.left.code).toBe('INVALID_ARGUMENT')
  })
})
