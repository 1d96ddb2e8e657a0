import { expect } from 'chai';
import { readFile } from 'node:fs/promises';

import { normalizeInto, resampleNormalizeInto } from '../../../src/runtime/preprocess/normalize.js';
import { resampleCrop } from '../../../src/runtime/preprocess/resample.js';
import { resolvePreset } from '../../../src/index.js';
import type { Interpolation, ResolvedPreset } from '../../../src/index.js';

interface Fixture {
  source: Record<string, { width: number; height: number; channels: number; pixels: string }>;
  cases: { mode: string; filter: Interpolation; width: number; height: number; pixels: string }[];
}

const bytes = (b64: string): Uint8Array => new Uint8Array(Buffer.from(b64, 'base64'));

/** Pillow's Image.resize outputs, stored by tools/fixtures/resample_reference.py. */
describe('resampleCrop against Pillow', () => {
  let fixture: Fixture;
  before(async () => {
    fixture = JSON.parse(
      await readFile('test/fixtures/resample-reference.json', 'utf8'),
    ) as Fixture;
  });

  it('reproduces every filter and size byte for byte, RGB and grey', () => {
    expect(fixture.cases).to.have.length(32);
    for (const c of fixture.cases) {
      const src = fixture.source[c.mode];
      const out = resampleCrop(bytes(src.pixels), src.width, src.height, src.channels, {
        resizeWidth: c.width,
        resizeHeight: c.height,
        left: 0,
        top: 0,
        width: c.width,
        height: c.height,
        interpolation: c.filter,
      });
      const expected = bytes(c.pixels);
      const at = out.findIndex((v, i) => v !== expected[i]);
      expect(at, `${c.mode} ${c.filter} ${c.width}x${c.height}: first differing byte`).to.equal(-1);
    }
  });

  it('gives the same pixels for a crop as resizing everything and cropping after', () => {
    const src = fixture.source.rgb;
    for (const interpolation of ['bilinear', 'bicubic', 'lanczos', 'nearest'] as const) {
      const whole = resampleCrop(bytes(src.pixels), src.width, src.height, 3, {
        resizeWidth: 61,
        resizeHeight: 47,
        left: 0,
        top: 0,
        width: 61,
        height: 47,
        interpolation,
      });
      const crop = resampleCrop(bytes(src.pixels), src.width, src.height, 3, {
        resizeWidth: 61,
        resizeHeight: 47,
        left: 7,
        top: 5,
        width: 40,
        height: 30,
        interpolation,
      });
      for (let y = 0; y < 30; y++) {
        const row = whole.subarray(((y + 5) * 61 + 7) * 3, ((y + 5) * 61 + 47) * 3);
        expect(
          Array.from(crop.subarray(y * 120, (y + 1) * 120)),
          `${interpolation} row ${y}`,
        ).to.deep.equal(Array.from(row));
      }
    }
  });

  it('resamples and normalizes in one sweep to the same floats as Pillow bytes normalized', () => {
    const rgb = (layout: 'NCHW' | 'NHWC', range: 1 | 255): ResolvedPreset => ({
      ...resolvePreset('imagenet'),
      layout,
      range,
    });
    const gray: ResolvedPreset = { ...resolvePreset('mnist'), layout: 'NCHW' };
    let checked = 0;
    for (const c of fixture.cases) {
      const src = fixture.source[c.mode];
      const presets = src.channels === 1 ? [gray] : [rgb('NCHW', 1), rgb('NHWC', 255)];
      for (const preset of presets) {
        const size = { ...preset, height: c.height, width: c.width };
        const volume = (preset.channels === 'gray' ? 1 : 3) * c.width * c.height;
        const expected = new Float32Array(volume + 5).fill(7);
        normalizeInto(bytes(c.pixels), c.width, c.height, src.channels, size, expected, 5);
        const out = new Float32Array(volume + 5).fill(7);
        resampleNormalizeInto(
          bytes(src.pixels),
          src.width,
          src.height,
          src.channels,
          {
            resizeWidth: c.width,
            resizeHeight: c.height,
            left: 0,
            top: 0,
            width: c.width,
            height: c.height,
            interpolation: c.filter,
          },
          size,
          out,
          5,
        );
        const at = out.findIndex((v, i) => !Object.is(v, expected[i]));
        expect(at, `${c.mode} ${c.filter} ${c.width}x${c.height} ${preset.layout}`).to.equal(-1);
        checked++;
      }
    }
    expect(checked).to.equal(48);
  });

  it('one sweep equals resampleCrop then normalizeInto: crops, RGBA, kept sides, gray', () => {
    const src = fixture.source.rgb;
    const rgbPixels = bytes(src.pixels);
    const rgba = new Uint8Array(src.width * src.height * 4);
    for (let i = 0; i < src.width * src.height; i++) {
      rgba.set(rgbPixels.subarray(i * 3, i * 3 + 3), i * 4);
      rgba[i * 4 + 3] = (i * 37) % 256;
    }
    const images = [
      { pixels: rgbPixels, channels: 3 },
      { pixels: rgba, channels: 4 },
    ];
    const sizes = [
      [61, 47, 7, 5, 40, 30],
      [src.width, 47, 3, 5, 20, 30],
      [61, src.height, 7, 2, 40, 10],
      [src.width, src.height, 1, 2, 12, 9],
    ];
    const presets: ResolvedPreset[] = [
      { ...resolvePreset('imagenet'), layout: 'NCHW' },
      { ...resolvePreset('imagenet'), layout: 'NHWC', range: 255 },
      // Gray from colour takes the luma of the resampled pixels: the two-step path.
      { ...resolvePreset('mnist'), layout: 'NCHW' },
    ];
    let checked = 0;
    for (const interpolation of ['bilinear', 'bicubic', 'lanczos', 'nearest'] as const) {
      for (const [resizeWidth, resizeHeight, left, top, width, height] of sizes) {
        for (const { pixels, channels } of images) {
          for (const base of presets) {
            const preset = { ...base, width, height };
            const request = { resizeWidth, resizeHeight, left, top, width, height, interpolation };
            const volume = (preset.channels === 'gray' ? 1 : 3) * width * height;
            const expected = new Float32Array(volume);
            const cropped = resampleCrop(pixels, src.width, src.height, channels, request);
            normalizeInto(cropped, width, height, channels, preset, expected, 0);
            const out = new Float32Array(volume);
            resampleNormalizeInto(pixels, src.width, src.height, channels, request, preset, out, 0);
            const size = `${resizeWidth}x${resizeHeight}`;
            const label = `${interpolation} ${size} c${channels} ${preset.name} ${preset.layout}`;
            expect(Array.from(out), label).to.deep.equal(Array.from(expected));
            checked++;
          }
        }
      }
    }
    expect(checked).to.equal(96);
  });
});
