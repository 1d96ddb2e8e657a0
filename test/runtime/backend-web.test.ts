import { expect } from 'chai';
import { readFile } from 'node:fs/promises';

import { env } from 'onnxruntime-common';

import { Session, loadTokenizer, nodeBackend, registerBackend } from '../../src/index.js';
import { webBackend } from '../../src/runtime/backend-web.js';
import { expectClose } from '../helpers/assert.js';
import { sequence } from '../helpers/tiny-models.js';

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
});
