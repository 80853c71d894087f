/**
 * The commit chain of a format v2 log, checked: a pure fold over its commit records in sequence
 * order (`startChain`, `checkCommit`, `finishChain`) and `verifyChain`, which feeds it from a
 * storage. Every commit record names the end of the commit before it and carries a SHA-256 over
 * that commit's checksum and its own bytes (src/codec/commit.ts), so the fold finds:
 *
 * - a hole: a commit whose `prevEnd` is past the end of the commit before it — commits are
 *   missing between the two (the sequences `[end, prevEnd)` held entries that are gone);
 * - a changed byte: a commit whose stored checksum is not the one its bytes give;
 * - a truncated tail or a rewritten log, against a head recorded earlier (`log.head()`, kept
 *   elsewhere): the chain must pass through that head's end with that head's checksum; a head
 *   whose end no commit ends at is no head of the log as it is (`notAHead`).
 *
 * After a damaged commit the fold takes the next one as its new anchor, so one damaged commit
 * is reported once and the commits after it are still checked against each other.
 */
import * as E from 'fp-ts/lib/Either.js'
import * as O from 'fp-ts/lib/Option.js'
import {
  decodeCommit,
  encodeCommitKey,
  GENESIS,
  verifyLink,
  type ChainLink,
} from '../codec/commit.js'
import { FORMAT_VERSION, RecordType } from '../codec/records.js'
import { prefixSuccessor } from '../codec/keys.js'
import { writeU64 } from '../codec/u64.js'
import type { StorageError } from '../errors.js'
import type { KeyValue, Storage } from '../storage/port.js'
import { sameBytes } from '../codec/bytes.js'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** What is wrong with a chain, at the sequence where it breaks. */
export type ChainProblem =
  | { readonly kind: 'hole'; readonly from: number; readonly to: number }
  | { readonly kind: 'changed'; readonly sequence: number }
  | { readonly kind: 'unreadable'; readonly sequence: number; readonly reason: string }
  | { readonly kind: 'truncated'; readonly end: number; readonly headEnd: number }
  | { readonly kind: 'rewritten'; readonly sequence: number }
  /** The recorded head ends at `sequence`, where no commit ends: between two that do. */
  | {
      readonly kind: 'notAHead'
      readonly sequence: number
      readonly before: number
      readonly after: number
    }

export interface ChainState {
  readonly link: ChainLink
  /** Whether the last commit was damaged: the next one is then taken as it is. */
  readonly resync: boolean
  readonly commits: number
  readonly entries: number
  /** The link at the recorded head's end, once the walk has passed it. */
  readonly atHead: ChainLink | undefined
  readonly head: ChainLink | undefined
  readonly problems: ReadonlyArray<ChainProblem>
}

export interface ChainReport {
  readonly commits: number
  readonly entries: number
  /** The chain's end: the last commit's end and checksum. */
  readonly head: ChainLink
  readonly problems: ReadonlyArray<ChainProblem>
}

// -------------------------------------------------------------------------------------
// the fold
// -------------------------------------------------------------------------------------

/**
 * Starts a walk at `anchor` — `GENESIS` for a whole log, or the link a truncation kept for the
 * commits it removed — expecting to pass `head` if one is given.
 */
export const startChain = (anchor: ChainLink = GENESIS, head?: ChainLink): ChainState => ({
  link: anchor,
  resync: false,
  commits: 0,
  entries: 0,
  atHead: anchor.end === head?.end ? anchor : undefined,
  head,
  problems: [],
})

/**
 * Whether the record would continue `link` if its `prevEnd` field said `link.end`: then that
 * field was changed, and no commit is missing.
 */
const linksWithEnd = (link: ChainLink, pair: KeyValue): boolean => {
  const value = pair.value.slice()
  writeU64(value, 0, link.end)
  return verifyLink(link, pair.key, value)
}

