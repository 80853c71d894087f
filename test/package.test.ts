// What `npm pack` would publish: the package carries its license.
import { execFileSync } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { expect, it } from 'vitest'

const root = fileURLToPath(new URL('..', import.meta.url))

it('ships the MIT LICENSE that package.json names', async () => {
  const pkg = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8')) as {
    license: string
  }
  expect(pkg.license).toBe('MIT')
  const license = await readFile(new URL('../LICENSE', import.meta.url), 'utf8')
  expect(license).toMatch(/^MIT License\n\nCopyright \(c\) 2026 the deltalog authors\n/)
  // --ignore-scripts: list the files without building them (prepack builds dist).
  const [packed] = JSON.parse(
    execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
      cwd: root,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }),
  ) as Array<{ files: Array<{ path: string }> }>
  expect(packed?.files.map((f) => f.path)).toContain('LICENSE')
}, 60_000)
