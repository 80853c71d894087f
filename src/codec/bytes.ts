/**
 * Byte strings: the order every Storage adapter keeps keys in, equality, and copying. Pure
 * helpers shared by the codecs, the Delta, the adapters and the engine.
 */

/** Raw byte order: the order of every Storage adapter. */
export const compareBytes = (a: Uint8Array, b: Uint8Array): number => Buffer.compare(a, b)

/** Whether two byte strings are equal; the same array (a shared key) is equal at once. */
export const sameBytes = (a: Uint8Array, b: Uint8Array): boolean =>
  a === b || (a.length === b.length && Buffer.compare(a, b) === 0)

/**
 * A copy of `bytes` that shares no memory with it. (`slice()` is not enough: on a Node.js
 * Buffer it returns a view of the same memory.)
 */
export const copyBytes = (bytes: Uint8Array): Uint8Array => new Uint8Array(bytes)
