/**
 * `deltalog/postgres`: the Storage port on PostgreSQL. `pg` is an optional peer dependency,
 * loaded only when a storage is opened on a connection: `openLog({ storage })` and
 * `openEventStore({ storage })` run on the storage `openPostgresStorage` resolves with, which
 * `await using` closes. See docs/postgres.md.
 */
export {
  openPostgresStorage,
  redact,
  SCHEMA_VERSION,
  type PostgresStorageOptions,
} from './storage.js'
