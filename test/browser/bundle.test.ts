import { expect } from 'chai';
import { build } from 'esbuild';
import path from 'node:path';

import { webBundleOptions } from '../../src/server/web-bundle.js';
import { browserBundleInputs } from '../helpers/browser-bundle.js';

/**
 * The browser entry must bundle for a browser with nothing from Node: esbuild's browser
 * platform fails on any `node:` import, and the bundle's input list is checked for the Node-only
 * packages by name.
 */
describe('browser entry', () => {
  it('bundles for the browser with no node: module, sharp or onnxruntime-node', async function () {
    this.timeout(120_000);
    const inputs = await browserBundleInputs('src/browser.ts');
    expect(inputs.some((i) => i.includes('onnxruntime-web'))).to.equal(true);
    expect(inputs.some((i) => i.includes('onnx-proto'))).to.equal(true);
    // transformers.js (tokenizers) is loaded on first use; its Node build must not come along.
    expect(inputs).to.include('node_modules/@huggingface/transformers/dist/transformers.web.js');
    const forbidden = inputs.filter((i) =>
      /(^|\/)(node:|node_modules\/(sharp|@img|onnxruntime-node)\/)|transformers\.node/.test(i),
    );
    expect(forbidden).to.deep.equal([]);
    const ours = inputs.filter((i) => i.startsWith('src/'));
    expect(ours).to.include('src/core.ts');
    expect(
      ours.filter((i) =>
        /datasets\/(open-dataset|image-folder|idx-file)|backend-node|cli\//.test(i),
      ),
    ).to.deep.equal([]);
  });

  it('fails to bundle the Node entry for the browser (the check has teeth)', async function () {
    this.timeout(120_000);
    const error = await build({
      entryPoints: [path.resolve('src/index.ts')],
      bundle: true,
      platform: 'browser',
      format: 'esm',
      write: false,
      logLevel: 'silent',
      outdir: 'out',
    }).catch((e: unknown) => e as Error);
    expect(error).to.be.instanceOf(Error);
    expect((error as Error).message).to.match(/node:|sharp|Could not resolve/);
  });

  it("bundles one ONNX Runtime: transformers.js gets ortlab's onnxruntime-web", async function () {
    this.timeout(120_000);
    const result = await build({
      ...webBundleOptions(process.cwd(), path.resolve('out-never-written')),
      write: false,
      minify: false,
    });
    const inputs = Object.keys(result.metafile!.inputs);
    const runtimes = inputs.filter((i) => /onnxruntime-(web|common|node)\//.test(i));
    // The build that loads its wasm glue from wasmPaths, and nothing from transformers' own copy.
    expect(runtimes).to.deep.equal(['node_modules/onnxruntime-web/dist/ort.min.mjs']);
    expect(inputs.filter((i) => /(^|\/)node:|sharp|@img\//.test(i))).to.deep.equal([]);
    expect(inputs).to.include('src/web/app.ts');
    const chunks = result.outputFiles.map((f) => path.basename(f.path));
    expect(chunks.filter((c) => c.startsWith('transformers.web'))).to.have.length(2); // .js, .map
  });
});
