import { expect } from 'chai';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { env } from 'onnxruntime-common';

import { Session, loadTokenizer, nodeBackend, registerBackend } from '../../src/index.js';
import { webBackend } from '../../src/runtime/backend-web.js';
import { expectClose } from '../helpers/assert.js';
import { startStaticServer } from '../../src/server/static-server.js';
import { W, linearRelu, linearReluModel, sequence } from '../helpers/tiny-models.js';

/**
 * The browser backend's sessions, run in Node on onnxruntime-web's wasm build: the same
 * provider handling and the same outputs as onnxruntime-node. Browser-only parts (fetch,
 * canvas) are tested in a real browser.
 */
describe('onnxruntime-web backend (wasm, in Node)', () => {
  before(() => registerBackend(webBackend));
  after(() => registerBackend(nodeBackend));

  it('runs the bundled model with the same logits as onnxruntime-node (1e-4)', async () => {
    const bytes = new Uint8Array(await readFile('models/mnist-cnn.onnx'));
    const input = { type: 'float32' as const, data: sequence(4 * 784, 5), dims: [4, 1, 28, 28] };
    const web = await Session.create(bytes);
    expect(web.executionProvider).to.equal('wasm');
    const fromWeb = await web.run({ input });
    await web.dispose();
    await web.dispose();

    registerBackend(nodeBackend);
    const native = await Session.create(bytes);
    const fromNode = await native.run({ input });
    await native.dispose();
    registerBackend(webBackend);

    expect(fromWeb.logits.dims).to.deep.equal([4, 10]);
    expectClose(
      fromWeb.logits.data as Float32Array,
      fromNode.logits.data as Float32Array,
      1e-4,
      'logits',
    );
  });

  it('reports a provider that onnxruntime-web lacks and falls back to wasm', async () => {
    const bytes = new Uint8Array(await readFile('models/mnist-cnn.onnx'));
    const session = await Session.create(bytes, { executionProviders: 'cuda,wasm' });
    expect(session.executionProvider).to.equal('wasm');
    expect(session.failedProviders).to.deep.equal([
      { name: 'cuda', reason: 'not available in onnxruntime-web' },
    ]);
    await session.dispose();
  });

  it('still loads its wasm from the package after a tokenizer was loaded', async () => {
    // transformers.js points the shared wasm paths at a CDN on import; ortlab puts them back.
    const before = env.wasm.wasmPaths;
    (await loadTokenizer('test/fixtures/tokenizer')).dispose();
    expect(env.wasm.wasmPaths).to.equal(before);
    const session = await Session.create(new Uint8Array(await readFile('models/mnist-cnn.onnx')));
    expect(session.executionProvider).to.equal('wasm');
    await session.dispose();
  });

  it('fetches external data beside the model URL and names a file not served', async () => {
    const root = await mkdtemp(path.join(tmpdir(), 'ortlab-web-external-'));
    await mkdir(path.join(root, 'models'));
    await writeFile(
      path.join(root, 'models', 'linear.onnx'),
      linearReluModel({ externalLocation: 'linear.weights' }),
    );
    await writeFile(path.join(root, 'models', 'linear.weights'), new Uint8Array(W.buffer));
    await writeFile(
      path.join(root, 'models', 'orphan.onnx'),
      linearReluModel({ externalLocation: 'gone.weights' }),
    );
    const server = await startStaticServer({ root, port: 0 });
    try {
      const session = await Session.create(`${server.url}models/linear.onnx`, {
        executionProviders: 'wasm',
      });
      const x = sequence(8, 3);
      const { y } = await session.run({ x: { type: 'float32', data: x, dims: [2, 4] } });
      await session.dispose();
      expectClose(y.data as Float32Array, linearRelu(x, 2), 1e-6, 'y');

      const orphan = await Session.create(`${server.url}models/orphan.onnx`).catch(
        (e: unknown) => e as Error,
      );
      expect((orphan as Error).message).to.equal(
        `${server.url}models/orphan.onnx: external data 'gone.weights' of tensor 'W' could not ` +
          `be fetched from ${server.url}models/gone.weights (HTTP 404); serve it beside the model`,
      );
      const bytes = new Uint8Array(await readFile(path.join(root, 'models', 'linear.onnx')));
      const fromBytes = await Session.create(bytes).catch((e: unknown) => e as Error);
      expect((fromBytes as Error).message).to.match(
        new RegExp(
          "^the model bytes refer to external data \\('linear\\.weights' for tensor 'W'\\); " +
            "create the session from the model's URL",
        ),
      );
    } finally {
      await server.close();
      await rm(root, { recursive: true, force: true });
    }
  });
});
