import { availableParallelism } from 'node:os'
import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vitest/config'

const source = (path: string): string => fileURLToPath(new URL(path, import.meta.url))
const scale = Math.max(1, Number(process.env['FC_SCALE'] ?? 1) || 1)

export default defineConfig({
  // Examples import the package by its public names, as users do; tests run them from source.
  resolve: {
    alias: [
      { find: /^deltalog$/, replacement: source('./src/index.ts') },
      { find: /^deltalog\/testing$/, replacement: source('./src/testing/index.ts') },
      { find: /^deltalog\/fp$/, replacement: source('./src/fp/index.ts') },
      { find: /^deltalog\/core$/, replacement: source('./src/core/index.ts') },
      { find: /^deltalog\/postgres$/, replacement: source('./src/postgres/index.ts') },
    ],
  },
  test: {
    include: ['test/**/*.test.ts', 'examples/**/*.test.ts'],
    globalSetup: ['test/support/globalSetup.ts'],
    setupFiles: ['test/support/setup.ts'],
    // At least two files at a time (vitest's default is one less than the cores: one on two).
    // Many tests wait on child processes, fsync or PostgreSQL; one worker leaves a core idle.
    maxWorkers: Math.max(2, availableParallelism() - 1),
    // Longer runs (FC_SCALE, npm run test:long) get proportionally longer timeouts.
    testTimeout: 30_000 * scale,
    hookTimeout: 30_000 * scale,
  },
})
