// The baselines of the DCB case: event stores with tags and conditional appends as an
// application would write them on better-sqlite3 and on PostgreSQL (`pg`), in the layout Python's
// `eventsourcing` found fastest for DCB — an events table and a tags table of (tag, position)
// under B-tree indexes, with the events' type indexed too. A conditional append checks for an
// event holding both of its tags above `after` and inserts the event and its tags in one
// transaction.
import { createRequire } from 'node:module'
import type pg from 'pg'
import { tagsOf, typeOf, type Events } from '../dcbLayouts/events.js'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** An event's two tags: its course, then its student. */
export type Tags = readonly [string, string]

/** One side of the case: a store that appends one event at a time under a condition. */
export interface DcbSide {
  /**
   * Appends one event of `type` tagged `tags` unless an event holding both tags lies above
   * `after`, durably; resolves to true when it appended, false when the condition failed.
   */
  readonly append: (type: string, tags: Tags, after: number) => Promise<boolean>
  /** The newest position this process knows to be committed. */
  readonly head: () => number
}

/** The `data` of every event, on every side. */
export const EVENT_DATA = { amount: 10, note: 'x'.repeat(60) }

/** Events per preload transaction (SQLite) or statement (PostgreSQL). */
const PRELOAD_BATCH = 10_000

// -------------------------------------------------------------------------------------
// SQLite
// -------------------------------------------------------------------------------------

interface Statement {
  run(...params: unknown[]): { readonly lastInsertRowid: number | bigint }
  get(...params: unknown[]): unknown
}
interface Sqlite {
  pragma(source: string): unknown
  exec(source: string): void
  prepare(source: string): Statement
  transaction<A extends unknown[], R>(f: (...args: A) => R): (...args: A) => R
  close(): void
}
const Database = createRequire(import.meta.url)('better-sqlite3') as new (path: string) => Sqlite

const SQLITE_SCHEMA = `
  CREATE TABLE events (position INTEGER PRIMARY KEY, type TEXT NOT NULL, data TEXT NOT NULL);
  CREATE INDEX events_type ON events (type);
  CREATE TABLE tags (tag TEXT NOT NULL, position INTEGER NOT NULL, PRIMARY KEY (tag, position))
    WITHOUT ROWID;
`

// The student tag (the rarer) drives the join; either way only positions above `after` are read.
const SQLITE_CHECK = `
  SELECT s.position FROM tags s JOIN tags c ON c.tag = ? AND c.position = s.position
  WHERE s.tag = ? AND s.position > ? ORDER BY s.position LIMIT 1`

/** A DCB event store on better-sqlite3 at `file`: WAL, `synchronous = FULL`. */
export const openSqliteDcb = (
  file: string,
): DcbSide & { readonly preload: (e: Events) => void; readonly close: () => void } => {
  const db = new Database(file)
  db.pragma('journal_mode = WAL')
  db.pragma('synchronous = FULL')
  db.exec(SQLITE_SCHEMA)
  const insertEvent = db.prepare('INSERT INTO events (type, data) VALUES (?, ?)')
  const insertTag = db.prepare('INSERT INTO tags (tag, position) VALUES (?, ?)')
  const check = db.prepare(SQLITE_CHECK)
  const data = JSON.stringify(EVENT_DATA)
  let head = 0
  const insert = (type: string, tags: ReadonlyArray<string>): number => {
    const position = Number(insertEvent.run(type, data).lastInsertRowid)
    for (const tag of tags) insertTag.run(tag, position)
    return position
  }
  const preloadBatch = db.transaction((e: Events, from: number, to: number) => {
    for (let p = from; p <= to; p++) head = insert(typeOf(e, p), tagsOf(e, p))
  })
  const append = db.transaction((type: string, tags: Tags, after: number): boolean => {
    if (check.get(tags[0], tags[1], after) !== undefined) return false
    head = insert(type, tags)
    return true
  })
  return {
    preload: (e) => {
      for (let p = 1; p <= e.n; p += PRELOAD_BATCH) {
        preloadBatch(e, p, Math.min(e.n, p + PRELOAD_BATCH - 1))
      }
    },
    // The binding is synchronous: one durable transaction per append, as its users run it.
    append: (type, tags, after) => Promise.resolve(append(type, tags, after)),
    head: () => head,
    close: () => db.close(),
  }
}

