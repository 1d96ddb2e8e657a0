import { expect } from 'chai';
import { mkdir, mkdtemp, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';

import {
  onnxruntimeWebDist,
  startStaticServer,
  type StaticServer,
} from '../../src/server/static-server.js';

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** A raw request: the path is sent exactly as given (no normalization of `..`). */
function get(server: StaticServer, rawPath: string, method = 'GET'): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: server.port, path: rawPath, method }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

describe('ortlab serve: the static server', () => {
  let server: StaticServer;
  let bundle: string;
  let outside: string;

  before(async () => {
    bundle = await mkdtemp(path.join(tmpdir(), 'ortlab-serve-bundle-'));
    await writeFile(path.join(bundle, 'app.js'), 'export {};\n');
    outside = await mkdtemp(path.join(tmpdir(), 'ortlab-serve-outside-'));
    await writeFile(path.join(outside, 'secret.txt'), 'secret\n');
    server = await startStaticServer({ root: process.cwd(), bundleDir: bundle, port: 0 });
  });

  after(async () => {
    await server.close();
    await server.close();
    await rm(bundle, { recursive: true, force: true });
    await rm(outside, { recursive: true, force: true });
  });

  it('listens on 127.0.0.1 and serves the page with cross-origin isolation headers', async () => {
    expect(server.url).to.match(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    const page = await get(server, '/');
    expect(page.status).to.equal(200);
    expect(page.headers['content-type']).to.equal('text/html; charset=utf-8');
    expect(page.headers['cross-origin-opener-policy']).to.equal('same-origin');
    expect(page.headers['cross-origin-embedder-policy']).to.equal('require-corp');
    expect(page.headers['cross-origin-resource-policy']).to.equal('same-origin');
    expect(page.body.toString()).to.include('<script type="module" src="/bundle/app.js">');
    const script = await get(server, '/bundle/app.js');
    expect(script.headers['content-type']).to.equal('text/javascript; charset=utf-8');
    expect(script.body.toString()).to.equal('export {};\n');
  });

  it("serves onnxruntime-web's installed wasm, and models and gzipped data as bytes", async () => {
    const wasm = await get(server, '/ort/ort-wasm-simd-threaded.jsep.wasm', 'HEAD');
    expect(wasm.status).to.equal(200);
    expect(wasm.headers['content-type']).to.equal('application/wasm');
    const size = (await stat(path.join(onnxruntimeWebDist(), 'ort-wasm-simd-threaded.jsep.wasm')))
      .size;
    expect(Number(wasm.headers['content-length'])).to.equal(size);
    expect(onnxruntimeWebDist()).to.equal(path.resolve('node_modules/onnxruntime-web/dist'));

    const model = await get(server, '/models/mnist-cnn.onnx');
    expect(model.headers['content-type']).to.equal('application/octet-stream');
    expect(model.body.length).to.equal((await stat('models/mnist-cnn.onnx')).size);
    const data = await get(server, '/data/suite/v2/images-idx3-ubyte.gz');
    expect(data.headers['content-type']).to.equal('application/gzip');
    expect(data.headers['content-encoding']).to.equal(undefined);
    expect([...data.body.subarray(0, 2)]).to.deep.equal([0x1f, 0x8b]);
  });

  it('refuses paths that leave the served folders, plainly or percent-encoded', async () => {
    for (const p of [
      '/models/../package.json',
      '/data/%2e%2e/%2e%2e/package.json',
      '/%2E%2E/package.json',
      '/ort/..%2f..%2fpackage.json',
      '/bundle/../../../etc/passwd',
    ]) {
      const reply = await get(server, p);
      expect(reply.status, p).to.equal(403);
      expect(reply.body.toString(), p).to.include('leaves the served folder');
    }
    expect((await get(server, '/models/..%5cpackage.json')).status).to.equal(400);
    expect((await get(server, '/%E0%A4%A')).status).to.equal(400);
    expect((await get(server, '/models/nothing-here.onnx')).status).to.equal(404);
    expect((await get(server, '/models/')).status).to.equal(404);
    expect((await get(server, '/', 'POST')).status).to.equal(405);
  });

  it('refuses a link that points out of a served folder', async () => {
    const root = await mkdtemp(path.join(tmpdir(), 'ortlab-serve-root-'));
    try {
      await mkdir(path.join(root, 'web'));
      await writeFile(path.join(root, 'web', 'index.html'), '<!doctype html>');
      await symlink(path.join(outside, 'secret.txt'), path.join(root, 'web', 'leak.txt'));
      const linked = await startStaticServer({ root, port: 0, bundleDir: bundle });
      try {
        expect((await get(linked, '/')).status).to.equal(200);
        const leak = await get(linked, '/leak.txt');
        expect(leak.status).to.equal(403);
        expect(leak.body.toString()).to.not.include('secret');
      } finally {
        await linked.close();
      }
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });

  it('serves without COOP/COEP when isolation is off, and names a port in use', async () => {
    const plain = await startStaticServer({ root: process.cwd(), port: 0, isolate: false });
    try {
      const page = await get(plain, '/');
      expect(page.headers['cross-origin-opener-policy']).to.equal(undefined);
      expect(page.headers['cross-origin-embedder-policy']).to.equal(undefined);
      const taken = await startStaticServer({ root: process.cwd(), port: plain.port }).catch(
        (e: unknown) => e as Error,
      );
      expect(taken).to.be.instanceOf(Error);
      expect((taken as Error).message).to.equal(
        `port ${plain.port} on 127.0.0.1 is in use; pass another with --port N`,
      );
    } finally {
      await plain.close();
    }
    for (const port of [-1, 65536, 1.5]) {
      const error = await startStaticServer({ root: process.cwd(), port }).catch((e: unknown) => e);
      expect(error, String(port)).to.be.instanceOf(RangeError);
    }
  });
});
