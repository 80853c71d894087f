// The events the DCB index benchmark writes, and the reference answers its reads are checked
// against: each event has a type and two tags, a course (few, skewed) and a student (many), as
// in the DCB specification's course-subscription example. Every event is a pure function of its
// position, so every layout writes the same log and the answers are known without reading it.
import { random } from '../layouts/workloads.js'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

export const TYPES = 10
export const COURSES = 100
export const STUDENTS = 9_900
/** Distinct tags in a log of at least a few hundred thousand events: every course and student. */
export const TAGS = COURSES + STUDENTS
/** Bytes of payload in every event, after its type and tags. */
export const PAYLOAD_BYTES = 80

export const typeName = (t: number): string => `type-${t}`
export const courseTag = (c: number): string => `course-${c}`
export const studentTag = (s: number): string => `student-${s}`

/** One item of a DCB query: any of `types` (if given) and all of `tags` (if given). */
export interface Item {
  readonly types?: ReadonlyArray<string>
  readonly tags?: ReadonlyArray<string>
}
export type Query = ReadonlyArray<Item>

/** The events at positions `1..n`, column by column. */
export interface Events {
  readonly n: number
  readonly type: Uint8Array
  readonly course: Uint8Array
  readonly student: Uint16Array
}

// -------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------

/**
 * `n` events. Types and courses are skewed (the square of a uniform draw: the first type holds
 * about a third of the events, the first course about a tenth); students are uniform, so a
 * student tag has about n / 9,900 events and a course tag up to about n / 10.
 */
export const events = (n: number): Events => {
  const next = random(22)
  const type = new Uint8Array(n + 1)
  const course = new Uint8Array(n + 1)
  const student = new Uint16Array(n + 1)
  for (let p = 1; p <= n; p++) {
    type[p] = Math.floor(next() ** 2 * TYPES)
    course[p] = Math.floor(next() ** 2 * COURSES)
    student[p] = Math.floor(next() * STUDENTS)
  }
  return { n, type, course, student }
}

export const typeOf = (e: Events, p: number): string => typeName(e.type[p] ?? 0)
export const tagsOf = (e: Events, p: number): readonly [string, string] => [
  courseTag(e.course[p] ?? 0),
  studentTag(e.student[p] ?? 0),
]

// -------------------------------------------------------------------------------------
// the event record's value
// -------------------------------------------------------------------------------------

// Pseudo-random bytes, so that Snappy (on by default in the addon) finds little to compress: a
// slice of the pool per event, at an offset far enough from the last event's that consecutive
// events, which share a block, share no bytes.
// (measure.ts's `valueOf` repeats itself within a few hundred bytes, so it is not used here.)
const POOL = ((next) => Buffer.from(Array.from({ length: 1 << 16 }, () => next() * 256)))(random(7))
const payloadAt = (p: number): number => ((p * 7919) % ((POOL.length - PAYLOAD_BYTES) >> 3)) << 3

/**
 * The value every layout stores for an event: `u8 typeLength | type | u8 tagCount | (u8 length
 * | tag)*` and `PAYLOAD_BYTES` of pseudo-random payload, standing for the event's data.
 */
export const eventValue = (type: string, tags: ReadonlyArray<string>, p: number): Buffer => {
  let size = 2 + Buffer.byteLength(type) + PAYLOAD_BYTES
  for (const tag of tags) size += 1 + Buffer.byteLength(tag)
  const out = Buffer.allocUnsafe(size)
  let at = 0
  out[at] = out.write(type, at + 1, 'latin1')
  at += 1 + (out[at] ?? 0)
  out[at++] = tags.length
  for (const tag of tags) {
    out[at] = out.write(tag, at + 1, 'latin1')
    at += 1 + (out[at] ?? 0)
  }
  POOL.copy(out, at, payloadAt(p), payloadAt(p) + PAYLOAD_BYTES)
  return out
}

/** The type and tags an event value holds. */
export const decodeEvent = (
  value: Buffer,
): { readonly type: string; readonly tags: ReadonlyArray<string> } => {
  let at = 0
  const typeLength = value[at++] ?? 0
  const type = value.toString('latin1', at, at + typeLength)
  at += typeLength
  const count = value[at++] ?? 0
  const tags: string[] = []
  for (let i = 0; i < count; i++) {
    const length = value[at++] ?? 0
    tags.push(value.toString('latin1', at, at + length))
    at += length
  }
  return { type, tags }
}

// -------------------------------------------------------------------------------------
// reference answers
// -------------------------------------------------------------------------------------

export const matchesItem = (item: Item, type: string, tags: ReadonlyArray<string>): boolean =>
  (item.types === undefined || item.types.includes(type)) &&
  (item.tags === undefined || item.tags.every((t) => tags.includes(t)))

export const matches = (query: Query, type: string, tags: ReadonlyArray<string>): boolean =>
  query.some((item) => matchesItem(item, type, tags))

/** The first position above `after`, up to `head`, whose event matches, by a scan of the model. */
export const firstMatch = (
  e: Events,
  query: Query,
  after: number,
  head: number,
): number | undefined => {
  for (let p = after + 1; p <= head; p++) {
    if (matches(query, typeOf(e, p), tagsOf(e, p))) return p
  }
  return undefined
}

/** The positions of each student's events up to `head`, in order, to check reads by tags. */
export const studentPositions = (e: Events, head: number): ReadonlyArray<ReadonlyArray<number>> => {
  const out: number[][] = Array.from({ length: STUDENTS }, () => [])
  for (let p = 1; p <= head; p++) out[e.student[p] ?? 0]?.push(p)
  return out
}
