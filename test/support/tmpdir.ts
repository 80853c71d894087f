// Temporary directories for tests that touch the disk, removed when the test is done with them.
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export const makeTempDir = (prefix: string): Promise<string> =>
  mkdtemp(join(tmpdir(), `deltalog-${prefix}-`))

export const removeDir = (dir: string): Promise<void> => rm(dir, { recursive: true, force: true })
