/**
 * How RocksDB's block-based table files are laid out, as far as checking them needs (RocksDB
 * 6.17, table/format.cc and table/block_based/block.cc): the footer, block handles, the
 * five-byte trailer of every block (its compression type and a masked CRC-32C of the block and
 * that byte), Snappy-compressed blocks, and the entries of index and meta-index blocks. Pure:
 * every function takes bytes and returns values, and a malformed input is a `TableDamage`.
 */

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** Where a block is in its file: its offset and its size, without the trailer. */
export interface BlockHandle {
  readonly offset: number
  readonly size: number
}

/** What the footer of a table says. */
export interface Footer {
  /** 1 is CRC-32C, the only kind RocksDB 6.17 writes by default; others are not checked. */
  readonly checksumType: number
  readonly formatVersion: number
  readonly metaIndex: BlockHandle
  readonly index: BlockHandle
}

/** Bytes that are not what RocksDB writes, and why. */
export class TableDamage extends Error {}

/** The bytes after every block: its compression type and its checksum. */
export const TRAILER_SIZE = 5
/** The footer of format version 1 and later: checksum type, two handles padded, version, magic. */
export const FOOTER_SIZE = 53
const MAGIC = [0xf7, 0xcf, 0xf4, 0x85, 0xb7, 0x41, 0xe2, 0x88]
const NO_COMPRESSION = 0
const SNAPPY = 1
const CRC32C = 1

const damaged = (why: string): never => {
  throw new TableDamage(why)
}

// -------------------------------------------------------------------------------------
// CRC-32C, masked as RocksDB stores it (util/crc32c.h)
// -------------------------------------------------------------------------------------

// Four tables, so that the loop takes four bytes a turn (slicing-by-4).
const CRC_TABLES = ((): Uint32Array => {
  const tables = new Uint32Array(4 * 256)
  for (let n = 0; n < 256; n++) {
    let c = n
    for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1
    tables[n] = c >>> 0
  }
  for (let n = 0; n < 256; n++) {
    for (let t = 1; t < 4; t++) {
      const previous = tables[(t - 1) * 256 + n] as number
      tables[t * 256 + n] = ((tables[previous & 0xff] as number) ^ (previous >>> 8)) >>> 0
    }
  }
  return tables
})()

/** The CRC-32C of `bytes`, continuing from `crc`. */
export const crc32c = (bytes: Uint8Array, crc = 0): number => {
  const t = CRC_TABLES
  let c = ~crc >>> 0
  let i = 0
  for (const end = bytes.length - 3; i < end; i += 4) {
    c ^= (bytes[i] as number) | ((bytes[i + 1] as number) << 8)
    c ^= ((bytes[i + 2] as number) << 16) | ((bytes[i + 3] as number) << 24)
    c =
      (t[768 + (c & 0xff)] as number) ^
      (t[512 + ((c >>> 8) & 0xff)] as number) ^
      (t[256 + ((c >>> 16) & 0xff)] as number) ^
      (t[c >>> 24] as number)
  }
  for (; i < bytes.length; i++) c = (t[(c ^ (bytes[i] as number)) & 0xff] as number) ^ (c >>> 8)
  return ~c >>> 0
}

const mask = (crc: number): number => ((((crc >>> 15) | (crc << 17)) >>> 0) + 0xa282ead8) >>> 0

// -------------------------------------------------------------------------------------
// destructors
// -------------------------------------------------------------------------------------

/** Reads a varint of up to 64 bits (as a safe integer) at `at`: the value and the offset after. */
export const varint = (bytes: Uint8Array, at: number): readonly [number, number] => {
  let n = 0
  for (let shift = 0, i = at; shift < 64; shift += 7, i++) {
    if (i >= bytes.length) return damaged('a varint runs past its block')
    const b = bytes[i] as number
    n += (b & 0x7f) * 2 ** shift
    if (b < 0x80) return Number.isSafeInteger(n) ? [n, i + 1] : damaged('a varint is too large')
  }
  return damaged('a varint is longer than 10 bytes')
}

const handleAt = (bytes: Uint8Array, at: number): readonly [BlockHandle, number] => {
  const [offset, afterOffset] = varint(bytes, at)
  const [size, end] = varint(bytes, afterOffset)
  return [{ offset, size }, end]
}

/** The footer, from the last `FOOTER_SIZE` bytes of a table file. */
export const decodeFooter = (tail: Uint8Array): Footer => {
  if (tail.length < FOOTER_SIZE) return damaged('the file is shorter than a footer')
  const magic = tail.subarray(tail.length - 8)
  if (MAGIC.some((b, i) => magic[i] !== b)) return damaged('no table magic number at its end')
  const footer = tail.subarray(tail.length - FOOTER_SIZE)
  const view = new DataView(footer.buffer, footer.byteOffset, footer.byteLength)
  const [metaIndex, afterMeta] = handleAt(footer, 1)
  const [index] = handleAt(footer, afterMeta)
  return {
    checksumType: footer[0] as number,
    formatVersion: view.getUint32(FOOTER_SIZE - 12, true),
    metaIndex,
    index,
  }
}

