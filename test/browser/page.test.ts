import { expect } from 'chai';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';

import {
  GradCam,
  Session,
  minMaxNormalize,
  openIdxDataset,
  overlayRgb,
  preprocessInto,
  resolvePreset,
  upsampleBilinear,
} from '../../src/index.js';
import type { StaticServer } from '../../src/server/static-server.js';
import { expectClose } from '../helpers/assert.js';
import { launchBrowser, type TestBrowser } from '../helpers/browser.js';
import { servePage } from '../helpers/page-server.js';
import { openPage, realErrors } from './page-helpers.js';

const MODEL = 'models/mnist-cnn.onnx';
const CARD = JSON.parse(await readFile('models/mnist-cnn.json', 'utf8')) as {
  preset: Parameters<typeof resolvePreset>[0];
  featureTensor: string;
};

/** MNIST test digit `index` as an RGB PNG, enlarged to 70x84 and tinted, so it is resampled. */
async function digitPng(index: number, file: string): Promise<void> {
  const mnist = await openIdxDataset('data/mnist/images-idx3-ubyte.gz');
  for await (const sample of mnist.samples({ start: index, end: index + 1 })) {
    if (sample.source.kind !== 'pixels') throw new Error('expected pixels');
    const grey = sample.source.data;
    const rgb = new Uint8Array(28 * 28 * 3);
    grey.forEach((v, i) => rgb.set([v, Math.round(v * 0.8), Math.round(v * 0.6)], i * 3));
    await sharp(rgb, { raw: { width: 28, height: 28, channels: 3 } })
      .resize(70, 84, { kernel: 'nearest', fit: 'fill' })
      .png()
      .toFile(file);
  }
}

/** What onnxruntime-node and ortlab's Node build make of the same file: logits and overlay. */
async function nodeReference(file: string): Promise<{ logits: Float32Array; overlay: Uint8Array }> {
  const preset = resolvePreset(CARD.preset, [1, 1, 28, 28]);
  const data = new Float32Array(784);
  await preprocessInto({ kind: 'file', path: file }, preset, data, 0);
  const session = await Session.create(MODEL);
  const { logits } = await session.run({ input: { type: 'float32', data, dims: [1, 1, 28, 28] } });
  await session.dispose();
  const cam = await GradCam.create(MODEL, { feature: CARD.featureTensor });
  const result = await cam.compute({ type: 'float32', data, dims: [1, 1, 28, 28] });
  await cam.dispose();
  const map = minMaxNormalize(upsampleBilinear(result.maps, 28, 28)).data;
  const view = data.map((x) => x * preset.std[0] + preset.mean[0]);
  return { logits: logits.data as Float32Array, overlay: overlayRgb(view, map, 28, 28) };
}

/** The 28x28 RGB pixels behind a canvas that shows them enlarged 8 times. */
async function canvasPixels(page: OpenedPageLike, id: string): Promise<number[]> {
  return page.evaluate((canvasId) => {
    const canvas = document.getElementById(canvasId) as HTMLCanvasElement;
    const data = canvas.getContext('2d')!.getImageData(0, 0, 224, 224).data;
    const out: number[] = [];
    for (let y = 0; y < 28; y++) {
      for (let x = 0; x < 28; x++) {
        const at = ((y * 8 + 4) * 224 + x * 8 + 4) * 4;
        out.push(data[at], data[at + 1], data[at + 2]);
      }
    }
    return out;
  }, id);
}

type OpenedPageLike = Awaited<ReturnType<typeof openPage>>['page'];

/** Drops a file built in the page on the drop zone. */
async function dropFile(page: OpenedPageLike, name: string, type: string, text: string) {
  await page.evaluate(
    ([fileName, fileType, body]) => {
      const transfer = new DataTransfer();
      transfer.items.add(new File([body], fileName, { type: fileType }));
      const zone = document.getElementById('drop-zone')!;
      zone.dispatchEvent(new DragEvent('drop', { dataTransfer: transfer, bubbles: true }));
    },
    [name, type, text],
  );
}

