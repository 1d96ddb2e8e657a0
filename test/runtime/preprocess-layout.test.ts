import { expect } from 'chai';
import path from 'node:path';

import {
  loadBatch,
  normalizeInto,
  PRESETS,
  resolvePreset,
  type Preset,
  type Sample,
} from '../../src/index.js';
import { batchDims, imageVolume } from '../../src/runtime/preprocess/batch.js';
import { expectClose } from '../helpers/assert.js';

const FIXTURES = path.resolve('test/fixtures/images');

function samplesOf(files: readonly string[]): Sample[] {
  return files.map((file, index) => ({
    index,
    id: file,
    label: index,
    source: { kind: 'file', path: path.join(FIXTURES, file) },
  }));
}

/** `[rows, c, h, w]` to `[rows, h, w, c]`, by index arithmetic independent of the library. */
function toNhwc(nchw: Float32Array, rows: number, c: number, h: number, w: number): Float32Array {
  const out = new Float32Array(nchw.length);
  for (let r = 0; r < rows; r++) {
    for (let k = 0; k < c; k++) {
      for (let y = 0; y < h; y++) {
        for (let x = 0; x < w; x++) {
          out[((r * h + y) * w + x) * c + k] = nchw[((r * c + k) * h + y) * w + x];
        }
      }
    }
  }
  return out;
}

/** A 3x2 RGB image whose pixels are all different, so a transposition error cannot hide. */
const W = 3;
const H = 2;
const RGB = Uint8Array.from({ length: W * H * 3 }, (_, i) => (i * 37 + 11) % 256);