/**
 * Checks a block against its trailer (`block` is `size + TRAILER_SIZE` bytes) when the table uses
 * CRC-32C; resolves with its compression type. A block that matches is what RocksDB wrote.
 */
export const checkBlock = (block: Uint8Array, checksumType: number): number => {
  const size = block.length - TRAILER_SIZE
  if (checksumType === CRC32C) {
    const stored =
      ((block[size + 1] as number) |
        ((block[size + 2] as number) << 8) |
        ((block[size + 3] as number) << 16) |
        ((block[size + 4] as number) << 24)) >>>
      0
    if (mask(crc32c(block.subarray(0, size + 1))) !== stored) {
      return damaged('a block does not match its checksum')
    }
  }
  return block[size] as number
}

/** A block's contents, checked (see `checkBlock`) and decompressed when it is Snappy. */
export const blockContents = (block: Uint8Array, checksumType: number): Uint8Array => {
  const type = checkBlock(block, checksumType)
  const contents = block.subarray(0, block.length - TRAILER_SIZE)
  if (type === NO_COMPRESSION) return contents
  if (type === SNAPPY) return unsnappy(contents)
  return damaged(`a block has compression type ${type}, which RocksDB here never writes`)
}

/** Decompresses a raw Snappy block (format_description.txt of Snappy). */
export const unsnappy = (input: Uint8Array): Uint8Array => {
  const [length, start] = varint(input, 0)
  const out = new Uint8Array(length)
  let o = 0
  for (let i = start; i < input.length;) {
    const tag = input[i++] as number
    let len: number
    let offset = 0
    if ((tag & 3) === 0) {
      len = tag >>> 2
      if (len >= 60) {
        const bytes = len - 59
        len = 0
        for (let k = 0; k < bytes; k++) len += (input[i + k] ?? 0) * 2 ** (8 * k)
        i += bytes
      }
      len += 1
      if (i + len > input.length || o + len > length) return damaged('a Snappy literal overruns')
      out.set(input.subarray(i, i + len), o)
      i += len
      o += len
      continue
    }
    if ((tag & 3) === 1) {
      len = 4 + ((tag >>> 2) & 7)
      offset = ((tag >>> 5) << 8) | (input[i++] ?? 0)
    } else {
      len = (tag >>> 2) + 1
      const bytes = (tag & 3) === 2 ? 2 : 4
      for (let k = 0; k < bytes; k++) offset += (input[i + k] ?? 0) * 2 ** (8 * k)
      i += bytes
    }
    if (i > input.length || offset === 0 || offset > o || o + len > length) {
      return damaged('a Snappy copy points outside its output')
    }
    for (let k = 0; k < len; k++, o++) out[o] = out[o - offset] as number
  }
  return o === length ? out : damaged('a Snappy block is shorter than it says')
}

/**
 * The block handles an index or meta-index block holds, in order. Meta-index blocks and the index
 * blocks of format versions below 4 store each value with its length; from version 4 index values
 * have no length, and an entry that is not a restart point stores only its size's change.
 */
export const blockHandles = (contents: Uint8Array, deltaEncoded: boolean): BlockHandle[] => {
  if (contents.length < 4) return damaged('a block is shorter than its restart count')
  const view = new DataView(contents.buffer, contents.byteOffset, contents.byteLength)
  const restarts = view.getUint32(contents.length - 4, true) & 0x7fffffff
  const end = contents.length - 4 - 4 * restarts
  if (restarts === 0 || end < 0) return damaged('a block has no room for its restart points')
  const restartPoints = new Set<number>()
  for (let r = 0; r < restarts; r++) restartPoints.add(view.getUint32(end + 4 * r, true))
  const handles: BlockHandle[] = []
  for (let at = 0; at < end;) {
    const restart = restartPoints.has(at)
    const [, afterShared] = varint(contents, at)
    const [unshared, afterUnshared] = varint(contents, afterShared)
    const [valueLength, afterLength] = deltaEncoded
      ? [0, afterUnshared]
      : varint(contents, afterUnshared)
    const valueAt = afterLength + unshared
    const previous = handles.at(-1)
    if (deltaEncoded && !restart) {
      if (previous === undefined) return damaged('an index block starts with a delta')
      const [zigzag, next] = varint(contents, valueAt)
      const change = zigzag % 2 === 0 ? zigzag / 2 : -(zigzag + 1) / 2
      const offset = previous.offset + previous.size + TRAILER_SIZE
      handles.push({ offset, size: previous.size + change })
      at = next
    } else {
      const [handle, next] = handleAt(contents, valueAt)
      handles.push(handle)
      at = deltaEncoded ? next : valueAt + valueLength
    }
    if (at > end) return damaged('an entry runs into the restart points')
  }
  return handles
}
