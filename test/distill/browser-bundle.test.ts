import { expect } from 'chai';

import { browserBundleInputs } from '../helpers/browser-bundle.js';

/**
 * The distillation module, ONNX Runtime Gram included, must bundle for a browser: esbuild's
 * browser platform fails on any `node:` import, and the inputs are checked for Node-only code.
 */
describe('src/distill in the browser', () => {
  it('bundles for the browser with no node: module or Node backend', async function () {
    this.timeout(120_000);
    const inputs = await browserBundleInputs('src/distill/index.ts');
    expect(inputs).to.include('src/distill/gram-ort.ts');
    const forbidden = inputs.filter((i) =>
      /(^|\/)(node:|node_modules\/(sharp|@img|onnxruntime-node)\/)|backend-node/.test(i),
    );
    expect(forbidden).to.deep.equal([]);
  });
});
