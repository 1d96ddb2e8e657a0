/**
 * The demo page for the browser tests: the bundle built once per test run from the current
 * sources (into a temporary folder, so a stale dist/ never hides a change), served by ortlab's
 * own static server.
 */
import { rmSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import {
  startStaticServer,
  type StaticServer,
  type StaticServerOptions,
} from '../../src/server/static-server.js';
import { buildWebBundle } from '../../src/server/web-bundle.js';

let bundle: Promise<string> | undefined;

/** The folder of a bundle built from the current sources (built on first call). */
export function testBundle(): Promise<string> {
  bundle ??= (async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ortlab-bundle-'));
    await buildWebBundle({ root: process.cwd(), outDir: dir });
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
    return dir;
  })();
  return bundle;
}

/** Serves the repository with the test bundle; `options` override the root or isolation. */
export async function servePage(options: Partial<StaticServerOptions> = {}): Promise<StaticServer> {
  return startStaticServer({
    root: process.cwd(),
    bundleDir: await testBundle(),
    port: 0,
    ...options,
  });
}
