// The raw RocksDB addon — `@salto-io/rocksdb`, the same one deltalog loads, through the same
// `loadBinding()` — called directly, typed for the calls the benchmarks make and promisified:
// the baseline deltalog is measured against. No deltalog code is in its path: `loadBinding()`
// only loads the addon, and every call below is one of the addon's own functions.
import { readFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import {
  BINDING_PACKAGE,
  loadBinding,
  type NativeHandle,
  type RocksBinding,
} from '../src/storage/binding.js'

type Callback = (err?: Error | null) => void

export interface RawOp {
  readonly type: 'put'
  readonly key: Buffer | string
  readonly value: Buffer
}

/** `RocksBinding` types only what the adapter calls; the baseline also makes single puts. */
interface RawBinding {
  readonly db_init: () => NativeHandle
  readonly db_open: (
    db: NativeHandle,
    location: string,
    options: { readonly createIfMissing: boolean; readonly errorIfExists: boolean },
    cb: Callback,
  ) => void
  readonly db_close: (db: NativeHandle, cb: Callback) => void
  readonly db_compact_range: (
    db: NativeHandle,
    start: Uint8Array,
    end: Uint8Array,
    cb: Callback,
  ) => void
  readonly db_get: (
    db: NativeHandle,
    key: Uint8Array,
    options: { readonly asBuffer: true; readonly fillCache: boolean },
    cb: (err: Error | null | undefined, value?: Buffer) => void,
  ) => void
  readonly db_put: (
    db: NativeHandle,
    key: Buffer | string,
    value: Buffer,
    options: { readonly sync: boolean },
    cb: Callback,
  ) => void
  readonly batch_do: (
    db: NativeHandle,
    ops: ReadonlyArray<RawOp>,
    options: { readonly sync: boolean },
    cb: Callback,
  ) => void
  readonly iterator_init: (db: NativeHandle, options: Record<string, unknown>) => NativeHandle
  /** The chunk comes as `[value_n, key_n, …, value_1, key_1]`. */
  readonly iterator_next: (
    it: NativeHandle,
    cb: (err: Error | null, array: Buffer[], finished: boolean) => void,
  ) => void
  readonly iterator_end: (it: NativeHandle, cb: Callback) => void
}

const binding = (): RawBinding => loadBinding() as RocksBinding & RawBinding

const promisify = (f: (cb: Callback) => void): Promise<void> =>
  new Promise((resolve, reject) => f((err) => (err ? reject(err) : resolve())))

/** What a raw range read takes: storage-key bounds and the addon's own iterator options. */
export interface RawRange {
  readonly gt?: Uint8Array
  readonly gte?: Uint8Array
  readonly lt?: Uint8Array
  readonly lte?: Uint8Array
  readonly reverse?: boolean
  readonly limit?: number
  /** Bytes the addon gathers into one chunk before it hands it over (16 KiB if absent). */
  readonly highWaterMark?: number
}

/** A raw iterator, read a chunk at a time, exactly as the addon hands chunks out. */
export interface RawIterator {
  /**
   * The next chunk, `[value_n, key_n, …, value_1, key_1]`: at most 1000 pairs, and a single
   * pair the first time (the addon lands on the first key before it gathers more); `undefined`
   * past the end.
   */
  readonly next: () => Promise<ReadonlyArray<Buffer> | undefined>
  readonly end: () => Promise<void>
}

/** An open raw database. */
export interface RawDb {
  readonly put: (key: Buffer | string, value: Buffer, sync: boolean) => Promise<void>
  readonly batch: (ops: ReadonlyArray<RawOp>, sync: boolean) => Promise<void>
  /** One key's value; a missing key rejects with the addon's `NotFound` error. */
  readonly get: (key: Uint8Array) => Promise<Buffer>
  readonly iterator: (range: RawRange) => RawIterator
  /** Compacts the keys in `[start, end]` down the levels; resolves once RocksDB has done so. */
  readonly compact: (start: Uint8Array, end: Uint8Array) => Promise<void>
  /**
   * Counts the pairs in `[gte, lt)` with the addon's iterator at its default options (chunks of
   * up to 16 KiB or 1000 pairs), awaiting one `next` per pair as the package's own iterator
   * hands them out, less the `process.nextTick` its wrapper adds to each.
   */
  readonly count: (range: {
    readonly gte?: Uint8Array
    readonly lt?: Uint8Array
  }) => Promise<number>
  readonly close: () => Promise<void>
}

export const openRaw = async (path: string): Promise<RawDb> => {
  const b = binding()
  const db = b.db_init()
  await promisify((cb) => b.db_open(db, path, { createIfMissing: true, errorIfExists: false }, cb))
  return {
    put: (key, value, sync) => promisify((cb) => b.db_put(db, key, value, { sync }, cb)),
    batch: (ops, sync) => promisify((cb) => b.batch_do(db, ops, { sync }, cb)),
    get: (key) =>
      new Promise((resolve, reject) =>
        b.db_get(db, key, { asBuffer: true, fillCache: true }, (err, value) =>
          err || value === undefined ? reject(err ?? new Error('NotFound')) : resolve(value),
        ),
      ),
    iterator: (range) => {
      const it = b.iterator_init(db, { keyAsBuffer: true, valueAsBuffer: true, ...range })
      let finished = false
      return {
        next: () =>
          finished
            ? Promise.resolve(undefined)
            : new Promise((resolve, reject) =>
                b.iterator_next(it, (err, array, done) => {
                  if (err) return reject(err)
                  finished = done
                  resolve(array.length === 0 ? undefined : array)
                }),
              ),
        end: () => promisify((cb) => b.iterator_end(it, cb)),
      }
    },
    compact: (start, end) => promisify((cb) => b.db_compact_range(db, start, end, cb)),
    count: async (range) => {
      const options: Record<string, unknown> = { keyAsBuffer: true, valueAsBuffer: true }
      if (range.gte !== undefined) options['gte'] = Buffer.from(range.gte)
      if (range.lt !== undefined) options['lt'] = Buffer.from(range.lt)
      const it = b.iterator_init(db, options)
      let cache: Buffer[] = []
      let finished = false
      // One pair per call, the key first: from the last chunk while it lasts, else a new chunk.
      const next = (): Promise<Buffer | undefined> => {
        if (cache.length > 0) {
          const key = cache.pop()
          cache.pop()
          return Promise.resolve(key)
        }
        if (finished) return Promise.resolve(undefined)
        return new Promise((resolve, reject) =>
          b.iterator_next(it, (err, array, done) => {
            if (err) return reject(err)
            cache = array
            finished = done
            resolve(next())
          }),
        )
      }
      let n = 0
      for (;;) {
        const key = await next()
        if (key === undefined) break
        n++
      }
      await promisify((cb) => b.iterator_end(it, cb))
      return n
    },
    close: () => promisify((cb) => b.db_close(db, cb)),
  }
}

/** Which addon the baseline calls: its npm package and version, and the RocksDB it bundles. */
export interface RawBindingInfo {
  readonly package: string
  readonly version: string
  /** Read from the RocksDB headers the package ships; absent if it ships none. */
  readonly rocksdb?: string
}

export const rawBindingInfo = async (): Promise<RawBindingInfo> => {
  const manifest = createRequire(import.meta.url).resolve(`${BINDING_PACKAGE}/package.json`)
  const { version } = JSON.parse(await readFile(manifest, 'utf8')) as { version: string }
  const header = join(dirname(manifest), 'deps/rocksdb/rocksdb/include/rocksdb/version.h')
  const text = await readFile(header, 'utf8').catch(() => '')
  const part = (name: string): string | undefined =>
    new RegExp(`#define ROCKSDB_${name} (\\d+)`).exec(text)?.[1]
  const [major, minor, patch] = [part('MAJOR'), part('MINOR'), part('PATCH')]
  return major === undefined || minor === undefined || patch === undefined
    ? { package: BINDING_PACKAGE, version }
    : { package: BINDING_PACKAGE, version, rocksdb: `${major}.${minor}.${patch}` }
}