// -------------------------------------------------------------------------------------
// PostgreSQL
// -------------------------------------------------------------------------------------

/**
 * A DCB event store on PostgreSQL in tables named after `table`, on `pool`. An append is one call
 * of a function that locks the events table in EXCLUSIVE mode (readers go on), checks and
 * inserts, as `eventsourcing` does: without the lock two transactions could each pass their
 * check before the other commits, and a bigserial position could commit below one a reader has
 * already passed.
 */
export const openPostgresDcb = async (
  pool: pg.Pool,
  table: string,
): Promise<DcbSide & { readonly preload: (e: Events) => Promise<void> }> => {
  const events = `"${table}"`
  const tags = `"${table}_tags"`
  const append = `"${table}_append"`
  await pool.query(`
    CREATE TABLE ${events} (position bigserial PRIMARY KEY, type text NOT NULL, data jsonb NOT NULL);
    CREATE INDEX ON ${events} (type);
    CREATE TABLE ${tags} (tag text NOT NULL, position bigint NOT NULL, PRIMARY KEY (tag, position));
    CREATE FUNCTION ${append}(event_type text, event_data jsonb, course text, student text, after bigint)
    RETURNS bigint LANGUAGE plpgsql AS $$
    DECLARE
      appended bigint;
    BEGIN
      LOCK TABLE ${events} IN EXCLUSIVE MODE;
      PERFORM FROM ${tags} s JOIN ${tags} c ON c.tag = course AND c.position = s.position
        WHERE s.tag = student AND s.position > after LIMIT 1;
      IF FOUND THEN
        RETURN NULL;
      END IF;
      INSERT INTO ${events} (type, data) VALUES (event_type, event_data) RETURNING position INTO appended;
      INSERT INTO ${tags} (tag, position) VALUES (course, appended), (student, appended);
      RETURN appended;
    END $$;`)
  const data = JSON.stringify(EVENT_DATA)
  let head = 0
  const noteHead = (position: unknown): void => {
    head = Math.max(head, Number(position))
  }
  return {
    preload: async (e) => {
      for (let from = 1; from <= e.n; from += PRELOAD_BATCH) {
        const to = Math.min(e.n, from + PRELOAD_BATCH - 1)
        const types: string[] = []
        const courses: string[] = []
        const students: string[] = []
        for (let p = from; p <= to; p++) {
          const [course, student] = tagsOf(e, p)
          types.push(typeOf(e, p))
          courses.push(course)
          students.push(student)
        }
        await preloadRows(pool, events, tags, data, types, courses, students)
      }
      const r = await pool.query<{ head: string }>(`SELECT max(position) AS head FROM ${events}`)
      noteHead(r.rows[0]?.head ?? 0)
      await pool.query(`VACUUM ANALYZE ${events}, ${tags}`)
    },
    // One statement, so one transaction, and one round trip with the lock held.
    append: async (type, [course, student], after) => {
      const r = await pool.query<{ position: string | null }>(
        `SELECT ${append}($1, $2, $3, $4, $5) AS position`,
        [type, data, course, student, after],
      )
      const position = r.rows[0]?.position ?? null
      if (position === null) return false
      noteHead(position)
      return true
    },
    head: () => head,
  }
}

/** Inserts a batch of events and their two tags each in one statement. */
const preloadRows = (
  pool: pg.Pool,
  events: string,
  tags: string,
  data: string,
  types: ReadonlyArray<string>,
  courses: ReadonlyArray<string>,
  students: ReadonlyArray<string>,
): Promise<unknown> =>
  pool.query(
    `WITH input AS (
       SELECT u.type, u.course, u.student, nextval(pg_get_serial_sequence('${events}', 'position')) AS position
       FROM unnest($1::text[], $2::text[], $3::text[]) AS u(type, course, student)),
     event AS (
       INSERT INTO ${events} (position, type, data) SELECT position, type, $4 FROM input)
     INSERT INTO ${tags} (tag, position)
     SELECT course, position FROM input UNION ALL SELECT student, position FROM input`,
    [types, courses, students, data],
  )
