import { expect } from 'chai';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';

import { loadTokenizer, preprocessInto, resolvePreset } from '../../src/index.js';
import type { StaticServer } from '../../src/server/static-server.js';
import { expectClose } from '../helpers/assert.js';
import { launchBrowser, type TestBrowser } from '../helpers/browser.js';
import { servePage } from '../helpers/page-server.js';
import { openPage, realErrors, type OpenedPage } from './page-helpers.js';

const SENTENCES = ['The food was great, and the service even better!', 'Never again.', ''];

/**
 * The browser entry (`/bundle/ortlab.js`, what `ortlab/browser` bundles to) used from a page as a
 * user would: imported as an ES module, on the page served by `ortlab serve`.
 */
describe('the browser entry in Chromium', () => {
  let browser: TestBrowser;
  let server: StaticServer;
  let opened: OpenedPage;
  let dir: string;

  before(async function () {
    this.timeout(60_000);
    dir = await mkdtemp(path.join(tmpdir(), 'ortlab-entry-'));
    [browser, server] = await Promise.all([launchBrowser(), servePage()]);
    opened = await openPage(browser, server);
  });

  after(async () => {
    await browser?.close();
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('Blob, <img>, ImageBitmap, canvas, ImageData: the tensor sharp makes in Node', async () => {
    const preset = resolvePreset('imagenet');
    // A colour gradient, resampled 100x70 -> 256 -> crop 224: every step of the pipeline counts.
    const width = 100;
    const height = 70;
    const rgb = new Uint8Array(width * height * 3);
    for (let i = 0; i < width * height; i++) {
      rgb.set([(i * 7) % 256, (i % width) * 2, Math.floor(i / width) * 3], i * 3);
    }
    const png = await sharp(rgb, { raw: { width, height, channels: 3 } })
      .png()
      .toBuffer();
    const file = path.join(dir, 'gradient.png');
    await sharp(png).toFile(file);
    const expected = new Float32Array(3 * 224 * 224);
    await preprocessInto({ kind: 'file', path: file }, preset, expected, 0);

    const tensors = await opened.page.evaluate(
      async ({ bytes, presetName }) => {
        const entry: string = '/bundle/ortlab.js';
        const ortlab = await import(entry);
        const blob = new Blob([new Uint8Array(bytes)], { type: 'image/png' });
        const img = new Image();
        img.src = URL.createObjectURL(blob);
        const bitmap = await createImageBitmap(blob, { colorSpaceConversion: 'none' });
        const canvas = document.createElement('canvas');
        canvas.width = bitmap.width;
        canvas.height = bitmap.height;
        const context = canvas.getContext('2d')!;
        context.drawImage(bitmap, 0, 0);
        const imageData = context.getImageData(0, 0, canvas.width, canvas.height);
        const preset = ortlab.resolvePreset(presetName);
        const out: Record<string, number[]> = {};
        for (const [name, input] of Object.entries({ blob, img, bitmap, canvas, imageData })) {
          const data = new Float32Array(3 * 224 * 224);
          const source = await ortlab.imageSource(input);
          await ortlab
            .loadBatch([{ index: 0, id: name, label: 0, source }], preset)
            .then((batch: { data: Float32Array }) => data.set(batch.data.subarray(0, data.length)));
          out[name] = Array.from(data);
        }
        const wrong = await ortlab.imageSource(42).catch((e: Error) => `${e.name}: ${e.message}`);
        // The same ImageData through the resampler's JavaScript loops.
        const resampler = ortlab.activeResampler();
        ortlab.useResampler('js');
        const javascript = ortlab.activeResampler();
        const batch = await ortlab.loadBatch(
          [{ index: 0, id: 'js', label: 0, source: await ortlab.imageSource(imageData) }],
          preset,
        );
        out.javascript = Array.from(batch.data.subarray(0, 3 * 224 * 224) as Float32Array);
        ortlab.useResampler('wasm');
        return { out, wrong, resampler, javascript };
      },
      { bytes: Array.from(png), presetName: 'imagenet' },
    );
    for (const [name, data] of Object.entries(tensors.out)) {
      expectClose(data, expected, 1e-6, `${name} against sharp in Node`);
    }
    // Chromium runs the WebAssembly passes; its JavaScript loops give the same floats.
    expect([tensors.resampler, tensors.javascript]).to.deep.equal(['wasm', 'js']);
    expect(tensors.out.javascript).to.deep.equal(tensors.out.imageData);
    expect(tensors.wrong).to.equal(
      'TypeError: imageSource takes ImageData, an ImageBitmap, an <img>, a canvas or a Blob; ' +
        'received number',
    );
  });

  it('tokenizes with transformers.js from files beside the page, as Node does', async function () {
    this.timeout(30_000);
    const node = await loadTokenizer('models/distill/tokenizer');
    const expected = node.encode(SENTENCES, { maxLength: 12 });
    node.dispose();
    const got = await opened.page.evaluate(async (texts) => {
      const entry: string = '/bundle/ortlab.js';
      const ortlab = await import(entry);
      const before = JSON.stringify((await ortlab.inspectWebEnvironment()).wasmPaths);
      const tokenizer = await ortlab.loadTokenizer('/models/distill/tokenizer/');
      const batch = tokenizer.encode(texts, { maxLength: 12 });
      const after = JSON.stringify((await ortlab.inspectWebEnvironment()).wasmPaths);
      return {
        ids: Array.from(batch.inputIds as BigInt64Array, Number),
        mask: Array.from(batch.attentionMask as BigInt64Array, Number),
        dims: batch.dims as number[],
        vocabSize: tokenizer.vocabSize as number,
        before,
        after,
      };
    }, SENTENCES);
    expect(got.dims).to.deep.equal(expected.dims);
    expect(got.ids).to.deep.equal(Array.from(expected.inputIds, Number));
    expect(got.mask).to.deep.equal(Array.from(expected.attentionMask, Number));
    // Importing transformers.js left the wasm files where the page put them: no CDN.
    expect(got.after).to.equal(got.before);
    expect(got.after).to.equal('"/ort/"');
    expect(opened.outside).to.deep.equal([]);
    expect(realErrors(opened)).to.deep.equal([]);
  });

  it('names the tokenizer file and the fix when it is not served', async () => {
    const message = await opened.page.evaluate(async () => {
      const entry: string = '/bundle/ortlab.js';
      const ortlab = await import(entry);
      return ortlab.loadTokenizer('/models/none/').catch((e: Error) => e.message);
    });
    expect(message).to.match(
      new RegExp(
        "^tokenizer file 'http://127\\.0\\.0\\.1:\\d+/models/none/tokenizer(_config)?\\.json' " +
          "could not be fetched \\(HTTP 404\\): serve the model's tokenizer(_config)?\\.json there",
      ),
    );
    expect(opened.outside).to.deep.equal([]);
  });

  it('says where it looked for the wasm files when they are not served there', async () => {
    const { page } = await browser.newPage();
    await page.goto(`${server.url}models/mnist-cnn.json`); // a page of this origin without the app
    const message = await page.evaluate(async () => {
      const entry: string = '/bundle/ortlab.js';
      const ortlab = await import(entry);
      ortlab.setLogSink(() => undefined);
      ortlab.configureWebRuntime({ wasmPaths: '/nowhere/' });
      return ortlab.Session.create('/models/mnist-cnn.onnx', { executionProviders: 'wasm' }).then(
        () => 'started',
        (e: Error) => e.message,
      );
    });
    expect(message).to.match(
      new RegExp(
        '^no execution provider could run /models/mnist-cnn\\.onnx:\\n  wasm: onnxruntime-web ' +
          "could not load its wasm files from '/nowhere/': serve node_modules/onnxruntime-web/" +
          'dist there or set configureWebRuntime\\(\\{ wasmPaths \\}\\) .*\\n' +
          "Add 'wasm' to the list to fall back to wasm\\.$",
      ),
    );
    await page.close();
  });
});
