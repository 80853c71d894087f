import { join } from 'node:path'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import * as E from 'fp-ts/lib/Either.js'
import { openEventStore, openRocksStorage } from '../dist/index.js'
const data = { amount: 10, note: 'x'.repeat(60) }
const MS = 2000
const main = async () => {
  for (let round = 0; round < 2; round++) {
    const dir = mkdtempSync(join(tmpdir(), 'e-'))
    const s = await openRocksStorage(join(dir, 'log'))()
    if (E.isLeft(s)) throw s.left
    const st = s.right
    let inWrite = 0, writes = 0, ops = 0
    const storage = { ...st, write: (b: any, o: any) => () => { writes++; ops += b.length; const t = performance.now(); return st.write(b, o)().then((r) => { inWrite += performance.now() - t; return r }) } }
    const store = await openEventStore({ storage, durability: 'sync' } as any)
    const start = performance.now(); const deadline = start + MS; let done = 0
    await Promise.all(Array.from({ length: 256 }, async (_, p) => {
      const owned = Array.from({ length: Math.ceil((1000 - p) / 256) }, (_, i) => p + i * 256)
      const revs = new Map<number, number>()
      for (let i = 0; performance.now() < deadline; i++) {
        const stream = owned[i % owned.length] ?? p
        const r = await store.appendToStream(`account-${stream}`, [{ type: 'Deposited', data }], { expectedRevision: revs.get(stream) ?? 'no_stream' })
        revs.set(stream, r.nextExpectedRevision); done++
      }
    }))
    const ms = performance.now() - start
    await store.close(); await st.close()()
    console.log('es', Math.round(done / ms * 1000), '/s; commits', writes, 'avg ops', (ops / writes).toFixed(0), 'ms/commit', (ms / writes).toFixed(3), 'in write', (inWrite / writes).toFixed(3))
    rmSync(dir, { recursive: true, force: true })
  }
}
void main()
