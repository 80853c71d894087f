/**
 * What `require('deltalog')` (and its other entry points: `deltalog/fp`, `deltalog/core`,
 * `deltalog/testing`, `deltalog/postgres`) reaches on a Node.js
 * whose require() does not load ES modules: 20.0 to 20.18, 22.0 to 22.11, and any line run with
 * --no-experimental-require-module. Node.js 20.19, 22.12 and later match the `module-sync`
 * condition before `require` and load the ES module itself, so they never run this file.
 *
 * It throws at once, with the code Node.js gives its own refusal (`ERR_REQUIRE_ESM`), so that
 * tools which fall back to `import()` on that code keep doing so, and with a message that says
 * what to write instead.
 */
const message = [
  `deltalog is an ES module, and require() cannot load it on this Node.js (${process.version}):`,
  'require() loads ES modules from Node.js 20.19 and 22.12 on, unless',
  '--no-experimental-require-module turns that off.',
  "Load it with import: `import { openLog } from 'deltalog'` in an ES module, or",
  "`const { openLog } = await import('deltalog')` from CommonJS (the same for deltalog/fp,",
  'deltalog/core, deltalog/testing and deltalog/postgres); or run a newer Node.js.',
].join(' ')

throw Object.assign(new Error(message), { code: 'ERR_REQUIRE_ESM' })
