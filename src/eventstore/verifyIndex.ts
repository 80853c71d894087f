/**
 * The check of the index of tags and types for `verifyStorage`, registered when this module
 * loads: in a store whose index is complete (it holds the index's marker), the postings list
 * exactly the events the log holds, at their positions, with their types and tags. Each side
 * is summed into a digest — one hash per (tag, event) and per (type, event) — and the sums
 * compared at the end, so the check keeps no more than a few numbers whatever the log's size.
 */
import * as E from 'fp-ts/lib/Either.js'
import { registerEntryCheck, type CheckRun, type EntryCheck } from '../verify/checks.js'
import { decodeEvent, EVENTS, INDEX_MARKER, TAGS, TYPES } from './envelope.js'
import { decodePosting } from './postings.js'

const text = new TextEncoder()
const untext = new TextDecoder()

/** A 64-bit hash of a string, as two 32-bit halves (FNV-1a, two seeds). */
const hash = (s: string): readonly [number, number] => {
  let a = 0x811c9dc5
  let b = 0x01000193 ^ s.length
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    a = Math.imul(a ^ c, 0x01000193)
    b = Math.imul(b ^ c, 0x5bd1e995) ^ (b >>> 15)
  }
  return [a >>> 0, b >>> 0]
}

/** A multiset of postings as a count and a sum of hashes: what each side adds. */
class Digest {
  private count = 0
  private low = 0
  private high = 0
  add(parts: ReadonlyArray<string | number>, sign: 1 | -1): void {
    const [a, b] = hash(JSON.stringify(parts))
    this.count += sign
    this.low = (this.low + sign * a) >>> 0
    this.high = (this.high + sign * b) >>> 0
  }
  get zero(): boolean {
    return this.count === 0 && this.low === 0 && this.high === 0
  }
}

const tagPart = (tag: string, position: number, type: string, tags: ReadonlyArray<string>) => [
  't',
  tag,
  position,
  type,
  ...tags,
]

/** One verification's run: events add to the digests, postings take away. */
const startIndexCheck = (truncatedBefore: number): CheckRun => {
  const tags = new Digest()
  const types = new Digest()
  const tagged = { events: 0, postings: 0 }
  const typed = { events: 0, postings: 0 }
  const ofEvent = (value: Uint8Array, position: number): string | undefined => {
    const event = decodeEvent(value)
    if (E.isLeft(event)) return undefined // the events check says so
    const { type, tags: its } = event.right
    for (const tag of its) tags.add(tagPart(tag, position, type, its), 1)
    tagged.events += its.length
    types.add(['y', type, position], 1)
    typed.events++
    return undefined
  }
  const ofPosting =
    (kind: 'tag' | 'type', name: string) =>
    (value: Uint8Array, sequence: number): string | undefined => {
      const list = decodePosting(kind, name, { sequence, value })
      if (E.isLeft(list)) return `is not a posting of the index: ${list.left.message}`
      for (const p of list.right) {
        if (p.position < truncatedBefore) continue
        if (kind === 'tag') {
          tags.add(tagPart(name, p.position, p.type, p.tags ?? []), -1)
          tagged.postings++
        } else {
          types.add(['y', name, p.position], -1)
          typed.postings++
        }
      }
      return undefined
    }
  return {
    forKey: (bytes) => {
      const key = untext.decode(bytes)
      if (key.startsWith(EVENTS)) return ofEvent
      if (key.startsWith(TAGS)) return ofPosting('tag', key.slice(TAGS.length))
      if (key.startsWith(TYPES)) return ofPosting('type', key.slice(TYPES.length))
      return undefined
    },
    end: () => [
      ...(tags.zero
        ? []
        : [
            `the index of tags disagrees with the events: ${tagged.postings} postings for ${tagged.events} tags of events`,
          ]),
      ...(types.zero
        ? []
        : [
            `the index of types disagrees with the events: ${typed.postings} postings for ${typed.events} events`,
          ]),
    ],
  }
}

/** The check of the index. */
export const indexCheck: EntryCheck = {
  name: 'event store index',
  marker: text.encode(INDEX_MARKER),
  start: startIndexCheck,
}

registerEntryCheck(indexCheck)
