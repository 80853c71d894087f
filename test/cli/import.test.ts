// `deltalog import` when a write fails part-way, run in the test's process on a store whose
// writes fail after its first commits: an import that created the log removes it, and one
// into a log that was there says where it stopped, which is what the log then holds, and
// `--resume` imports the rest.
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
import { openPostgresStorage } from '../../src/postgres/storage.js'
import type { LogEntry } from '../../src/log/read.js'
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
// What the imports print on stdout.
let printed: string[] = []
beforeEach(() => {
  store.commitsLeft = Infinity
  store.committing = () => undefined
  printed = []
  // What a successful import prints does not belong in the test's output.
  vi.spyOn(process.stdout, 'write').mockImplementation((text) => {
    printed.push(String(text))
    return true
  })
})

/** `length` entries (3000: three of the importer's commits); `change` alters some. */
const input = (length = 3000, change = (line: object): object => line): Readable =>
  Readable.from(
    Array.from(
      { length },
      (_, i) => `${JSON.stringify(change({ sequence: i, key: 'k', value: `v${i}` }))}\n`,
    ),
  )

/** What the log at `location` holds, read to the end. */
const entriesAt = async (location: { readonly db: string; readonly table?: string }) => {
  const log = await openLog(
    location.table === undefined
      ? { path: location.db, readOnly: true }
      : {
          storage: await openPostgresStorage({
            connection: { connectionString: location.db },
            table: location.table,
          }),
          readOnly: true,
        },
  )
  try {
    const entries: LogEntry[] = []
    for await (const entry of log.scan()) entries.push(entry)
    return { entries, nextSequence: log.nextSequence() }
  } finally {
    await log.close()
  }
}

/** An existing empty log at `path`, as its owner creates it. */
const existing = async (path: string): Promise<string> => {
  await (await openLog({ path })).close()
  return path
}

const advice = '; run the same import again with --resume to import the rest'

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
      `injected write failure; the import stopped after stdin line 2000: the entries up to it (sequence 1999) are committed, and the commit of the lines after it failed${advice}`,
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
      `import was aborted; the import stopped after stdin line 1000: the entries up to it (sequence 999) are committed, and the lines after it were not written${advice}`,
    )
    const log = await openLog({ path, readOnly: true })
    try {
      expect(await log.count()).toBe(1000)
    } finally {
      await log.close()
    }
  })
})

