/**
 * Bytes as `pg` sends them: a Buffer parameter crosses in PostgreSQL's binary format, as it is,
 * not as hex text; an array of keys or values crosses as one binary `bytea[]`.
 */

// The type of a bytea, in PostgreSQL's catalog.
const BYTEA_OID = 17

/**
 * `items` as a `bytea[]` in PostgreSQL's binary array format (what `array_send` writes): `pg`
 * sends a Buffer parameter as binary, so the bytes cross as they are, not as hex text.
 */
export const byteaArray = (items: ReadonlyArray<Uint8Array>): Buffer => {
  if (items.length === 0) {
    // No dimensions: the empty array.
    const empty = Buffer.alloc(12)
    empty.writeUInt32BE(BYTEA_OID, 8)
    return empty
  }
  let size = 20
  for (const item of items) size += 4 + item.length
  const out = Buffer.allocUnsafe(size)
  out.writeInt32BE(1, 0) // dimensions
  out.writeInt32BE(0, 4) // no nulls
  out.writeUInt32BE(BYTEA_OID, 8)
  out.writeInt32BE(items.length, 12)
  out.writeInt32BE(1, 16) // lower bound
  let at = 20
  for (const item of items) {
    out.writeInt32BE(item.length, at)
    out.set(item, at + 4)
    at += 4 + item.length
  }
  return out
}

/** `bytes` as a Buffer over the same memory (a `bytea` parameter), without a copy. */
export const asBuffer = (bytes: Uint8Array): Buffer =>
  Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
