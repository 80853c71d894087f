// How a directory is classified before RocksDB may touch it, the mark's codec, and the claim
// that makes every spelling of a directory one writer.
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { test } from '@fast-check/vitest'
import fc from 'fast-check'
import * as E from 'fp-ts/lib/Either.js'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import {
  claim,
  classify,
  inspect,
  MARKER_FILE,
  markerCodec,
  writeMarker,
} from '../../src/storage/directory.js'
import { makeTempDir, removeDir } from '../support/tmpdir.js'

const MARK = '{"deltalog":"rocksdb","format":1}\n'

// Names no RocksDB database holds.
const arbOtherName = fc
  .stringMatching(/^[a-z][a-z0-9_.-]{0,11}$/)
  .filter((n) => !/^(LOCK|IDENTITY|LOG(\..*)?|CURRENT|DELTALOG.*)$/.test(n))
// Names RocksDB writes, data files among them.
const arbRocksName = fc.oneof(
  fc.constantFrom('LOCK', 'IDENTITY', 'LOG', 'LOG.old.1764140000'),
  fc.nat({ max: 999_999 }).map((n) => `MANIFEST-${String(n).padStart(6, '0')}`),
  fc.nat({ max: 999_999 }).map((n) => `OPTIONS-${String(n).padStart(6, '0')}`),
  fc.nat({ max: 999_999 }).map((n) => `${String(n).padStart(6, '0')}.log`),
  fc.nat({ max: 999_999 }).map((n) => `${String(n).padStart(6, '0')}.sst`),
)
const isData = (name: string): boolean => /^\d+\.(log|sst|blob)$/.test(name)

const kindOf = (names: ReadonlyArray<string>, marker: string | undefined): string | undefined => {
  const result = classify('/d', names, marker)
  return E.isRight(result) ? result.right.kind : result.left.code
}

describe('classify', () => {
  it('an empty listing is empty, a missing CURRENT with only the mark is a creation to finish', () => {
    expect(kindOf([], undefined)).toBe('empty')
    expect(kindOf([MARKER_FILE], MARK)).toBe('empty')
    expect(kindOf([MARKER_FILE, 'LOCK', 'IDENTITY', 'MANIFEST-000001'], MARK)).toBe('empty')
  })

  test.prop([fc.array(fc.oneof(arbOtherName, arbRocksName), { maxLength: 8 })])(
    'with CURRENT: marked with a readable mark, unmarked without one',
    (names) => {
      expect(kindOf([...names, 'CURRENT', MARKER_FILE], MARK)).toBe('marked')
      expect(kindOf([...names, 'CURRENT'], undefined)).toBe('unmarked')
    },
  )

  test.prop([fc.array(fc.oneof(arbOtherName, arbRocksName), { maxLength: 8 })])(
    'without CURRENT: a mark with data files, or any RocksDB file, is CORRUPTION',
    (names) => {
      const marked = kindOf([...names, MARKER_FILE], MARK)
      expect(marked).toBe(names.some(isData) ? 'CORRUPTION' : 'empty')
      const rocks = names.filter((n) => !isOtherName(n))
      if (rocks.length > 0) expect(kindOf(names, undefined)).toBe('CORRUPTION')
    },
  )

  it("deltalog's own files — the record of checked tables, temporary files — are never foreign", () => {
    const own = ['DELTALOG-TABLES', 'DELTALOG-TABLES.tmp', 'DELTALOG.tmp']
    expect(kindOf(own, undefined)).toBe('empty')
    expect(kindOf([...own, 'CURRENT', MARKER_FILE], MARK)).toBe('marked')
    const other = classify('/d', [...own, 'notes.txt'], undefined)
    expect(E.isLeft(other) && other.left.message).toMatch(/\(notes\.txt\)/)
  })

  test.prop([fc.array(arbOtherName, { minLength: 1, maxLength: 8 })])(
    'other files alone are NOT_A_LOG',
    (names) => {
      expect(kindOf(names, undefined)).toBe('NOT_A_LOG')
    },
  )

  test.prop([fc.string()])('a mark that is not exactly the codec’s is CORRUPTION', (text) => {
    fc.pre(
      E.isLeft(E.tryCatch(() => markerCodec.decode(JSON.parse(text)), String)) || !isMark(text),
    )
    expect(kindOf(['CURRENT', MARKER_FILE], text)).toBe('CORRUPTION')
  })
})

const isOtherName = (n: string): boolean =>
  !/^(LOCK|IDENTITY|LOG(\.old\..*)?|MANIFEST-\d+|OPTIONS-\d+|\d+\.(sst|log|blob))$/.test(n)

const isMark = (text: string): boolean => {
  try {
    return E.isRight(markerCodec.decode(JSON.parse(text)))
  } catch {
    return false
  }
}

describe('the mark and the claim on a real directory', () => {
  let dir = ''
  beforeEach(async () => {
    dir = await makeTempDir('directory')
  })
  afterEach(() => removeDir(dir))

  it('round trip: a written mark decodes with the codec, and the directory reads as empty', async () => {
    expect(E.isRight(await writeMarker(dir))).toBe(true)
    const text = await readFile(join(dir, MARKER_FILE), 'utf8')
    expect(text).toBe(MARK)
    expect(isMark(text)).toBe(true)
    expect(await inspect(dir)).toEqual(E.right({ kind: 'empty' }))
  })

  it('one claim per real path, free again once released', async () => {
    const first = await claim(dir)
    expect(E.isRight(first)).toBe(true)
    const second = await claim(`${dir}/`)
    expect(E.isLeft(second) && second.left.code).toBe('LOCKED')
    if (E.isRight(first)) first.right()
    const third = await claim(join(dir, '.'))
    expect(E.isRight(third)).toBe(true)
    // A stale release, after another open claimed the directory, frees nothing.
    if (E.isRight(first)) first.right()
    const fourth = await claim(dir)
    expect(E.isLeft(fourth) && fourth.left.code).toBe('LOCKED')
    if (E.isRight(third)) third.right()
  })
})
