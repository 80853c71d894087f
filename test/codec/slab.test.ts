// allocBytes: zeroed arrays of the asked length that never share a byte, slab slices or alone.
import { fc, test } from '@fast-check/vitest'
import { describe, expect, it } from 'vitest'
import { allocBytes } from '../../src/codec/slab.js'

describe('allocBytes', () => {
  test.prop([fc.array(fc.integer({ min: 0, max: 9000 }), { minLength: 1, maxLength: 60 })])(
    'gives zeroed arrays of the asked length, none sharing a byte with another',
    (sizes) => {
      const arrays = sizes.map((n, i) => {
        const bytes = allocBytes(n)
        expect(bytes.length).toBe(n)
        expect(bytes.every((b) => b === 0)).toBe(true)
        bytes.fill((i % 255) + 1)
        return bytes
      })
      arrays.forEach((bytes, i) => expect(bytes.every((b) => b === (i % 255) + 1)).toBe(true))
    },
  )

  it('slices small arrays from one shared buffer and gives a large one its own', () => {
    // Fill slabs until one starts afresh: it has room for the next two.
    const first = allocBytes(4096)
    let fresh = allocBytes(4096)
    for (let i = 0; i < 64 && fresh.buffer === first.buffer; i++) fresh = allocBytes(4096)
    expect(fresh.buffer).not.toBe(first.buffer)
    const [a, b] = [allocBytes(100), allocBytes(100)]
    expect(a.buffer).toBe(fresh.buffer)
    expect(b.buffer).toBe(fresh.buffer)
    expect(a.buffer.byteLength).toBeGreaterThan(200)
    const large = allocBytes(4097)
    expect(large.buffer.byteLength).toBe(4097)
  })
})
