// The PostgreSQL server the tests run against: `DELTALOG_TEST_POSTGRES_URL`, which `.ci/run` and
// `.ci/with-postgres` set after starting a throwaway server, and which the test run's global setup
// sets itself when PostgreSQL is installed and no server was given (test/support/postgres.ts).
// Without it the PostgreSQL suites are skipped, except under CI, where a missing server is a
// failure. The durability test also connects as the superuser `postgres` of the same server.
import { randomBytes } from 'node:crypto'
import pg from 'pg'

export const postgresUrl = process.env['DELTALOG_TEST_POSTGRES_URL']

/** Whether the PostgreSQL suites run: a server is given, or CI demands one. */
export const postgresRuns = postgresUrl !== undefined || process.env['CI'] !== undefined

/**
 * The server's connection settings; under CI without a server, a failure naming the cause. A
 * test that terminates sessions names its own (`application`) and kills only those: test files
 * run side by side on the same server.
 */
export const connection = (application?: string): pg.PoolConfig => {
  if (postgresUrl === undefined) {
    throw new Error('CI is set but DELTALOG_TEST_POSTGRES_URL is not: no PostgreSQL server to test')
  }
  return {
    connectionString: postgresUrl,
    max: 4,
    ...(application === undefined ? {} : { application_name: application }),
  }
}

/** A table name no other test uses, in the test role's schema. */
export const freshTable = (): string => `log_${randomBytes(6).toString('hex')}`

/** Drops a log's tables, as the role that made them. */
export const dropTables = async (table: string): Promise<void> => {
  const client = new pg.Client(connection())
  await client.connect()
  try {
    await client.query(`DROP TABLE IF EXISTS "${table}", "${table}_meta"`)
  } finally {
    await client.end()
  }
}
