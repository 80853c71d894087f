// `deltalog import` when a write fails part-way, run in the test's process on a store whose
// writes fail after its first commits: an import that created the log removes it, and one
// into a log that was there says where it stopped, which is what the log then holds.
import { mkdir, readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import * as E from 'fp-ts/lib/Either.js'
import * as TE from 'fp-ts/lib/TaskEither.js'
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest'
import { importLog } from '../../src/cli/commands/import.js'
import { ioError } from '../../src/errors.js'
import type * as opening from '../../src/openLog.js'
import { openLog } from '../../src/openLog.js'
import type { Storage } from '../../src/storage/port.js'
import { dropTables, freshTable, postgresRuns, postgresUrl } from '../postgres/server.js'
import { makeTempDir, removeDir } from '../support/tmpdir.js'
import pg from 'pg'

// How many commits of the import's size the store still takes before its writes fail, and what
// happens at each one it takes.
const store = vi.hoisted(() => ({ commitsLeft: Infinity, committing: (): void => undefined }))

/** `storage`, its writes failing once `store.commitsLeft` commits of entries went through. */
const failing = (storage: Storage): Storage => ({
  ...storage,
  write: (batch, options) => {
    // The log's own small records (its format, its block of numbers) always go through.
    const bytes = batch.reduce((n, op) => n + (op.type === 'put' ? op.value.length : 0), 0)
    if (bytes > 1000) {
      if (store.commitsLeft-- <= 0) return TE.left(ioError('injected write failure', undefined))
      store.committing()
    }
    return storage.write(batch, options)
  },
})

vi.mock('../../src/openLog.js', async (importOriginal) => {
  const original = await importOriginal<typeof opening>()
  return {
    ...original,
    openLogTE: (input: { readonly storage: Storage }) =>
      original.openLogTE({ ...input, storage: failing(input.storage) }),
  }
})

let dir = ''
beforeAll(async () => {
  dir = await makeTempDir('import')
})
afterAll(() => removeDir(dir))
beforeEach(() => {
  store.commitsLeft = Infinity
  store.committing = () => undefined
  // What a successful import prints does not belong in the test's output.
  vi.spyOn(process.stdout, 'write').mockImplementation(() => true)
})

/** 3000 entries, three of the importer's commits. */
const input = (): Readable =>
  Readable.from(
    Array.from(
      { length: 3000 },
      (_, i) => `${JSON.stringify({ sequence: i, key: 'k', value: `v${i}` })}\n`,
    ),
  )

describe('an import whose write fails part-way', () => {
  it('removes the directory it created, and one it wrote into empty is empty again', async () => {
    store.commitsLeft = 2
    const created = join(dir, 'new')
    const outcome = await importLog({ db: created }, input())
    expect(outcome).toEqual(
      E.left(
        expect.objectContaining({
          code: 'IO_ERROR',
          message: `injected write failure; nothing was imported: ${created}, which it created, was removed`,
        }),
      ),
    )
    expect(await readdir(dir)).not.toContain('new')

    store.commitsLeft = 1
    const empty = join(dir, 'empty')
    await mkdir(empty)
    const again = await importLog({ db: empty }, input())
    expect(E.isLeft(again) && again.left.message).toBe(
      `injected write failure; nothing was imported: what it wrote in ${empty} was removed`,
    )
    expect(await readdir(empty)).toEqual([])
  })

  it('leaves a log that was there as far as it got, and says where it stopped', async () => {
    const path = join(dir, 'kept')
    await (await openLog({ path })).close()
    store.commitsLeft = 2
    const outcome = await importLog({ db: path }, input())
    expect(E.isLeft(outcome) && outcome.left.message).toBe(
      'injected write failure; the import stopped after stdin line 2000: the entries up to it (sequence 1999) are committed, and the commit of the lines after it failed',
    )
    const log = await openLog({ path, readOnly: true })
    try {
      expect(await log.count()).toBe(2000)
      expect(log.nextSequence()).toBe(2000)
    } finally {
      await log.close()
    }
  })
})

describe('an import interrupted (SIGINT, SIGTERM) part-way', () => {
  it('removes the directory it created, and writes nothing when stopped while checking', async () => {
    const interrupt = new AbortController()
    store.committing = () => interrupt.abort()
    const created = join(dir, 'interrupted')
    const outcome = await importLog({ db: created }, input(), interrupt.signal)
    expect(outcome).toEqual(
      E.left(
        expect.objectContaining({
          code: 'ABORTED',
          message: `import was aborted; nothing was imported: ${created}, which it created, was removed`,
        }),
      ),
    )
    expect(await readdir(dir)).not.toContain('interrupted')

    const early = await importLog({ db: created }, input(), AbortSignal.abort())
    expect(E.isLeft(early) && early.left.code).toBe('ABORTED')
    expect(await readdir(dir)).not.toContain('interrupted')
  })

  it('leaves a log that was there as far as it got, and says where it stopped', async () => {
    const path = join(dir, 'kept-interrupted')
    await (await openLog({ path })).close()
    const interrupt = new AbortController()
    store.committing = () => interrupt.abort()
    const outcome = await importLog({ db: path }, input(), interrupt.signal)
    expect(E.isLeft(outcome) && outcome.left.message).toBe(
      'import was aborted; the import stopped after stdin line 1000: the entries up to it (sequence 999) are committed, and the lines after it were not written',
    )
    const log = await openLog({ path, readOnly: true })
    try {
      expect(await log.count()).toBe(1000)
    } finally {
      await log.close()
    }
  })
})

describe.runIf(postgresRuns)('an import into a new table whose write fails part-way', () => {
  it('drops the tables it created', async () => {
    const table = freshTable()
    const location = { db: postgresUrl ?? '', table }
    try {
      store.commitsLeft = 2
      const outcome = await importLog(location, input())
      expect(E.isLeft(outcome) && outcome.left.message).toMatch(
        /^injected write failure; nothing was imported: the tables it created for table log_\w+ at .* were dropped$/,
      )
      const client = new pg.Client({ connectionString: postgresUrl })
      await client.connect()
      try {
        const found = await client.query(
          'SELECT to_regclass($1) AS data, to_regclass($2) AS meta',
          [table, `${table}_meta`],
        )
        expect(found.rows).toEqual([{ data: null, meta: null }])
      } finally {
        await client.end()
      }
      // Nothing is left in the way: the same import, without the fault, goes through.
      store.commitsLeft = Infinity
      store.committing = () => undefined
      expect(await importLog(location, input())).toEqual(E.right(0))
    } finally {
      await dropTables(table)
    }
  })
})
