/**
 * The key space of on-disk format 2, the format this code writes: the two bytes every key
 * starts with — the format's version, then the record type — and the keys of the records that
 * exist once per store (the SeqBlock, the format record, named metadata). The commit and run
 * records' keys are in commit.ts; format 1's keys, read only to convert them, in
 * src/format/v1/keys.ts. docs/format.md has the layout.
 */
import { metaKeyOf } from './keys.js'

/** On-disk format 2, the one this code writes: the first byte of every key it writes. */
export const FORMAT_VERSION = 0x02

/** The second byte of every format 2 key: which kind of record follows. */
export const RecordType = {
  /** The allocator's SeqBlock; one record. */
  SeqBlock: 0x01,
  /** A run: the entries of one key at consecutive sequences in one commit. */
  Run: 0x02,
  /** A commit, chained to the one before it. */
  Commit: 0x03,
  /** Named metadata records: the format record, the truncation. */
  Meta: 0x04,
} as const

export type RecordType = (typeof RecordType)[keyof typeof RecordType]

/** The key of the allocator's SeqBlock record. */
export const seqBlockKey: Uint8Array = Uint8Array.of(FORMAT_VERSION, RecordType.SeqBlock)

/** The key of a named format 2 metadata record: `FORMAT_VERSION | Meta | UTF-8 name`. */
export const metaKey = (name: string): Uint8Array => metaKeyOf(FORMAT_VERSION, name)

/** The record whose presence makes a store a format 2 log; its value is `FORMAT_VERSION`. */
export const formatKey: Uint8Array = metaKey('format')
