#!/usr/bin/env node
// The ortlab command: runs the compiled CLI (built into dist/ by `npm run build`, which `npm ci`
// runs through the `prepare` script).
//
// A CommonJS entry, so that this line runs before anything starts libuv's thread pool (an ES
// module entry is itself read through it): sharp decodes images on that pool, four threads
// unless UV_THREADPOOL_SIZE says otherwise, which would cap decoding at four images at a time
// on a machine of many cores. A value the user set is kept.
process.env.UV_THREADPOOL_SIZE ??= String(Math.max(4, require('node:os').availableParallelism()));

import('../dist/cli/main.js').then(async ({ main }) => {
  process.exitCode = await main(process.argv.slice(2));
});
