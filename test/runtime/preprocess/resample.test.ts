import { expect } from 'chai';
import { readFile } from 'node:fs/promises';

import { resampleCrop } from '../../../src/runtime/preprocess/resample.js';
import type { Interpolation } from '../../../src/index.js';

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
});
