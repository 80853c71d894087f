/**
 * `deltalog/postgres`: the Storage port on PostgreSQL. `pg` is an optional peer dependency,
 * loaded only when a storage is opened on a connection: `openLog({ storage })` and
 * `openEventStore({ storage })` run on the storage `openPostgresStorage` resolves with, which
 * `await using` closes. `holdLease` lets one process at a time, of any number, hold a table's
 * writer, and the others stand by. See docs/postgres.md.
 */
export {
  openPostgresStorage,
  redact,
  SCHEMA_VERSION,
  type PostgresStorageOptions,
} from './storage.js'
export { holdLease, type Lease, type LeaseOptions } from './lease.js'