describe('an import resumed with --resume', () => {
  it('goes on where a failed or interrupted import into a log that was there stopped', async () => {
    const path = await existing(join(dir, 'resumed'))
    const at = { db: path, resume: true }
    store.commitsLeft = 1
    const first = await importLog({ db: path }, input(4000))
    expect(E.isLeft(first) && first.left.message).toMatch(/after stdin line 1000: .*--resume/)
    // A resumed import that fails part-way again says where, the same way: at its first
    // commit, where the log was.
    store.commitsLeft = 0
    const none = await importLog(at, input(4000))
    expect(E.isLeft(none) && none.left.message).toMatch(
      /; the import stopped after stdin line 1000: the entries up to it \(sequence 999\) are committed/,
    )
    store.commitsLeft = 1
    const second = await importLog(at, input(4000))
    expect(E.isLeft(second) && second.left.message).toBe(
      `injected write failure; the import stopped after stdin line 2000: the entries up to it (sequence 1999) are committed, and the commit of the lines after it failed${advice}`,
    )
    // And so does one interrupted.
    store.commitsLeft = Infinity
    const interrupt = new AbortController()
    store.committing = () => interrupt.abort()
    const third = await importLog(at, input(4000), interrupt.signal)
    expect(E.isLeft(third) && third.left.message).toBe(
      `import was aborted; the import stopped after stdin line 3000: the entries up to it (sequence 2999) are committed, and the lines after it were not written${advice}`,
    )
    store.committing = () => undefined
    printed = []
    expect(await importLog(at, input(4000))).toEqual(E.right(0))
    expect(printed.join('')).toBe(
      'imported 1000 entries after stdin line 3000 (sequence 2999), which the log held\n',
    )
    // The log is what a plain import of the same input makes.
    const plain = join(dir, 'resumed-plain')
    expect(await importLog({ db: plain }, input(4000))).toEqual(E.right(0))
    const [got, want] = [await entriesAt(at), await entriesAt({ db: plain })]
    expect(got.entries).toHaveLength(4000)
    expect(got).toEqual(want)
  })

  it('refuses a log that is not the start of the input with NOT_EMPTY, and writes nothing', async () => {
    const path = await existing(join(dir, 'differs'))
    store.commitsLeft = 2
    expect(E.isLeft(await importLog({ db: path }, input()))).toBe(true)
    store.commitsLeft = Infinity
    const before = await entriesAt({ db: path })
    const refused = async (from: Readable, db = path): Promise<string | false> => {
      const outcome = await importLog({ db, resume: true }, from)
      return E.isLeft(outcome) && `${outcome.left.code}: ${outcome.left.message}`
    }
    const cannot = `NOT_EMPTY: cannot resume: ${path} does not hold the start of the input: `
    // A changed value in the middle.
    const changed = (line: object): object =>
      'sequence' in line && line.sequence === 1500 ? { ...line, value: 'x' } : line
    expect(await refused(input(3000, changed))).toBe(
      `${cannot}its entry at sequence 1500 differs from stdin line 1501 in its value`,
    )
    // An entry past the input's last.
    expect(await refused(input(1500))).toBe(
      `${cannot}it holds an entry past the input's last line (sequence 1500)`,
    )
    // Sequences handed out past the next to import: here a writer's block of 4096.
    const handedOut = await existing(join(dir, 'handed-out'))
    const log = await openLog({ path: handedOut })
    const bytes = (text: string): Uint8Array => new TextEncoder().encode(text)
    await log.appendAt([{ sequence: 0, key: bytes('k'), value: bytes('v0') }])
    await log.close()
    expect(await refused(input(), handedOut)).toBe(
      `NOT_EMPTY: cannot resume: ${handedOut} does not hold the start of the input: it has handed out sequences up to 4095, past stdin line 2's 1, the next to import`,
    )
    expect(await entriesAt({ db: path })).toEqual(before)
    expect((await entriesAt({ db: handedOut })).entries).toHaveLength(1)
  })

  it('writes nothing into a log that holds the whole input, and on a new directory imports', async () => {
    const path = join(dir, 'whole')
    expect(await importLog({ db: path, resume: true }, input())).toEqual(E.right(0))
    expect(printed.join('')).toBe('imported 3000 entries\n')
    printed = []
    // Any write of entries would fail.
    store.commitsLeft = 0
    expect(await importLog({ db: path, resume: true }, input())).toEqual(E.right(0))
    expect(printed.join('')).toBe(
      'nothing to import: the log already holds all 3000 entries of the input\n',
    )
    expect((await entriesAt({ db: path })).entries).toHaveLength(3000)
  })
})

describe.runIf(postgresRuns)('an import into a table that was there, resumed', () => {
  it('goes on where it stopped, and refuses a table that is not the start of the input', async () => {
    const table = freshTable()
    const location = { db: postgresUrl ?? '', table }
    try {
      // Tables created by their owner, empty.
      await (
        await openLog({
          storage: await openPostgresStorage({
            connection: { connectionString: location.db },
            table,
          }),
        })
      ).close()
      store.commitsLeft = 2
      const stopped = await importLog(location, input())
      expect(E.isLeft(stopped) && stopped.left.message).toBe(
        `injected write failure; the import stopped after stdin line 2000: the entries up to it (sequence 1999) are committed, and the commit of the lines after it failed${advice}`,
      )
      store.commitsLeft = Infinity
      const plain = await importLog(location, input())
      expect(E.isLeft(plain) && plain.left.code).toBe('NOT_EMPTY')
      const changed = (line: object): object =>
        'sequence' in line && line.sequence === 10 ? { ...line, key: 'other' } : line
      const refused = await importLog({ ...location, resume: true }, input(3000, changed))
      expect(E.isLeft(refused) && refused.left.message).toMatch(
        /^cannot resume: table log_\w+ at .* does not hold the start of the input: its entry at sequence 10 differs from stdin line 11 in its key$/,
      )
      expect(await importLog({ ...location, resume: true }, input())).toEqual(E.right(0))
      const got = await entriesAt(location)
      expect(got.entries.map((e) => e.sequence)).toEqual(Array.from({ length: 3000 }, (_, i) => i))
      expect(got.nextSequence).toBe(3000)
    } finally {
      await dropTables(table)
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
