/**
 * `ortlab serve`: the demo page on 127.0.0.1 with cross-origin isolation, until interrupted.
 * Builds the page bundle first when it is missing (in a checkout with esbuild installed).
 */
import { existsSync } from 'node:fs';
import path from 'node:path';

import { packageRoot } from '../runtime/datasets/package-root.js';
import { startStaticServer, type StaticServer } from '../server/static-server.js';
import { buildWebBundle } from '../server/web-bundle.js';
import type { Output } from './commands.js';

/** Arguments of `ortlab serve`. */
export interface ServeArgs {
  port?: number;
  /** Serve without COOP/COEP (to see the page as most hosts serve it). */
  noIsolation?: boolean;
  /** Resolves when the server should stop; default: SIGINT or SIGTERM. */
  until?: (server: StaticServer) => Promise<void>;
}

function untilSignal(): Promise<void> {
  return new Promise((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
}

/** Starts the server, prints its address, and serves until `until` resolves. */
export async function serveCommand(args: ServeArgs, io: Output): Promise<void> {
  const root = packageRoot();
  const bundleDir = path.join(root, 'dist', 'bundle');
  if (!existsSync(path.join(bundleDir, 'app.js'))) {
    io.out(`building the page bundle into ${bundleDir} ...`);
    await buildWebBundle({ root, outDir: bundleDir });
  }
  const server = await startStaticServer({
    root,
    bundleDir,
    port: args.port ?? 8080,
    isolate: !args.noIsolation,
  });
  io.out(`ortlab serving ${server.url}`);
  io.out(
    args.noIsolation
      ? '  without COOP/COEP: the page is not cross-origin isolated, wasm runs on one thread'
      : '  COOP/COEP on: the page is cross-origin isolated, wasm may use threads',
  );
  io.out('  open it in a browser; Ctrl-C stops the server');
  try {
    await (args.until ?? untilSignal)(server);
  } finally {
    await server.close();
  }
}
