import { expect } from 'chai';
import { build } from 'esbuild';
import path from 'node:path';

/**
 * The distillation module, ONNX Runtime Gram included, must bundle for a browser: esbuild's
 * browser platform fails on any `node:` import, and the inputs are checked for Node-only code.
 */
describe('src/distill in the browser', () => {
  it('bundles for the browser with no node: module or Node backend', async function () {
    this.timeout(120_000);
    const result = await build({
      entryPoints: [path.resolve('src/distill/index.ts')],
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
    expect(inputs).to.include('src/distill/gram-ort.ts');
    const forbidden = inputs.filter((i) =>
      /(^|\/)(node:|node_modules\/(sharp|@img|onnxruntime-node)\/)|backend-node/.test(i),
    );
    expect(forbidden).to.deep.equal([]);
  });
});