describe('the demo page in Chromium', () => {
  let browser: TestBrowser;
  let server: StaticServer;
  let dir: string;

  before(async function () {
    this.timeout(60_000);
    dir = await mkdtemp(path.join(tmpdir(), 'ortlab-page-'));
    [browser, server] = await Promise.all([launchBrowser(), servePage()]);
  });

  after(async () => {
    await browser?.close();
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('logs no error, says why WebGPU is off, classifies a digit, is not blank', async function () {
    this.timeout(30_000);
    const opened = await openPage(browser, server);
    const { page } = opened;
    expect(await page.getAttribute('body', 'data-state')).to.equal('ready');
    expect(await page.getAttribute('#provider', 'data-provider')).to.equal('wasm');
    // Chromium runs with --disable-gpu here: no adapter, and the page says so.
    expect(await page.locator('#webgpu').innerText()).to.match(
      /^not available: navigator\.gpu\.requestAdapter\(\) found no adapter.*models run on wasm$/,
    );
    expect(await page.locator('#runtime-messages').innerText()).to.include(
      "execution provider 'webgpu' did not start",
    );
    expect(await page.locator('#threads').innerText()).to.match(/cross-origin isolated/);
    expect(await page.evaluate(() => crossOriginIsolated)).to.equal(true);

    await page.click('#sample-button');
    await page.waitForSelector('#classify-result[data-state="done"]');
    expect(await page.locator('#classify-message').innerText()).to.equal(
      'MNIST test digit #0, labelled 7',
    );
    expect(await page.locator('#prediction').innerText()).to.match(/^7 \(9\d\.\d\d%\)$/);

    const png = await page.screenshot({ fullPage: true, type: 'png' });
    const stats = await sharp(png).stats();
    const spread = Math.max(...stats.channels.slice(0, 3).map((c) => c.stdev));
    expect(spread, 'screenshot pixel standard deviation').to.be.greaterThan(15);
    const heat = await canvasPixels(page, 'cam-canvas');
    expect(new Set(heat).size, 'distinct values in the Grad-CAM overlay').to.be.greaterThan(50);
    expect(realErrors(opened)).to.deep.equal([]);
    expect(opened.outside).to.deep.equal([]);
    await page.close();
  });

  it("a picked PNG: onnxruntime-node's logits (1e-4), Node's Grad-CAM overlay", async function () {
    this.timeout(30_000);
    const file = path.join(dir, 'digit-3.png');
    await digitPng(3, file);
    const reference = await nodeReference(file);
    const opened = await openPage(browser, server);
    const { page } = opened;
    await page.setInputFiles('#file-input', file);
    await page.waitForSelector('#classify-result[data-state="done"]');
    expect(await page.locator('#classify-message').innerText()).to.equal("'digit-3.png'");
    const logits = JSON.parse((await page.getAttribute('#logits', 'data-logits')) ?? '[]');
    expectClose(logits as number[], reference.logits, 1e-4, 'page logits against onnxruntime-node');
    // The overlay is drawn from the page's own maps: equal to Node's up to one 8-bit level.
    expectClose(await canvasPixels(page, 'cam-canvas'), reference.overlay, 1, 'overlay pixels');
    expect(realErrors(opened)).to.deep.equal([]);
    await page.close();
  });

  it('says when the dropped or picked file is not an image, and keeps working', async function () {
    this.timeout(30_000);
    const { page } = await openPage(browser, server);
    await dropFile(page, 'notes.txt', 'text/plain', 'not an image');
    const message = page.locator('#classify-message');
    await page.waitForSelector('#classify-result[data-state="error"]', { state: 'attached' });
    expect(await message.getAttribute('role')).to.equal('alert');
    expect(await message.innerText()).to.equal(
      "'notes.txt' (type text/plain, 12 bytes) is not an image this browser can decode; use a " +
        'PNG, JPEG, GIF, WebP or BMP file',
    );
    expect(await page.locator('#classify-result').isHidden()).to.equal(true);

    const fake = path.join(dir, 'photo.png');
    await writeFile(fake, 'PNG? no');
    await page.setInputFiles('#file-input', fake);
    await page.waitForFunction(() =>
      document.getElementById('classify-message')!.textContent.startsWith("'photo.png'"),
    );
    expect(await message.innerText()).to.match(/^'photo\.png' \(type image\/png, 7 bytes\) is not/);

    await page.click('#sample-button');
    await page.waitForSelector('#classify-result[data-state="done"]');
    expect(await page.locator('#prediction').innerText()).to.match(/^7 /);
    await page.close();
  });

  it('in a browser with no WebGPU at all: says so and runs on wasm', async function () {
    this.timeout(30_000);
    const { page, errors } = await browser.newPage();
    // As in a browser that does not ship WebGPU: navigator.gpu is undefined.
    await page.addInitScript(() =>
      Object.defineProperty(navigator, 'gpu', { value: undefined, configurable: true }),
    );
    await page.goto(server.url);
    await page.waitForSelector('body[data-state]');
    expect(await page.locator('#webgpu').innerText()).to.equal(
      'not available: navigator.gpu is missing: this browser has no WebGPU or has it switched ' +
        'off (Chrome and Edge ship it since version 113; Firefox and Safari may need it ' +
        'enabled); models run on wasm',
    );
    expect(await page.getAttribute('#provider', 'data-provider')).to.equal('wasm');
    await page.click('#sample-button');
    await page.waitForSelector('#classify-result[data-state="done"]');
    expect(errors.filter((e) => !e.includes('404'))).to.deep.equal([]);
    await page.close();
  });

  it('not cross-origin isolated: warns wasm runs on one thread, and still runs', async function () {
    this.timeout(30_000);
    const plain = await servePage({ isolate: false });
    try {
      const opened = await openPage(browser, plain);
      const { page } = opened;
      expect(await page.evaluate(() => crossOriginIsolated)).to.equal(false);
      expect(await page.locator('#threads').innerText()).to.equal(
        '1 (the page is not cross-origin isolated, so wasm cannot use threads)',
      );
      const cores = await page.evaluate(() => navigator.hardwareConcurrency);
      if (cores > 1) {
        expect(await page.locator('#runtime-messages').innerText()).to.include(
          'the page is not cross-origin isolated (crossOriginIsolated is false), so ' +
            'onnxruntime-web runs wasm on one thread',
        );
      }
      await page.click('#sample-button');
      await page.waitForSelector('#classify-result[data-state="done"]');
      expect(await page.getAttribute('#provider', 'data-provider')).to.equal('wasm');
      expect(realErrors(opened)).to.deep.equal([]);
      await page.close();
    } finally {
      await plain.close();
    }
  });

  it('says why the model did not load or is not ONNX; the page is never blank', async function () {
    this.timeout(30_000);
    const root = await mkdtemp(path.join(tmpdir(), 'ortlab-page-root-'));
    await Promise.all(['web', 'data'].map((d) => symlink(path.resolve(d), path.join(root, d))));
    await mkdir(path.join(root, 'models'));
    await writeFile(path.join(root, 'models', 'broken.onnx'), 'this is not a model');
    await writeFile(path.join(root, 'models', 'broken.json'), JSON.stringify(CARD));
    await writeFile(path.join(root, 'models', 'gone.json'), JSON.stringify(CARD));
    const other = await servePage({ root });
    try {
      const broken = await openPage(browser, other, '?model=/models/broken.onnx');
      const message = broken.page.locator('#classify-message');
      expect(await message.getAttribute('role')).to.equal('alert');
      expect(await message.innerText()).to.match(
        /^the classifier could not start: .*\/models\/broken\.onnx.* not .*ONNX/i,
      );
      expect(await broken.page.locator('#provider').innerText()).to.match(/^none: /);
      expect(await broken.page.locator('#sample-button').isDisabled()).to.equal(true);
      await broken.page.click('#suite-button');
      await broken.page.waitForSelector('#suite[data-state="error"]');
      expect(await broken.page.locator('#suite-message').innerText()).to.match(
        /^the suite could not run: .*broken\.onnx/,
      );
      await broken.page.close();

      const gone = await openPage(browser, other, '?model=/models/gone.onnx');
      expect(await gone.page.locator('#classify-message').innerText()).to.equal(
        "the classifier could not start: model '/models/gone.onnx' could not be fetched: " +
          'HTTP 404 Not Found',
      );
      const missingCard = await openPage(browser, other, '?model=/models/nothing.onnx');
      expect(await missingCard.page.locator('#classify-message').innerText()).to.match(
        /^model card '\/models\/nothing\.json' could not be fetched \(HTTP 404\)/,
      );
      for (const opened of [gone, missingCard]) {
        expect(await opened.page.locator('#page-error').isHidden()).to.equal(true);
        await opened.page.close();
      }
    } finally {
      await other.close();
      await rm(root, { recursive: true, force: true });
    }
  });
});
