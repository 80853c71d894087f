// The least-privilege recipe of docs/postgres.md, run as it is written there: its SQL is read
// from the page, run as the server's superuser, and a writer and a reader then work on the log
// as the role it made, with exactly the grants it lists.
import { randomBytes } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import pg from 'pg'
import { describe, expect, it } from 'vitest'
import { openLog } from '../../src/index.js'
import { openPostgresStorage } from '../../src/postgres/storage.js'
import { postgresRuns, postgresUrl } from './server.js'

/** The test server's URL for another user: its superuser `postgres` is trusted on the socket. */
const urlAs = (user: string): string => {
  const url = postgresUrl ?? ''
  const replaced = url.replace(/^(postgres(?:ql)?:\/\/)[^@/]*@/, `$1${user}@`)
  if (replaced === url) throw new Error(`cannot put a user into ${url}`)
  return replaced
}

const asSuperuser = async (statements: string): Promise<void> => {
  const client = new pg.Client({ connectionString: urlAs('postgres') })
  await client.connect()
  try {
    await client.query(statements)
  } finally {
    await client.end()
  }
}

/** The SQL block of docs/postgres.md that grants a role the use of tables made for it. */
const recipe = async (): Promise<string> => {
  const doc = await readFile(new URL('../../docs/postgres.md', import.meta.url), 'utf8')
  const blocks = [...doc.matchAll(/```sql\n([\s\S]*?)```/g)].map((m) => m[1] ?? '')
  const found = blocks.filter((b) => b.includes('GRANT SELECT, INSERT, UPDATE, DELETE'))
  expect(found).toHaveLength(1)
  return found[0] ?? ''
}

describe.runIf(postgresRuns)('the least-privilege recipe of docs/postgres.md', () => {
  it('lets its role write, take over and read a log on the tables made for it', async () => {
    const id = randomBytes(4).toString('hex')
    const role = `app_${id}`
    const schema = `logs_${id}`
    const sql = (await recipe())
      .replaceAll(/\bapp\b/g, role)
      .replaceAll(/\blogs\b/g, schema)
      .replaceAll("'…'", `'${id}'`)
    await asSuperuser(sql)
    try {
      const connection = { connectionString: urlAs(role), max: 2 }
      const table = `${schema}.orders_log`
      for (const value of ['first', 'second']) {
        // The second open takes the log over from the first's epoch.
        const storage = await openPostgresStorage({ connection, table })
        const log = await openLog({ storage })
        await log.append([{ key: 'k', value }])
        await log.close()
        await storage.close()()
      }
      const storage = await openPostgresStorage({ connection, table, readOnly: true })
      const reader = await openLog({ storage, readOnly: true })
      const values = []
      for await (const e of reader.scan()) values.push(new TextDecoder().decode(e.value))
      expect(values).toEqual(['first', 'second'])
      await reader.close()
      await storage.close()()
    } finally {
      await asSuperuser(`DROP SCHEMA ${schema} CASCADE; DROP OWNED BY ${role}; DROP ROLE ${role}`)
    }
  })
})
