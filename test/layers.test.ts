// The layers of src/ (docs/architecture.md, STYLE.md 11), checked over the whole import graph:
// every import of every module, parsed by TypeScript, against the rules below. ESLint refuses
// the pure core's bad imports as they are written (eslint.config.mjs); this test states every
// rule in one place and lists each offending import by file.
import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join, normalize, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import ts from 'typescript'
import { describe, expect, it } from 'vitest'

const root = fileURLToPath(new URL('..', import.meta.url))

/** One import: the importing module and what it names, both relative to the repository. */
interface Import {
  readonly from: string
  /** A path under src/ (with .ts) for a relative import, else the bare specifier. */
  readonly to: string
}

const sources = (dir: string): ReadonlyArray<string> =>
  readdirSync(join(root, dir), { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory()
      ? sources(join(dir, entry.name))
      : entry.name.endsWith('.ts')
        ? [join(dir, entry.name)]
        : [],
  )

const importsOf = (file: string): ReadonlyArray<Import> =>
  ts
    .preProcessFile(readFileSync(join(root, file), 'utf8'), true, true)
    .importedFiles.map(({ fileName }) => ({
      from: file,
      to: fileName.startsWith('.')
        ? relative(root, join(root, dirname(file), normalize(fileName))).replace(/\.js$/, '.ts')
        : fileName,
    }))

const graph: ReadonlyArray<Import> = sources('src').flatMap(importsOf)

const under =
  (...folders: ReadonlyArray<string>) =>
  (path: string): boolean =>
    folders.some((f) => path === f || path.startsWith(f.endsWith('/') ? f : `${f}/`))

const show = (imports: ReadonlyArray<Import>): ReadonlyArray<string> =>
  imports.map((i) => `${i.from} imports ${i.to}`)

/** The imports from modules `from` accepts that name a module `refused` accepts. */
const offending = (
  from: (path: string) => boolean,
  refused: (path: string) => boolean,
): ReadonlyArray<string> => show(graph.filter((i) => from(i.from) && refused(i.to)))

// Node.js modules that do I/O, keep time or reach the process.
const effectful = (specifier: string): boolean =>
  /^(node:)?(child_process|cluster|dgram|dns|fs|http2?|https|inspector|module|net|os|perf_hooks|process|readline|repl|timers|tls|tty|v8|vm|worker_threads)(\/|$)/.test(
    specifier,
  ) || /^(pg|@salto-io\/rocksdb)(\/|$)/.test(specifier)

const pureCore = under('src/sequence', 'src/delta', 'src/codec')

describe('layers', () => {
  it('sees the import graph: every module of src/, and imports across folders', () => {
    expect(new Set(graph.map((i) => i.from)).size).toBeGreaterThan(40)
    expect(graph).toContainEqual({ from: 'src/delta/delta.ts', to: 'src/codec/commit.ts' })
    expect(graph).toContainEqual({ from: 'src/storage/binding.ts', to: 'node:module' })
    expect(graph).toContainEqual({ from: 'src/storage/port.ts', to: 'src/delta/batch.ts' })
  })

  it('the pure core (sequence/, delta/, codec/) imports no port, engine or adapter', () => {
    expect(
      offending(
        pureCore,
        under(
          'src/storage',
          'src/log',
          'src/eventstore',
          'src/postgres',
          'src/testing',
          'src/cli',
          'src/verify',
          'src/format',
          'src/index.ts',
        ),
      ),
    ).toEqual([])
  })

  it('the pure core does no I/O: no Node.js module that reaches files, network, clock or process', () => {
    expect(offending(pureCore, effectful)).toEqual([])
  })

  it('the engine (log/) imports no storage adapter: it knows the Storage port only', () => {
    expect(
      offending(
        under('src/log'),
        under(
          'src/storage/rocksdb.ts',
          'src/storage/rocksdbErrors.ts',
          'src/storage/rocksdbIterator.ts',
          'src/storage/rocksdbStore.ts',
          'src/storage/rocksdbStranded.ts',
          'src/storage/rocksdbTableCodec.ts',
          'src/storage/rocksdbTableRecord.ts',
          'src/storage/rocksdbTables.ts',
          'src/storage/memory.ts',
          'src/storage/binding.ts',
          'src/postgres',
          'src/testing',
          '@salto-io/rocksdb',
          'pg',
        ),
      ),
    ).toEqual([])
  })

  it('verification (verify/) learns about events through a hook, not from the event store', () => {
    expect(offending(under('src/verify'), under('src/eventstore'))).toEqual([])
  })

  it('format 1 (format/v1/) is imported only by the migration (format/)', () => {
    expect(offending((path) => !under('src/format')(path), under('src/format/v1'))).toEqual([])
  })

  it('only the RocksDB binding module loads the native addon', () => {
    expect(
      offending((path) => path !== 'src/storage/binding.ts', under('@salto-io/rocksdb')),
    ).toEqual([])
  })
})