describe('preprocessing layout and range', () => {
  describe('layout resolution', () => {
    it('infers NCHW from [n, 3, h, w], NHWC from [n, h, w, 3], and the size from the dims', () => {
      const nchw = resolvePreset('raw', ['batch', 3, 32, 48]);
      expect(nchw).to.deep.include({ layout: 'NCHW', height: 32, width: 48, channels: 'rgb' });
      const nhwc = resolvePreset('raw', ['batch', 32, 48, 3]);
      expect(nhwc).to.deep.include({ layout: 'NHWC', height: 32, width: 48, channels: 'rgb' });
      const gray = resolvePreset('raw', [1, 28, 28, 1]);
      expect(gray).to.deep.include({ layout: 'NHWC', channels: 'gray' });
    });

    it("keeps a preset's explicit layout whatever the model's dims say", () => {
      const preset: Preset = { ...PRESETS.imagenet, layout: 'NHWC' };
      expect(resolvePreset(preset, [1, 3, 224, 224]).layout).to.equal('NHWC');
      expect(resolvePreset('imagenet', [1, 224, 224, 3]).layout).to.equal('NCHW');
    });

    it('batchDims puts channels second for NCHW, last for NHWC; the volume is the same', () => {
      const nchw = resolvePreset({ name: 'p', size: [5, 7], layout: 'NCHW' });
      const nhwc = resolvePreset({ name: 'p', size: [5, 7], layout: 'NHWC' });
      expect(batchDims(4, nchw)).to.deep.equal([4, 3, 5, 7]);
      expect(batchDims(4, nhwc)).to.deep.equal([4, 5, 7, 3]);
      expect(imageVolume(nhwc)).to.equal(imageVolume(nchw)).and.to.equal(105);
    });
  });

  describe('normalizeInto', () => {
    const mean = [0.5, 0.25, 0.125];
    const std = [0.5, 0.25, 2];

    it('writes NHWC as the transpose of NCHW, with (v / 255 - mean) / std per channel', () => {
      const base = { name: 'p', size: [H, W] as const, mean, std, channels: 'rgb' as const };
      const nchw = new Float32Array(W * H * 3);
      const nhwc = new Float32Array(W * H * 3);
      normalizeInto(RGB, W, H, 3, resolvePreset({ ...base, layout: 'NCHW' }), nchw, 0);
      normalizeInto(RGB, W, H, 3, resolvePreset({ ...base, layout: 'NHWC' }), nhwc, 0);
      expect(Array.from(nhwc)).to.deep.equal(Array.from(toNhwc(nchw, 1, 3, H, W)));
      // NHWC is the input's own interleaved order, so element i comes from pixel byte i.
      const expected = Array.from(RGB, (v, i) => (v / 255 - mean[i % 3]) / std[i % 3]);
      expectClose(nhwc, expected, 1e-6, 'nhwc');
    });

    it('range 255 gives (v - mean) / std, range 1 divides v by 255 first', () => {
      const base = { name: 'p', size: [H, W] as const, mean, std, layout: 'NHWC' as const };
      const unit = new Float32Array(W * H * 3);
      const bytes = new Float32Array(W * H * 3);
      normalizeInto(RGB, W, H, 3, resolvePreset({ ...base, range: 1 }), unit, 0);
      normalizeInto(RGB, W, H, 3, resolvePreset({ ...base, range: 255 }), bytes, 0);
      const c = (i: number): number => i % 3;
      expectClose(
        bytes,
        Array.from(RGB, (v, i) => (v - mean[c(i)]) / std[c(i)]),
        1e-4,
        'range 255',
      );
      expectClose(
        unit,
        Array.from(RGB, (v, i) => (v / 255 - mean[c(i)]) / std[c(i)]),
        1e-6,
        'range 1',
      );
      expect(Math.max(...bytes)).to.be.above(100);
      expect(Math.max(...unit)).to.be.below(4);
    });

    it('with mean 0 and std 1, range 255 is exactly 255 times range 1 (to float precision)', () => {
      const base = { name: 'p', size: [H, W] as const, layout: 'NCHW' as const };
      const unit = new Float32Array(W * H * 3);
      const bytes = new Float32Array(W * H * 3);
      normalizeInto(RGB, W, H, 3, resolvePreset({ ...base, range: 1 }), unit, 0);
      normalizeInto(RGB, W, H, 3, resolvePreset({ ...base, range: 255 }), bytes, 0);
      expectClose(
        Array.from(unit, (v) => v * 255),
        bytes,
        1e-4,
        'scaled',
      );
      expect(bytes.every((v) => Number.isInteger(v))).to.equal(true);
    });

    it('writes at the given offset and leaves the rest of the buffer alone', () => {
      const preset = resolvePreset({ name: 'p', size: [H, W], layout: 'NHWC', range: 255 });
      const out = new Float32Array(W * H * 3 + 4).fill(-1);
      normalizeInto(RGB, W, H, 3, preset, out, 2);
      expect(Array.from(out.subarray(0, 2))).to.deep.equal([-1, -1]);
      expect(Array.from(out.subarray(2, 2 + RGB.length))).to.deep.equal(Array.from(RGB));
      expect(Array.from(out.subarray(2 + RGB.length))).to.deep.equal([-1, -1]);
    });
  });

  describe('loadBatch on real JPEGs', () => {
    const files = ['astronaut.jpg', 'camera-gray.jpg', 'chelsea-small.jpg'];

    it('the imagenet preset in NHWC gives the NCHW batch transposed, with NHWC dims', async () => {
      const nchwPreset = resolvePreset('imagenet');
      const nhwcPreset = resolvePreset({ ...PRESETS.imagenet, layout: 'NHWC' });
      const nchw = await loadBatch(samplesOf(files), nchwPreset);
      const nhwc = await loadBatch(samplesOf(files), nhwcPreset);
      expect(nchw.dims).to.deep.equal([3, 3, 224, 224]);
      expect(nhwc.dims).to.deep.equal([3, 224, 224, 3]);
      expect(nhwc.skipped).to.deep.equal([]);
      expect(Array.from(nhwc.labels)).to.deep.equal([0, 1, 2]);
      const transposed = toNhwc(nchw.data, 3, 3, 224, 224);
      expect(nhwc.data.length).to.equal(transposed.length);
      expect(nhwc.data.every((v, i) => v === transposed[i])).to.equal(true);
      // The layouts really differ: NCHW read as if it were NHWC does not match.
      expect(nhwc.data.every((v, i) => v === nchw.data[i])).to.equal(false);
    });

    it('a gray preset gives the same floats in both layouts (one channel)', async () => {
      const nchw = await loadBatch(samplesOf(files), resolvePreset('mnist'));
      const nhwc = await loadBatch(
        samplesOf(files),
        resolvePreset({ ...PRESETS.mnist, layout: 'NHWC' }),
      );
      expect(nchw.dims).to.deep.equal([3, 1, 28, 28]);
      expect(nhwc.dims).to.deep.equal([3, 28, 28, 1]);
      expect(Array.from(nhwc.data)).to.deep.equal(Array.from(nchw.data));
    });

    it('range 255 with raw gives 255 times the range 1 values for the same images', async () => {
      const raw = (range: 1 | 255) =>
        resolvePreset({ ...PRESETS.raw, size: 32, layout: 'NHWC', range });
      const unit = await loadBatch(samplesOf(files), raw(1));
      const bytes = await loadBatch(samplesOf(files), raw(255));
      expect(bytes.dims).to.deep.equal([3, 32, 32, 3]);
      expectClose(
        Array.from(unit.data, (v) => v * 255),
        bytes.data,
        1e-4,
        'raw',
      );
      expect(Math.max(...bytes.data))
        .to.be.above(200)
        .and.at.most(255);
      expect(Math.max(...unit.data)).to.be.at.most(1);
    });
  });
});
