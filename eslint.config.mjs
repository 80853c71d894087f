// Lint rules: the type-aware recommended set, plus the habits the style guide asks for.
import js from '@eslint/js'
import tseslint from 'typescript-eslint'

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
      'no-restricted-imports': [
        'error',
        {
          paths: [
            {
              name: '@salto-io/rocksdb',
              message: 'Only src/storage/binding.ts may load the native binding.',
            },
          ],
        },
      ],
    },
  },
  {
    // The engine imports no storage adapter: only the port and its byte helpers. A directory is
    // opened through the opener src/openLog.ts injects (log/open.ts). migrate.ts still opens one
    // itself: it is exempt until format 1 and its migration leave src/log.
    files: ['src/log/**'],
    ignores: ['src/log/migrate.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            {
              name: '@salto-io/rocksdb',
              message: 'Only src/storage/binding.ts may load the native binding.',
            },
          ],
          patterns: [
            {
              regex: '^(\\.\\./)+storage/(?!(port|range)\\.js$)',
              message:
                'src/log imports no storage adapter, only storage/port.ts and storage/range.ts: take what else it needs as a dependency (see log/open.ts).',
            },
            {
              regex: '^(\\.\\./)+(postgres|testing)/',
              message: 'src/log imports neither the PostgreSQL adapter nor the test toolkit.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['src/storage/binding.ts', 'benchmarks/**'],
    rules: { 'no-restricted-imports': 'off' },
  },
  {
    // verify/ checks the log's format; it learns about events through the hook the event store
    // registers (src/verify/checks.ts), never by importing the event store.
    files: ['src/verify/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            {
              name: '@salto-io/rocksdb',
              message: 'Only src/storage/binding.ts may load the native binding.',
            },
          ],
          patterns: [
            {
              group: ['**/eventstore', '**/eventstore/**'],
              message:
                'verify/ may not import the event store: register an EntryCheck from src/eventstore (src/verify/checks.ts).',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
  },
)
