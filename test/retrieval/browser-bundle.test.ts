import { expect } from 'chai';

import { browserBundleInputs } from '../helpers/browser-bundle.js';

/**
 * The shared retrieval module (encoders, scoring, top matches, the report page) must bundle for
 * a browser: esbuild's browser platform fails on any `node:` import, and the inputs are checked
 * for Node-only code.
 */
describe('src/retrieval in the browser', () => {
  it('bundles for the browser with no node: module, sharp or Node backend', async function () {
    this.timeout(120_000);
    const inputs = await browserBundleInputs('src/retrieval/index.ts');
    for (const file of ['encode.ts', 'recall.ts', 'top-matches.ts', 'report-html.ts']) {
      expect(inputs).to.include(`src/retrieval/${file}`);
    }
    const nodeOnly = new RegExp(
      '(^|/)(node:|node_modules/(sharp|@img|onnxruntime-node|@huggingface)/)|' +
        'backend-node|-node\\.ts$',
    );
    const forbidden = inputs.filter((i) => nodeOnly.test(i));
    expect(forbidden).to.deep.equal([]);
  });
});
