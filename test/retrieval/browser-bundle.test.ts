import { expect } from 'chai';
import { build } from 'esbuild';
import path from 'node:path';

/**
 * The shared retrieval module (encoders, scoring, top matches, the report page) must bundle for
 * a browser: esbuild's browser platform fails on any `node:` import, and the inputs are checked
 * for Node-only code.
 */
describe('src/retrieval in the browser', () => {
  it('bundles for the browser with no node: module, sharp or Node backend', async function () {
    this.timeout(120_000);
    const result = await build({
      entryPoints: [path.resolve('src/retrieval/index.ts')],
      bundle: true,
      platform: 'browser',
      format: 'esm',
      write: false,
      metafile: true,
      logLevel: 'silent',
      external: ['*.wasm'],
      outdir: 'out',
    });
    const inputs = Object.keys(result.metafile.inputs);
    for (const file of ['encode.ts', 'recall.ts', 'top-matches.ts', 'report-html.ts']) {
      expect(inputs).to.include(`src/retrieval/${file}`);
    }
    const forbidden = inputs.filter((i) =>
      /(^|\/)(node:|node_modules\/(sharp|@img|onnxruntime-node|@huggingface)\/)|backend-node|-node\.ts$/.test(
        i,
      ),
    );
    expect(forbidden).to.deep.equal([]);
  });
});
