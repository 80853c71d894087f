// The PostgreSQL adapter against a real server: the Storage conformance suite, and what is
// particular to it.
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import * as E from 'fp-ts/lib/Either.js'
import * as O from 'fp-ts/lib/Option.js'
import { inspect } from 'node:util'
import pg from 'pg'
import { describe, expect, it } from 'vitest'
import { DeltalogError } from '../../src/errors.js'
import { openPostgresStorage, openPostgresStorageTE, redact } from '../../src/postgres/storage.js'
import { runTypeScript, sourceEntry } from '../support/child.js'
import type { Storage } from '../../src/storage/port.js'
import { registerConformance } from '../storage/conformance.js'
import { makeTempDir, removeDir } from '../support/tmpdir.js'
import { connection, dropTables, freshTable, postgresRuns, postgresUrl } from './server.js'

describe.runIf(postgresRuns)('postgres', () => {
  registerConformance({
    name: 'postgres',
    persistent: true,
    secondOpen: 'takes over',
    create: async () => {
      const table = freshTable()
      const storage = await openPostgresStorage({ connection: connection(), table })
      return {
        storage,
        reopen: () => openPostgresStorageTE({ connection: connection(), table }),
        dispose: async () => {
          await storage.close()()
          await dropTables(table)
        },
      }
    },
  })

  it('refuses a table of another layout version with CORRUPTION, leaving it as it is', async () => {
    const table = freshTable()
    const client = new pg.Client(connection())
    await client.connect()
    try {
      await client.query(
        `CREATE TABLE "${table}_meta" (name text PRIMARY KEY, value text NOT NULL)`,
      )
      await client.query(`INSERT INTO "${table}_meta" VALUES ('schema', '2')`)
      await expect(openPostgresStorage({ connection: connection(), table })).rejects.toMatchObject({
        name: 'DeltalogError',
        code: 'CORRUPTION',
      })
      const meta = await client.query(`SELECT value FROM "${table}_meta"`)
      expect(meta.rows).toEqual([{ value: '2' }])
    } finally {
      await client.end()
      await dropTables(table)
    }
  })

  it('runs the examples of docs/postgres.md as written: a writer, then a reader', async () => {
    const doc = await readFile(new URL('../../docs/postgres.md', import.meta.url), 'utf8')
    const blocks = [...doc.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1] ?? '')
    // The second, partitions through leases, runs in consumerHolder.test.ts.
    expect(blocks.length).toBe(3)
    const [writing = '', , reading = ''] = blocks
    const dir = await makeTempDir('postgres-doc')
    const table = 'orders_log'
    const postgresEntry = new URL('../../src/postgres/index.ts', import.meta.url).pathname
    const run = async (name: string, source: string) => {
      const script = join(dir, name)
      await writeFile(
        script,
        source
          .replace("from 'deltalog/postgres'", `from ${JSON.stringify(postgresEntry)}`)
          .replace("from 'deltalog'", `from ${JSON.stringify(sourceEntry)}`),
      )
      return runTypeScript(script, { cwd: dir, env: { DATABASE_URL: postgresUrl ?? '' } })
    }
    try {
      const writer = await run(
        'writer.mts',
        writing +
          "await log.append([{ key: 'order', value: 'placed' }])\n" +
          'for await (const e of log.scan()) console.log(e.sequence, new TextDecoder().decode(e.value))\n' +
          'await log.close()\n',
      )
      expect(writer.stderr).toBe('')
      expect(writer.stdout).toBe('0 placed\n')
      // The reader's block, given what it leaves to the page around it; once the block has
      // ended, `await using` has closed the storage.
      const reader = await run(
        'reader.mts',
        "import { openLog } from 'deltalog'\n" +
          "import { openPostgresStorage } from 'deltalog/postgres'\n" +
          'const connection = { connectionString: process.env.DATABASE_URL }\n' +
          'const controller = new AbortController()\n' +
          'const signal = controller.signal\n' +
          'const handle = (e: { sequence: number; value: Uint8Array }) => {\n' +
          '  console.log(e.sequence, new TextDecoder().decode(e.value))\n' +
          '  controller.abort()\n' +
          '}\n' +
          'let kept: { get: (key: Uint8Array) => () => Promise<{ left?: { code: string } }> }\n' +
          `{\n${reading}kept = storage\n}\n` +
          'console.log((await kept.get(Uint8Array.of(1))()).left?.code)\n',
      )
      expect(reader.stderr).toBe('')
      expect(reader.stdout).toBe('0 placed\nCLOSED\n')
    } finally {
      await removeDir(dir)
      await dropTables(table)
    }
  })

  it('inserts a put marked fresh: one of a key that holds a value fails the whole batch', async () => {
    const table = freshTable()
    const storage = await openPostgresStorage({ connection: connection(), table })
    try {
      const k = (s: string) => new TextEncoder().encode(s)
      const put = (key: string, fresh?: boolean) =>
        fresh === undefined
          ? { type: 'put' as const, key: k(key), value: k(key) }
          : { type: 'put' as const, key: k(key), value: k(key), fresh }
      expect(E.isRight(await storage.write([put('a', true)], { sync: true })())).toBe(true)
      const again = await storage.write([put('b'), put('a', true)], { sync: true })()
      expect(E.isLeft(again) && again.left.code).toBe('IO_ERROR')
      expect(O.isNone(E.getOrElseW(() => O.some(0))(await storage.get(k('b'))()))).toBe(true)
      const bad = await storage.write([{ ...put('c'), fresh: 1 as unknown as boolean }], {
        sync: true,
      })()
      expect(E.isLeft(bad) && bad.left).toMatchObject({
        code: 'INVALID_ARGUMENT',
        field: 'batch[0].fresh',
      })
    } finally {
      await storage.close()()
      await dropTables(table)
    }
  })

  it('closes on await using as on close(): later calls are CLOSED, closing again is harmless', async () => {
    const table = freshTable()
    const key = Uint8Array.of(1)
    let disposed: Storage | undefined
    try {
      {
        await using storage = await openPostgresStorage({ connection: connection(), table })
        disposed = storage
        const put = { type: 'put' as const, key, value: key }
        expect(E.isRight(await storage.write([put], { sync: true })())).toBe(true)
      }
      const after = await disposed.get(key)()
      expect(E.isLeft(after) && after.left.code).toBe('CLOSED')
      expect(E.isRight(await disposed.close()())).toBe(true)
      await expect(
        (disposed as Storage & AsyncDisposable)[Symbol.asyncDispose](),
      ).resolves.toBeUndefined()
    } finally {
      await dropTables(table)
    }
  })
})

