// The raw `rocksdb` binding as a user of the package would call it, typed for the calls the
// benchmarks make and promisified: the baseline deltalog is measured against.
import { createRequire } from 'node:module'

type Callback = (err?: Error | null) => void

export interface RawIterator {
  next(cb: (err: Error | null, key?: Buffer, value?: Buffer) => void): void
  end(cb: Callback): void
}

export interface RawOp {
  readonly type: 'put'
  readonly key: Buffer | string
  readonly value: Buffer
}

interface NativeDb {
  open(options: Record<string, unknown>, cb: Callback): void
  close(cb: Callback): void
  put(key: Buffer | string, value: Buffer, options: Record<string, unknown>, cb: Callback): void
  batch(ops: ReadonlyArray<RawOp>, options: Record<string, unknown>, cb: Callback): void
  iterator(options: Record<string, unknown>): RawIterator
}

const rocksdb = createRequire(import.meta.url)('rocksdb') as (path: string) => NativeDb

const promisify = (f: (cb: Callback) => void): Promise<void> =>
  new Promise((resolve, reject) => f((err) => (err ? reject(err) : resolve())))

/** An open raw database. */
export interface RawDb {
  readonly put: (key: Buffer | string, value: Buffer, sync: boolean) => Promise<void>
  readonly batch: (ops: ReadonlyArray<RawOp>, sync: boolean) => Promise<void>
  /** Counts the pairs in `[gte, lt)` with the binding's plain iterator, one `next` per pair. */
  readonly count: (range: {
    readonly gte?: Uint8Array
    readonly lt?: Uint8Array
  }) => Promise<number>
  readonly close: () => Promise<void>
}

export const openRaw = async (path: string): Promise<RawDb> => {
  const db = rocksdb(path)
  await promisify((cb) => db.open({ createIfMissing: true }, cb))
  return {
    put: (key, value, sync) => promisify((cb) => db.put(key, value, { sync }, cb)),
    batch: (ops, sync) => promisify((cb) => db.batch(ops, { sync }, cb)),
    count: async (range) => {
      const options: Record<string, unknown> = { keyAsBuffer: true, valueAsBuffer: true }
      if (range.gte !== undefined) options['gte'] = Buffer.from(range.gte)
      if (range.lt !== undefined) options['lt'] = Buffer.from(range.lt)
      const it = db.iterator(options)
      let n = 0
      for (;;) {
        const key = await new Promise<Buffer | undefined>((resolve, reject) =>
          it.next((err, k) => (err ? reject(err) : resolve(k))),
        )
        if (key === undefined) break
        n++
      }
      await promisify((cb) => it.end(cb))
      return n
    },
    close: () => promisify((cb) => db.close(cb)),
  }
}
