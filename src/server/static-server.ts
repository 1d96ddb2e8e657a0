/**
 * The static server behind `ortlab serve`: the demo page, its bundle, onnxruntime-web's wasm
 * files from the installed package, and ortlab's models and data, on 127.0.0.1 only. It sends the
 * cross-origin isolation headers (COOP/COEP) that multi-threaded wasm needs, and refuses any path
 * that leaves the folder it names. Node only (`node:http`).
 */
import { createReadStream } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import path from 'node:path';

/** Options of {@link startStaticServer}. */
export interface StaticServerOptions {
  /** TCP port; 0 picks a free one. Default 8080. */
  port?: number;
  /** The ortlab folder holding `web/`, `models/` and `data/`. Default: the package's own. */
  root: string;
  /** The folder of the page bundle, served at `/bundle/`. Default `<root>/dist/bundle`. */
  bundleDir?: string;
  /**
   * Send `Cross-Origin-Opener-Policy: same-origin` and `Cross-Origin-Embedder-Policy:
   * require-corp`, so that the page is cross-origin isolated and wasm may use threads. Default
   * true; false serves the page as most hosts do, to see how it behaves there.
   */
  isolate?: boolean;
}

/** A running server. */
export interface StaticServer {
  /** The page's address, e.g. `http://127.0.0.1:8080/`. */
  readonly url: string;
  readonly port: number;
  /** Stops the server; safe to call twice. */
  close(): Promise<void>;
}

const CONTENT_TYPES: Readonly<Record<string, string>> = Object.freeze({
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.wasm': 'application/wasm',
  '.onnx': 'application/octet-stream',
  // Served as bytes, never with Content-Encoding: the page decompresses IDX files itself.
  '.gz': 'application/gzip',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.svg': 'image/svg+xml',
  '.txt': 'text/plain; charset=utf-8',
  '.md': 'text/markdown; charset=utf-8',
});

/** The folder of onnxruntime-web's wasm and worker files in the installed package. */
export function onnxruntimeWebDist(): string {
  const require = createRequire(import.meta.url);
  // The package exports no package.json; its Node entry sits in dist/ beside the wasm files.
  return path.dirname(require.resolve('onnxruntime-web'));
}

/** URL prefixes and the folders they serve, longest prefix first. */
function mounts(options: StaticServerOptions): [string, string][] {
  const root = path.resolve(options.root);
  return [
    ['/bundle/', path.resolve(options.bundleDir ?? path.join(root, 'dist', 'bundle'))],
    ['/ort/', onnxruntimeWebDist()],
    ['/models/', path.join(root, 'models')],
    ['/data/', path.join(root, 'data')],
    ['/', path.join(root, 'web')],
  ];
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * The file a request path names, or an HttpError: 400 for a path that does not decode, 403 for
 * one that leaves its folder (`..`, an encoded `..`, a link pointing out), 404 for a missing file.
 */
async function resolveFile(table: [string, string][], urlPath: string): Promise<string> {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    throw new HttpError(400, `path '${urlPath}' is not valid percent-encoding`);
  }
  if (decoded.includes('\0') || decoded.includes('\\')) {
    throw new HttpError(400, `path '${urlPath}' holds a NUL byte or a backslash`);
  }
  const [prefix, folder] = table.find(([p]) => decoded.startsWith(p)) as [string, string];
  const rest = decoded.slice(prefix.length);
  if (rest.split('/').includes('..')) {
    throw new HttpError(403, `path '${urlPath}' leaves the served folder`);
  }
  let file = path.join(folder, rest === '' || rest.endsWith('/') ? `${rest}index.html` : rest);
  try {
    // Links are followed, and the target must still be inside the folder.
    const [real, realFolder] = await Promise.all([realpath(file), realpath(folder)]);
    if (real !== realFolder && !real.startsWith(realFolder + path.sep)) {
      throw new HttpError(403, `path '${urlPath}' leaves the served folder`);
    }
    file = real;
    if (!(await stat(file)).isFile()) throw new HttpError(404, `'${urlPath}' is a folder`);
  } catch (error) {
    if (error instanceof HttpError) throw error;
    throw new HttpError(404, `'${urlPath}' not found`);
  }
  return file;
}

function sendError(response: ServerResponse, error: HttpError, headers: Record<string, string>) {
  response.writeHead(error.status, { ...headers, 'Content-Type': 'text/plain; charset=utf-8' });
  response.end(`${error.status}: ${error.message}\n`);
}

async function handle(
  request: IncomingMessage,
  response: ServerResponse,
  table: [string, string][],
  headers: Record<string, string>,
): Promise<void> {
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    response.writeHead(405, { ...headers, Allow: 'GET, HEAD' });
    response.end();
    return;
  }
  const urlPath = (request.url ?? '/').split(/[?#]/)[0];
  let file: string;
  try {
    if (!urlPath.startsWith('/')) throw new HttpError(400, `path '${urlPath}' is not absolute`);
    file = await resolveFile(table, urlPath);
  } catch (error) {
    sendError(response, error as HttpError, headers);
    return;
  }
  const size = (await stat(file)).size;
  const type = CONTENT_TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream';
  response.writeHead(200, { ...headers, 'Content-Type': type, 'Content-Length': String(size) });
  if (request.method === 'HEAD') {
    response.end();
    return;
  }
  createReadStream(file)
    .on('error', () => response.destroy())
    .pipe(response);
}

function listen(server: Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      reject(
        error.code === 'EADDRINUSE'
          ? new Error(`port ${port} on 127.0.0.1 is in use; pass another with --port N`)
          : error,
      );
    });
    server.listen(port, '127.0.0.1', () => {
      const address = server.address();
      resolve(typeof address === 'object' && address ? address.port : port);
    });
  });
}

/**
 * Starts the server on 127.0.0.1. Mounts: `/` the page (`web/`), `/bundle/` its script,
 * `/ort/` onnxruntime-web's `dist/` (wasm and worker files), `/models/` and `/data/`.
 *
 * @throws RangeError for a port outside 0..65535; Error when the port is taken.
 * @example
 * ```ts
 * const server = await startStaticServer({ root: packageRoot(), port: 0 });
 * server.url; // 'http://127.0.0.1:41613/'
 * await server.close();
 * ```
 */
export async function startStaticServer(options: StaticServerOptions): Promise<StaticServer> {
  const port = options.port ?? 8080;
  if (!(Number.isInteger(port) && port >= 0 && port <= 65535)) {
    throw new RangeError(`port must be an integer from 0 to 65535, got ${String(port)}`);
  }
  const table = mounts(options);
  const headers: Record<string, string> = {
    'Cache-Control': 'no-cache',
    'X-Content-Type-Options': 'nosniff',
    'Cross-Origin-Resource-Policy': 'same-origin',
    ...(options.isolate === false
      ? {}
      : {
          'Cross-Origin-Opener-Policy': 'same-origin',
          'Cross-Origin-Embedder-Policy': 'require-corp',
        }),
  };
  const server = createServer((request, response) => {
    handle(request, response, table, headers).catch(() => {
      if (!response.headersSent) response.writeHead(500);
      response.end();
    });
  });
  const bound = await listen(server, port);
  let closed: Promise<void> | undefined;
  return {
    url: `http://127.0.0.1:${bound}/`,
    port: bound,
    close() {
      closed ??= new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closed;
    },
  };
}