/** What `opening` rejected with; a failure if it resolved. */
const rejection = async (opening: Promise<Storage>): Promise<DeltalogError> => {
  const storage = await opening.catch((error: unknown) => error)
  if (!(storage instanceof DeltalogError))
    throw new Error('the open did not reject with DeltalogError')
  return storage
}

describe('openPostgresStorage options', () => {
  it('rejects a table name that is not a plain identifier with INVALID_ARGUMENT, before connecting', async () => {
    for (const table of ['', 'Log', 'a-b', 'x"; drop table y; --', 'a.b.c']) {
      // A connection would fail with IO_ERROR: the name is refused before one is tried.
      const error = await rejection(
        openPostgresStorage({ connection: { host: '/nonexistent' }, table }),
      )
      expect(error).toMatchObject({ code: 'INVALID_ARGUMENT', error: { field: 'table' } })
    }
  })

  it('wants exactly one of pool and connection, before connecting', async () => {
    // The TaskEither form resolves with the refusal instead of rejecting.
    const neither = await openPostgresStorageTE({ table: 'log' })()
    expect(E.isLeft(neither) && neither.left).toMatchObject({
      code: 'INVALID_ARGUMENT',
      field: 'pool',
    })
    const pool = new pg.Pool()
    const both = await rejection(
      openPostgresStorage({ table: 'log', pool, connection: { host: '/nonexistent' } }),
    )
    await pool.end()
    expect(both).toMatchObject({ code: 'INVALID_ARGUMENT', error: { field: 'pool' } })
  })
})

describe('credentials', () => {
  it('never appear in an error or its cause, however it is printed', async () => {
    for (const connectionString of [
      'postgresql://app:s3cr3t@/db?host=/nonexistent',
      'postgresql://app:s3cr3t@db:notaport/x',
      'host=/nonexistent user=app password=s3cr3t dbname=x',
    ]) {
      const error = await rejection(
        openPostgresStorage({ connection: { connectionString }, table: 'log' }),
      )
      expect(error.code).toBe('IO_ERROR')
      for (const shown of [
        error.message,
        inspect(error, { depth: 5 }),
        JSON.stringify(error.error),
      ]) {
        expect(shown).not.toContain('s3cr3t')
      }
    }
  })

  it('are not kept in the cause when the driver puts them in its error', async () => {
    const url = 'postgresql://app:s3cr3t@db/x'
    const failing = () =>
      Promise.reject(Object.assign(new Error(`cannot reach ${url}`), { input: url, code: 'XX000' }))
    const client = { query: failing, release: () => undefined, on: () => client }
    Object.assign(client, { once: client.on, removeListener: client.on })
    const pool = {
      idleCount: 1,
      totalCount: 1,
      options: { max: 1 },
      connect: () => Promise.resolve(client),
    } as unknown as pg.Pool
    const error = await rejection(openPostgresStorage({ pool, table: 'log' }))
    expect(error.message).toBe(
      'postgres open log: cannot reach postgresql://app:***@db/x (SQLSTATE XX000)',
    )
    expect(inspect(error, { depth: 5 })).not.toContain('s3cr3t')
    expect((error.error as { cause?: { code?: string } }).cause?.code).toBe('XX000')
  })
})

describe('redact', () => {
  it('hides passwords in connection strings and key=value settings', () => {
    expect(redact('connect to postgresql://app:s3cr3t@db:5432/x failed')).toBe(
      'connect to postgresql://app:***@db:5432/x failed',
    )
    expect(redact('host=db password=s3cr3t user=app')).toBe('host=db password=*** user=app')
    expect(redact("password = 'a b'")).toBe('password = ***')
    // An @ in the password, no user, a password as a query parameter, any case of scheme.
    expect(redact('postgres://u:p@ss@h/db')).toBe('postgres://u:***@h/db')
    expect(redact('POSTGRESQL://:s3cr3t@h:5432/db')).toBe('POSTGRESQL://:***@h:5432/db')
    expect(redact('postgresql://u@h/db?password=s3cr3t&sslmode=require')).toBe(
      'postgresql://u@h/db?password=***&sslmode=require',
    )
  })
})
