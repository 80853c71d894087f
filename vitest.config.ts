import { availableParallelism } from 'node:os'
import { fileURLToPath } from 'node:url'
import { configDefaults, defineConfig } from 'vitest/config'

const source = (path: string): string => fileURLToPath(new URL(path, import.meta.url))
const scale = Math.max(1, Number(process.env['FC_SCALE'] ?? 1) || 1)

// Most test files share their worker's loaded modules (isolate: false): loading the engine anew
// for every file cost a second or two of CPU each, about 30% of the suite's CPU time. These
// run each in a fresh process, because they change what a later file in the same process would
// import or see: module mocks (vi.mock), a check registered for every later verify, diagnostics
// channels that must have no subscriber. A new test file that does such a thing goes here.
const isolated = [
  'test/cli/import.test.ts',
  'test/storage/tableRecord.test.ts',
  'test/verify/hook.test.ts',
  'test/diagnostics/**/*.test.ts',
  'examples/opentelemetry.test.ts',
]

// These change the PostgreSQL server for every session on it (a restart, a system setting), so
// they run after every other file, when nothing else is using the server.
const serverWide = ['test/postgres/faults.test.ts', 'test/postgres/durability.test.ts']

// Examples import the package by its public names, as users do; tests run them from source.
const resolve = {
  alias: [
    { find: /^deltalog$/, replacement: source('./src/index.ts') },
    { find: /^deltalog\/testing$/, replacement: source('./src/testing/index.ts') },
    { find: /^deltalog\/fp$/, replacement: source('./src/fp/index.ts') },
    { find: /^deltalog\/core$/, replacement: source('./src/core/index.ts') },
    { find: /^deltalog\/postgres$/, replacement: source('./src/postgres/index.ts') },
  ],
}

const common = {
  setupFiles: ['test/support/setup.ts'],
  // Longer runs (FC_SCALE, npm run test:long) get proportionally longer timeouts.
  testTimeout: 30_000 * scale,
  hookTimeout: 30_000 * scale,
}

export default defineConfig({
  resolve,
  test: {
    // Once for the whole run, not once per project: one seed, one PostgreSQL server.
    globalSetup: ['test/support/globalSetup.ts'],
    // At least two files at a time (vitest's default is one less than the cores: one on two).
    // Many tests wait on child processes, fsync or PostgreSQL; one worker leaves a core idle.
    maxWorkers: Math.max(2, availableParallelism() - 1),
    projects: [
      {
        resolve,
        test: {
          ...common,
          name: 'shared',
          include: ['test/**/*.test.ts', 'examples/**/*.test.ts'],
          exclude: [...configDefaults.exclude, ...isolated, ...serverWide],
          isolate: false,
        },
      },
      { resolve, test: { ...common, name: 'isolated', include: isolated, isolate: true } },
      {
        resolve,
        test: {
          ...common,
          name: 'server-wide',
          include: serverWide,
          isolate: true,
          fileParallelism: false,
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
})
