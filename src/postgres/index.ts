/**
 * `deltalog/postgres`: the Storage port on PostgreSQL. `pg` is an optional peer dependency,
 * loaded only by this entry point: `openLog({ storage })` and `openEventStore({ storage })` run
 * on the storage it opens. See docs/postgres.md.
 */
export {
  openPostgresStorage,
  redact,
  SCHEMA_VERSION,
  type PostgresStorageOptions,
} from './storage.js'
