// Lint rules: the type-aware recommended set, plus the habits the style guide asks for, and the
// layers (STYLE.md, 11): what each folder of src/ may import. test/layers.test.ts checks the
// same rules, and those ESLint cannot say per folder, over the whole import graph.
import js from '@eslint/js'
import tseslint from 'typescript-eslint'

const nativeBinding = {
  name: '@salto-io/rocksdb',
  message: 'Only src/storage/binding.ts may load the native binding.',
}

const formatV1 = {
  group: ['**/format/v1/*'],
  message:
    'Format 1 is read only to convert it: only the migration (src/format/*.ts), tests and benchmarks import src/format/v1/.',
}

// Node.js modules that do I/O, keep time or reach the process: none belongs in the pure core.
const effectfulNodeModules = [
  'child_process',
  'cluster',
  'dgram',
  'dns',
  'fs',
  'fs/promises',
  'http',
  'http2',
  'https',
  'inspector',
  'module',
  'net',
  'os',
  'perf_hooks',
  'process',
  'readline',
  'readline/promises',
  'repl',
  'timers',
  'timers/promises',
  'tls',
  'tty',
  'v8',
  'vm',
  'worker_threads',
]

const pureCore = [
  {
    group: [
      '**/storage/*',
      '**/log/*',
      '**/eventstore/*',
      '**/postgres/*',
      '**/testing/*',
      '**/cli/*',
      '**/verify/*',
      '**/format/*',
      '**/format/v1/*',
    ],
    message:
      'The pure core (sequence/, delta/, codec/) imports no port, engine or adapter: it takes values and returns values.',
  },
  {
    group: [...effectfulNodeModules, ...effectfulNodeModules.map((m) => `node:${m}`)],
    message: 'The pure core does no I/O: this module belongs in storage/, log/ or cli/.',
  },
  { group: ['pg', 'pg/*', 'rocksdb'], message: 'The pure core knows no store.' },
]

// The engine imports no storage adapter, only the port and its range helpers: a directory is
// opened through the opener that src/openLog.ts injects (log/open.ts).
const engine = [
  formatV1,
  {
    regex: '^(\\.\\./)+storage/(?!(port|range)\\.js$)',
    message:
      'src/log imports no storage adapter, only storage/port.ts and storage/range.ts: take what else it needs as a dependency (see log/open.ts).',
  },
  {
    regex: '^(\\.\\./)+(postgres|testing)/',
    message: 'src/log imports neither the PostgreSQL adapter nor the test toolkit.',
  },
]

// verify/ checks the log's format; it learns about events through the hook the event store
// registers (src/verify/checks.ts), never by importing the event store.
const verifier = [
  formatV1,
  {
    group: ['**/eventstore', '**/eventstore/**'],
    message:
      'verify/ may not import the event store: register an EntryCheck from src/eventstore (src/verify/checks.ts).',
  },
]

const restrict = (patterns) => ({
  'no-restricted-imports': ['error', { paths: [nativeBinding], patterns }],
})

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', 'data/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' },
      ],
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      ...restrict([formatV1]),
    },
  },
  {
    // The migration, and the tests and benchmarks that write or measure format 1 logs.
    files: ['src/format/**', 'test/**'],
    rules: restrict([]),
  },
  {
    files: ['src/sequence/**', 'src/delta/**', 'src/codec/**'],
    rules: restrict(pureCore),
  },
  { files: ['src/log/**'], rules: restrict(engine) },
  { files: ['src/verify/**'], rules: restrict(verifier) },
  {
    files: ['src/storage/binding.ts', 'benchmarks/**'],
    rules: { 'no-restricted-imports': 'off' },
  },
  {
    files: ['**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
  },
)