/** Checks the next commit record, in sequence order. */
export const checkCommit = (state: ChainState, pair: KeyValue): ChainState => {
  const decoded = decodeCommit(pair.key, pair.value)
  if (E.isLeft(decoded)) {
    // Unreadable: its end is unknown, so the next commit is checked for its checksum only.
    return {
      ...state,
      resync: true,
      problems: [
        ...state.problems,
        { kind: 'unreadable', sequence: state.link.end, reason: decoded.left.message },
      ],
    }
  }
  const commit = decoded.right
  const problems = [...state.problems]
  if (state.resync) {
    // The commit before was damaged, so neither its end nor its checksum can be trusted: this
    // one becomes the new anchor.
  } else if (commit.prevEnd > state.link.end && !linksWithEnd(state.link, pair)) {
    problems.push({ kind: 'hole', from: state.link.end, to: commit.prevEnd })
  } else if (commit.prevEnd < state.link.end || !verifyLink(state.link, pair.key, pair.value)) {
    problems.push({ kind: 'changed', sequence: commit.firstSequence })
  }
  const link = { end: commit.end, checksum: commit.checksum.slice() }
  const head = state.head
  const passed = state.atHead ?? (head !== undefined && link.end === head.end ? link : undefined)
  if (
    head !== undefined &&
    state.atHead === undefined &&
    state.link.end < head.end &&
    link.end > head.end
  ) {
    // The recorded head ends inside this commit (or in the gap before it): no commit of the
    // log ends there, so it is no head of this log — or the log was rewritten since.
    problems.push({ kind: 'notAHead', sequence: head.end, before: state.link.end, after: link.end })
  }
  return {
    link,
    resync: problems.length > state.problems.length && problems.at(-1)?.kind === 'changed',
    commits: state.commits + 1,
    entries: state.entries + (commit.end - commit.firstSequence),
    atHead: passed,
    head,
    problems,
  }
}

/** Ends the walk: the report, with the recorded head checked. */
export const finishChain = (state: ChainState): ChainReport => {
  const problems = [...state.problems]
  const head = state.head
  if (head !== undefined) {
    if (state.atHead !== undefined) {
      if (!sameBytes(state.atHead.checksum, head.checksum)) {
        problems.push({ kind: 'rewritten', sequence: head.end })
      }
    } else if (state.link.end < head.end) {
      problems.push({ kind: 'truncated', end: state.link.end, headEnd: head.end })
    }
  }
  return { commits: state.commits, entries: state.entries, head: state.link, problems }
}

/** One line for a problem, naming the sequence where the chain breaks. */
export const describeProblem = (p: ChainProblem): string => {
  switch (p.kind) {
    case 'hole':
      return `commits are missing: the entries from ${p.from} up to ${p.to} are gone`
    case 'changed':
      return `the commit at ${p.sequence} was changed: its checksum does not match its bytes`
    case 'unreadable':
      return `the commit after ${p.sequence} cannot be read: ${p.reason}`
    case 'truncated':
      return `the log ends at ${p.end}, before its recorded head at ${p.headEnd}: its tail is gone`
    case 'rewritten':
      return `the log was rewritten: its chain at ${p.sequence} is not the recorded head`
    case 'notAHead':
      return `no commit of the log ends at ${p.sequence} (one ends at ${p.before}, the next at ${p.after}), so the recorded head is no head of this log (a head ends a commit, as log.head() and verify print it): it was taken from another log or mistyped, or the log was rewritten since`
  }
}

// -------------------------------------------------------------------------------------
// the walk
// -------------------------------------------------------------------------------------

const COMMIT_PREFIX = Uint8Array.of(FORMAT_VERSION, RecordType.Commit)

/** Walks every commit record of `storage` through the fold. */
export const verifyChain = async (
  storage: Storage,
  options: { readonly anchor?: ChainLink; readonly head?: ChainLink } = {},
): Promise<E.Either<StorageError, ChainReport>> => {
  let state = startChain(options.anchor, options.head)
  // Commits below the anchor are what an interrupted truncation has not deleted yet.
  const gte = options.anchor === undefined ? COMMIT_PREFIX : encodeCommitKey(options.anchor.end)
  const iterator = storage.iterator({ gte, lt: prefixSuccessor(COMMIT_PREFIX) })
  if (E.isLeft(iterator)) return iterator
  try {
    for (;;) {
      const chunk = await iterator.right.next()()
      if (E.isLeft(chunk)) return chunk
      if (O.isNone(chunk.right)) break
      for (const pair of chunk.right.value) state = checkCommit(state, pair)
    }
  } finally {
    await iterator.right.close()
  }
  return E.right(finishChain(state))
}
