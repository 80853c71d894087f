// A smoke test of the built package as a user's program sees it: the public entry points,
// loaded by the package's own name, on whichever Node.js runs this file.
import assert from 'node:assert/strict'
import console from 'node:console'
import { mkdtemp, rm, stat } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import process from 'node:process'
import { TextDecoder } from 'node:util'

const { openLog, openEventStore } = await import('deltalog')

// From CommonJS: require() gives the very module import() gives on Node.js 20.19+ and 22.12+, and
// before those throws ERR_REQUIRE_ESM with a message that says how (README, "From CommonJS").
const require = createRequire(import.meta.url)
const [major = 0, minor = 0] = process.versions.node.split('.').map(Number)
const requireLoadsEsm = major > 22 || (major === 22 && minor >= 12) || (major === 20 && minor >= 19)
for (const name of [
  'deltalog',
  'deltalog/fp',
  'deltalog/core',
  'deltalog/testing',
  'deltalog/postgres',
]) {
  if (requireLoadsEsm) {
    assert.equal(require(name), await import(name), name)
  } else {
    assert.throws(() => require(name), { code: 'ERR_REQUIRE_ESM', message: /await import\(/ })
  }
}

const { openCrashStorage } = await import('deltalog/testing')
const crashStore = await openCrashStorage()
assert.equal(typeof crashStore.crash, 'function')
await crashStore[Symbol.asyncDispose]()

const dir = await mkdtemp(join(tmpdir(), 'deltalog-smoke-'))
try {
  const path = join(dir, 'log')
  const log = await openLog({ path })
  const { startSequence } = await log.append([
    { key: 'a', value: 'one' },
    { key: 'b', value: 'two' },
  ])
  assert.equal(startSequence, 0)
  await log.close()
  assert.equal((await stat(path)).mode & 0o777, 0o700)

  const again = await openLog({ path })
  const values = []
  for await (const entry of again.scan()) values.push(new TextDecoder().decode(entry.value))
  assert.deepEqual(values, ['one', 'two'])
  await assert.rejects(openLog({ path: `${path}/` }), { code: 'LOCKED' })
  await again.close()

  const store = await openEventStore({ path: join(dir, 'events') })
  await store.appendToStream('s', [{ type: 'Happened', data: {} }], {
    expectedRevision: 'no_stream',
  })
  await store.close()

  // deltalog/postgres, on the server .ci/run started.
  const { openPostgresStorage } = await import('deltalog/postgres')
  const url = process.env.DELTALOG_TEST_POSTGRES_URL
  if (url !== undefined) {
    const table = `smoke_${process.pid}`
    const opened = await openPostgresStorage({ connection: { connectionString: url }, table })
    const onPostgres = await openLog({ storage: opened })
    await onPostgres.append([{ key: 'p', value: 'on postgres' }])
    const read = []
    for await (const entry of onPostgres.scan()) read.push(new TextDecoder().decode(entry.value))
    assert.deepEqual(read, ['on postgres'])
    await onPostgres.close()
    await opened[Symbol.asyncDispose]()
  } else {
    assert.equal(typeof openPostgresStorage, 'function')
  }
  const required = requireLoadsEsm ? 'loads' : 'refused'
  console.log(`smoke: ok on Node.js ${process.version}, require('deltalog') ${required}`)
} finally {
  await rm(dir, { recursive: true, force: true })
}
