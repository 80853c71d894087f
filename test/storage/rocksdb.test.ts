import { existsSync } from 'node:fs'
import { readdir, readFile, writeFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { dirname, join, relative } from 'node:path'
import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import { BINDING_PACKAGE, type RocksBinding } from '../../src/storage/binding.js'
import {
  openRocksStorage,
  openRocksStorageTE,
  openRocksStorageWith,
} from '../../src/storage/rocksdb.js'
import { code } from '../support/codes.js'
import { runTypeScript } from '../support/child.js'
import { makeTempDir, removeDir } from '../support/tmpdir.js'
import { registerConformance } from './conformance.js'

registerConformance({
  name: 'rocksdb',
  persistent: true,
  create: async () => {
    const dir = await makeTempDir('rocks')
    const path = join(dir, 'db')
    const storage = await openRocksStorage(path)
    return {
      storage,
      reopen: () => openRocksStorageTE(path),
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
    const opened = await openRocksStorage(path)
    try {
      // A child process opens the same directory through the adapter and reports the result.
      const script = join(dir, 'open.mjs')
      const adapter = new URL('../../src/storage/rocksdb.ts', import.meta.url).pathname
      await writeFile(
        script,
        `import { openRocksStorage } from ${JSON.stringify(adapter)}\n` +
          `const r = await openRocksStorage(${JSON.stringify(path)}).then(() => 'opened', (e) => e.code)\n` +
          `console.log(JSON.stringify(r))\n`,
      )
      const child = runTypeScript(script)
      expect(child.stderr).toBe('')
      expect(JSON.parse(child.stdout)).toBe('LOCKED')
    } finally {
      await opened.close()()
      await removeDir(dir)
    }
  })

  it('does not create a missing database when told not to', async () => {
    const dir = await makeTempDir('rocks-missing')
    try {
      expect(await code(openRocksStorage(join(dir, 'absent'), { createIfMissing: false }))).toBe(
        'NOT_A_LOG',
      )
      expect(await readdir(dir)).toEqual([])
    } finally {
      await removeDir(dir)
    }
  })

  it('refuses a database whose CURRENT names no MANIFEST as CORRUPTION, changing nothing', async () => {
    const dir = await makeTempDir('rocks-current')
    try {
      const path = join(dir, 'db')
      await (await openRocksStorage(path)).close()()
      const current = await readFile(join(path, 'CURRENT'))
      current[3] = (current[3] ?? 0) ^ 0x01
      await writeFile(join(path, 'CURRENT'), current)
      const files = await readdir(path)
      expect(await code(openRocksStorage(path, { readOnly: true }))).toBe('CORRUPTION')
      expect(await code(openRocksStorage(path))).toBe('CORRUPTION')
      expect(await readdir(path)).toEqual(files)
      expect(await readFile(join(path, 'CURRENT'))).toEqual(current)
    } finally {
      await removeDir(dir)
    }
  })

  it('refuses a path below a file as NOT_A_LOG', async () => {
    const dir = await makeTempDir('rocks-file')
    try {
      const file = join(dir, 'file')
      await writeFile(file, 'not a directory')
      expect(await code(openRocksStorage(join(file, 'db')))).toBe('NOT_A_LOG')
      expect(await readdir(dir)).toEqual(['file'])
    } finally {
      await removeDir(dir)
    }
  })

  it('rejects an empty path, options that are no object and a bad mode with INVALID_ARGUMENT', async () => {
    expect(await code(openRocksStorage(''))).toBe('INVALID_ARGUMENT')
    expect(await code(openRocksStorage('/nowhere', null as never))).toBe('INVALID_ARGUMENT')
    expect(await code(openRocksStorage('/nowhere', { directoryMode: 0o1000 }))).toBe(
      'INVALID_ARGUMENT',
    )
  })

  it('has a TaskEither form that never rejects: a refusal is a left', async () => {
    const result = await openRocksStorageTE('')()
    expect(E.isLeft(result) && result.left.code).toBe('INVALID_ARGUMENT')
  })

  it('closes at the end of an `await using` block, freeing the directory for the next open', async () => {
    const dir = await makeTempDir('rocks-using')
    const path = join(dir, 'db')
    try {
      {
        await using storage = await openRocksStorage(path)
        await storage.write([{ type: 'put', key: Uint8Array.of(1), value: Uint8Array.of(2) }], {
          sync: true,
        })()
        expect(await code(openRocksStorage(path))).toBe('LOCKED')
      }
      await using again = await openRocksStorage(path)
      const value = await again.get(Uint8Array.of(1))()
      expect(E.isRight(value) && value.right).toEqual({ _tag: 'Some', value: Buffer.of(2) })
    } finally {
      await removeDir(dir)
    }
  })

  it('rejects the dispose with DeltalogError when the native close fails', async () => {
    const dir = await makeTempDir('rocks-dispose')
    try {
      const opened = await openRocksStorageWith(() => failingClose, join(dir, 'db'))()
      if (E.isLeft(opened)) throw new Error(opened.left.message)
      expect(await code(opened.right[Symbol.asyncDispose]())).toBe('IO_ERROR')
    } finally {
      await removeDir(dir)
    }
  })
})

// A stand-in for the addon whose open fails with a given native message: how each of RocksDB's
// errors reaches the caller.
const failingOpen = (message: string): RocksBinding => {
  const unused = (): never => {
    throw new Error('not called')
  }
  return {
    db_init: () => ({}),
    db_open: (_db, _location, _options, callback) => callback(new Error(message)),
    db_close: (_db, callback) => callback(null),
    db_get: unused,
    db_get_property: unused,
    batch_do: unused,
    iterator_init: unused,
    iterator_next: unused,
    iterator_end: unused,
    iterator_seek: unused,
  }
}

// A stand-in for the addon that opens, and fails to close.
const failingClose: RocksBinding = {
  ...failingOpen('unused'),
  db_open: (_db, _location, _options, callback) => callback(null),
  db_close: (_db, callback) =>
    callback(new Error('IO error: While fsync: /d/LOCK: Input/output error')),
}

describe('the binding', () => {
  // npm is to block dependencies' install scripts by default: the addon must not need its own.
  const require = createRequire(import.meta.url)
  const root = dirname(require.resolve(`${BINDING_PACKAGE}/package.json`))
  const prebuilt = existsSync(join(root, 'prebuilds', `${process.platform}-${process.arch}`))

  it.runIf(prebuilt)('loads the prebuilt binary the package ships, not a local build', () => {
    const resolve = (require('node-gyp-build') as { path: (dir: string) => string }).path
    expect(relative(root, resolve(root))).toMatch(
      new RegExp(`^prebuilds/${process.platform}-${process.arch}/[^/]+\\.node$`),
    )
    expect(existsSync(join(root, 'build'))).toBe(false)
  })
})

describe('native errors', () => {
  it.each([
    ['IO error: While lock file: /d/LOCK: Resource temporarily unavailable', 'LOCKED'],
    ['IO error: While lock file: /d/LOCK: Permission denied', 'LOCKED'],
    [
      'IO error: lock hold by current process, acquire time 1764140000 acquiring thread 7: /d/LOCK: No locks available',
      'LOCKED',
    ],
    ['IO error: while open a file for lock: /d/LOCK: Read-only file system', 'READ_ONLY'],
    ['IO error: While open a file for appending: /d/000003.log: Permission denied', 'READ_ONLY'],
    ['IO error: While reading block from /d/000009.sst: Input/output error', 'IO_ERROR'],
    ['IO error: While appending to file: /d/000012.log: No space left on device', 'IO_ERROR'],
    ['IO error: While unlocking: /d/clock.txt: Bad file descriptor', 'IO_ERROR'],
    ['Corruption: block checksum mismatch', 'CORRUPTION'],
  ])('%s is %s', async (message, code) => {
    const dir = await makeTempDir('rocks-errors')
    try {
      const result = await openRocksStorageWith(() => failingOpen(message), join(dir, 'db'))()
      expect(E.isLeft(result) && result.left.code).toBe(code)
      expect(E.isLeft(result) && result.left.message).toContain(message)
    } finally {
      await removeDir(dir)
    }
  })

  it('a binding that does not load is IO_ERROR naming the package and platform', async () => {
    const result = await openRocksStorageWith(() => {
      throw new Error('No native build was found')
    }, '/nowhere')()
    expect(E.isLeft(result) && result.left.code).toBe('IO_ERROR')
    expect(E.isLeft(result) && result.left.message).toBe(
      `cannot load the RocksDB binding (@salto-io/rocksdb) for ${process.platform}-${process.arch}: No native build was found`,
    )
  })
})
