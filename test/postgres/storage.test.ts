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
import { openPostgresStorage, redact } from '../../src/postgres/storage.js'
import { runTypeScript, sourceEntry } from '../child.js'
import { registerConformance } from '../storage/conformance.js'
import { makeTempDir, removeDir } from '../tmpdir.js'
import { connection, dropTables, freshTable, postgresRuns, postgresUrl } from './server.js'

describe.runIf(postgresRuns)('postgres', () => {
  registerConformance({
    name: 'postgres',
    persistent: true,
    secondOpen: 'takes over',
    create: async () => {
      const table = freshTable()
      const open = () => openPostgresStorage({ connection: connection(), table })
      const opened = await open()()
      if (E.isLeft(opened)) throw new Error(opened.left.message)
      const storage = opened.right
      return {
        storage,
        reopen: open,
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
      const opened = await openPostgresStorage({ connection: connection(), table })()
      expect(E.isLeft(opened) && opened.left.code).toBe('CORRUPTION')
      const meta = await client.query(`SELECT value FROM "${table}_meta"`)
      expect(meta.rows).toEqual([{ value: '2' }])
    } finally {
      await client.end()
      await dropTables(table)
    }
  })

  it('runs the example of docs/postgres.md as written', async () => {
    const doc = await readFile(new URL('../../docs/postgres.md', import.meta.url), 'utf8')
    const block = /```ts\n([\s\S]*?)```/.exec(doc)?.[1] ?? ''
    const dir = await makeTempDir('postgres-doc')
    const table = 'orders_log'
    try {
      const script = join(dir, 'example.mts')
      const postgresEntry = new URL('../../src/postgres/index.ts', import.meta.url).pathname
      await writeFile(
        script,
        block
          .replace("from 'deltalog/postgres'", `from ${JSON.stringify(postgresEntry)}`)
          .replace("from 'deltalog'", `from ${JSON.stringify(sourceEntry)}`) +
          "await log.append([{ key: 'order', value: 'placed' }])\n" +
          'for await (const e of log.scan()) console.log(e.sequence, new TextDecoder().decode(e.value))\n' +
          'await log.close()\n',
      )
      const child = runTypeScript(script, { cwd: dir, env: { DATABASE_URL: postgresUrl ?? '' } })
      expect(child.stderr).toBe('')
      expect(child.stdout).toBe('0 placed\n')
    } finally {
      await removeDir(dir)
      await dropTables(table)
    }
  })

  it('inserts a put marked fresh: one of a key that holds a value fails the whole batch', async () => {
    const table = freshTable()
    const opened = await openPostgresStorage({ connection: connection(), table })()
    if (E.isLeft(opened)) throw new Error(opened.left.message)
    const storage = opened.right
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

  it('refuses a table name that is not a plain identifier, before connecting', async () => {
    for (const table of ['', 'Log', 'a-b', 'x"; drop table y; --', 'a.b.c']) {
      const opened = await openPostgresStorage({ connection: connection(), table })()
      expect(E.isLeft(opened) && opened.left.code).toBe('INVALID_ARGUMENT')
    }
  })
})

describe('openPostgresStorage options', () => {
  it('wants exactly one of pool and connection, before connecting', async () => {
    const neither = await openPostgresStorage({ table: 'log' })()
    expect(E.isLeft(neither) && neither.left).toMatchObject({
      code: 'INVALID_ARGUMENT',
      field: 'pool',
    })
    const pool = new pg.Pool()
    const both = await openPostgresStorage({
      table: 'log',
      pool,
      connection: { host: '/nonexistent' },
    })()
    await pool.end()
    expect(E.isLeft(both) && both.left.code).toBe('INVALID_ARGUMENT')
  })
})

describe('credentials', () => {
  it('never appear in an error or its cause, however it is printed', async () => {
    for (const connectionString of [
      'postgresql://app:s3cr3t@/db?host=/nonexistent',
      'postgresql://app:s3cr3t@db:notaport/x',
      'host=/nonexistent user=app password=s3cr3t dbname=x',
    ]) {
      const opened = await openPostgresStorage({ connection: { connectionString }, table: 'log' })()
      expect(E.isLeft(opened)).toBe(true)
      if (E.isRight(opened)) continue
      const error = new DeltalogError(opened.left)
      expect(error.code).toBe('IO_ERROR')
      for (const shown of [
        error.message,
        inspect(error, { depth: 5 }),
        JSON.stringify(opened.left),
      ]) {
        expect(shown).not.toContain('s3cr3t')
      }
    }
  })

  it('are not kept in the cause when the driver puts them in its error', async () => {
    const url = 'postgresql://app:s3cr3t@db/x'
    const pool = {
      query: () =>
        Promise.reject(
          Object.assign(new Error(`cannot reach ${url}`), { input: url, code: 'XX000' }),
        ),
    } as unknown as pg.Pool
    const opened = await openPostgresStorage({ pool, table: 'log' })()
    expect(E.isLeft(opened) && opened.left.message).toBe(
      'postgres open log: cannot reach postgresql://app:***@db/x (SQLSTATE XX000)',
    )
    if (E.isRight(opened)) return
    expect(inspect(new DeltalogError(opened.left), { depth: 5 })).not.toContain('s3cr3t')
    expect((opened.left as { cause?: { code?: string } }).cause?.code).toBe('XX000')
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
