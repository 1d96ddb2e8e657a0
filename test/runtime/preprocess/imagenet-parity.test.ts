import { expect } from 'chai';
import { readFile } from 'node:fs/promises';
import path from 'node:path';

import { preprocessInto, resizePlan, resolvePreset } from '../../../src/index.js';
import { expectClose } from '../../helpers/assert.js';

const FIXTURES = path.resolve('test/fixtures/images');

interface FixtureImage {
  file: string;
  width: number;
  height: number;
  resized: [number, number];
  cropOffset: [number, number];
  tensor: string;
  dims: number[];
}

async function fixture(): Promise<{ images: FixtureImage[] }> {
  return JSON.parse(await readFile(path.join(FIXTURES, 'imagenet-preprocess.json'), 'utf8')) as {
    images: FixtureImage[];
  };
}

async function reference(name: string): Promise<Float32Array> {
  const bytes = await readFile(path.join(FIXTURES, name));
  return new Float32Array(
    bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength),
  );
}

/**
 * torchvision 0.14 on Pillow (Resize(256, bilinear), CenterCrop(224), ToTensor, Normalize) is the
 * reference, stored by tools/fixtures/imagenet_preprocess.py. ortlab resamples with Pillow's
 * fixed-point arithmetic, so the 8-bit pixels are identical and only float rounding of the
 * normalization differs: the tolerance is 1e-6 absolute.
 */
describe('imagenet preprocessing against torchvision', () => {
  const preset = resolvePreset('imagenet');

  it('plans the same resize and centre crop as torchvision for every fixture image', async () => {
    for (const image of (await fixture()).images) {
      const plan = resizePlan(image.width, image.height, preset);
      expect([plan.resizeWidth, plan.resizeHeight], image.file).to.deep.equal(image.resized);
      expect([plan.left, plan.top], image.file).to.deep.equal(image.cropOffset);
    }
  });

  it('matches torchvision to 1e-6 on real JPEGs: down-/upsampled, colour and grey', async () => {
    for (const image of (await fixture()).images) {
      const expected = await reference(image.tensor);
      const actual = new Float32Array(3 * 224 * 224);
      await preprocessInto(
        { kind: 'file', path: path.join(FIXTURES, image.file) },
        preset,
        actual,
        0,
      );
      expectClose(actual, expected, 1e-6, image.file);
    }
  });

  it('fails the tolerance when the channel order is wrong (the check has teeth)', async () => {
    const image = (await fixture()).images[0];
    const expected = await reference(image.tensor);
    const actual = new Float32Array(3 * 224 * 224);
    await preprocessInto(
      { kind: 'file', path: path.join(FIXTURES, image.file) },
      preset,
      actual,
      0,
    );
    const area = 224 * 224;
    let sum = 0;
    for (let i = 0; i < area; i++) sum += Math.abs(actual[i] - expected[2 * area + i]);
    expect(sum / area).to.be.above(0.05);
  });
});
