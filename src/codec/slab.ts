/**
 * Byte arrays for the append path, carved from shared slabs, as Node.js's `Buffer.allocUnsafe`
 * slices its pool. V8 allocates a typed array of more than 64 bytes outside its heap, at about
 * ten times the cost of a smaller one (measured on Node.js 20: 300 ns against 30 ns; a slice of
 * a slab costs 35 ns), and an append needs a few arrays per record. A small array on V8's heap
 * is no bargain either once it goes to the RocksDB addon: batches of 1000 puts whose keys were
 * such arrays took 0.1–0.2 ms longer in the addon's synchronous part than with slab slices. So
 * every array up to 4 KiB is a slice of a 64 KiB slab; larger ones are allocated alone.
 *
 * A slice is handed out once and a slab is never reused, so every array starts zeroed, like
 * `new Uint8Array(n)`. A slice keeps its whole slab alive: what the append path keeps (the hot
 * tail's entries) spans a few slabs at most. The engine hands callers copies, never slices;
 * `keyBytes`, exported for tools, returns one.
 */

const SLAB_BYTES = 64 * 1024
const MAX_SLICE_BYTES = 4 * 1024

let slab = new Uint8Array(0)
let used = 0

/** A zeroed array of `n` bytes: a slice of a shared slab, or alone when it is large. */
export const allocBytes = (n: number): Uint8Array => {
  if (n > MAX_SLICE_BYTES) return new Uint8Array(n)
  if (used + n > slab.length) {
    slab = new Uint8Array(SLAB_BYTES)
    used = 0
  }
  used += n
  return slab.subarray(used - n, used)
}
