import { expect } from 'chai';
import { readFile } from 'node:fs/promises';
import sharp from 'sharp';

import { resolvePreset } from '../src/index.js';
import { imageDataSource, preprocessInto } from '../src/runtime/preprocess/image-web.js';
import { expectClose } from './helpers/assert.js';

describe('the ortlab package', () => {
  it("imports by its own name from the repository root (the built 'ortlab' entry)", async () => {
    const ortlab = (await import('ortlab')) as Record<string, unknown>;
    for (const name of ['Session', 'OnnxModel', 'openDataset', 'evaluateClassifier', 'topK']) {
      expect(ortlab[name], name).to.be.a('function');
    }
  });

  it('gives the browser path the same tensor as torchvision for RGBA ImageData', async () => {
    const { data, info } = await sharp('test/fixtures/images/coffee.jpg')
      .ensureAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true });
    const imageData = {
      data: new Uint8ClampedArray(data.buffer, data.byteOffset, data.byteLength),
      width: info.width,
      height: info.height,
    } as ImageData;
    const out = new Float32Array(3 * 224 * 224);
    await preprocessInto(imageDataSource(imageData), resolvePreset('imagenet'), out, 0);
    const ref = await readFile('test/fixtures/images/coffee.imagenet.f32');
    const expected = new Float32Array(
      ref.buffer.slice(ref.byteOffset, ref.byteOffset + ref.length),
    );
    expectClose(out, expected, 1e-6, 'coffee.jpg through the browser path');
  });
});
