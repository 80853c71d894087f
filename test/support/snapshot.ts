// A fingerprint of everything under a directory: each file's path, mode, size, modification
// time and content hash, so that a test can show an operation created, changed or deleted
// nothing there.
import { createHash } from 'node:crypto'
import { readdir, readFile, stat } from 'node:fs/promises'
import { join } from 'node:path'

export const fingerprint = async (dir: string): Promise<Record<string, string>> => {
  const out: Record<string, string> = {}
  const walk = async (at: string, prefix: string): Promise<void> => {
    const info = await stat(at)
    out[prefix === '' ? '.' : prefix] = `mode ${(info.mode & 0o7777).toString(8)}`
    for (const item of (await readdir(at, { withFileTypes: true })).sort((a, b) =>
      a.name.localeCompare(b.name),
    )) {
      const path = join(at, item.name)
      const name = prefix === '' ? item.name : `${prefix}/${item.name}`
      if (item.isDirectory()) {
        await walk(path, name)
      } else {
        const file = await stat(path)
        const hash = createHash('sha256')
          .update(await readFile(path))
          .digest('hex')
        out[name] =
          `mode ${(file.mode & 0o7777).toString(8)} size ${file.size} mtime ${file.mtimeMs} sha256 ${hash}`
      }
    }
  }
  await walk(dir, '')
  return out
}
