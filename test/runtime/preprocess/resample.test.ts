import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

import { normalizeInto, resampleNormalizeInto } from '../../../src/runtime/preprocess/normalize.js';
import {
  resampleCrop,
  resampleCropInto,
  type ResampleRequest,
} from '../../../src/runtime/preprocess/resample.js';
import {
  activeResampler,
  useResampler,
  wasmMemoryBytes,
  type ResamplerKind,
} from '../../../src/runtime/preprocess/resample-wasm.js';
import { resolvePreset } from '../../../src/index.js';
import type { Interpolation, ResolvedPreset } from '../../../src/index.js';

interface Fixture {
  source: Record<string, { width: number; height: number; channels: number; pixels: string }>;
  cases: { mode: string; filter: Interpolation; width: number; height: number; pixels: string }[];
}

const bytes = (b64: string): Uint8Array => new Uint8Array(Buffer.from(b64, 'base64'));

/** A fixture case's resize, uncropped. */
const whole = (c: Fixture['cases'][number]): ResampleRequest => ({
  resizeWidth: c.width,
  resizeHeight: c.height,
  left: 0,
  top: 0,
  width: c.width,
  height: c.height,
  interpolation: c.filter,
});

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
      const out = resampleCrop(bytes(src.pixels), src.width, src.height, src.channels, whole(c));
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

  for (const kind of ['wasm', 'js'] as const) {
    describe(`the ${kind} passes`, () => {
      let previous: ResamplerKind;
      before(() => {
        previous = useResampler(kind);
      });
      after(() => {
        useResampler(previous);
      });

      it(`${kind}: one sweep gives the same floats as Pillow bytes normalized`, () => {
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
              whole(c),
              size,
              out,
              5,
            );
            const at = out.findIndex((v, i) => !Object.is(v, expected[i]));
            expect(at, `${c.mode} ${c.filter} ${c.width}x${c.height} ${preset.layout}`).to.equal(
              -1,
            );
            checked++;
          }
        }
        expect(checked).to.equal(48);
      });

      it(`${kind}: one sweep equals resampleCrop then normalizeInto: crops, RGBA, sides`, () => {
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
                const request = {
                  resizeWidth,
                  resizeHeight,
                  left,
                  top,
                  width,
                  height,
                  interpolation,
                };
                const volume = (preset.channels === 'gray' ? 1 : 3) * width * height;
                const expected = new Float32Array(volume);
                const cropped = resampleCrop(pixels, src.width, src.height, channels, request);
                normalizeInto(cropped, width, height, channels, preset, expected, 0);
                const out = new Float32Array(volume);
                resampleNormalizeInto(
                  pixels,
                  src.width,
                  src.height,
                  channels,
                  request,
                  preset,
                  out,
                  0,
                );
                const size = `${resizeWidth}x${resizeHeight}`;
                const label =
                  `${interpolation} ${size} c${channels} ` + `${preset.name} ${preset.layout}`;
                expect(Array.from(out), label).to.deep.equal(Array.from(expected));
                checked++;
              }
            }
          }
        }
        expect(checked).to.equal(96);
      });
    });
  }
});

describe('the WebAssembly resampler', () => {
  afterEach(() => {
    useResampler('wasm');
  });

  it('runs in Node by default, and useResampler switches to the JavaScript loops', () => {
    expect(activeResampler()).to.equal('wasm');
    expect(useResampler('js')).to.equal('wasm');
    expect(activeResampler()).to.equal('js');
  });

  it('writes the same floats as the JavaScript loops on 300 random images and crops', () => {
    // A seeded generator, so that a failure names a case that can be replayed.
    let state = 20261204;
    const random = (): number => {
      state = (Math.imul(state, 1103515245) + 12345) >>> 0;
      return state / 2 ** 32;
    };
    const int = (lo: number, hi: number): number => lo + Math.floor(random() * (hi - lo + 1));
    const filters = ['bilinear', 'bicubic', 'lanczos'] as const;
    let resized = 0;
    for (let n = 0; n < 300; n++) {
      const inWidth = int(1, 120);
      const inHeight = int(1, 120);
      const channels = int(1, 4);
      // Down by up to 10x (wide filters), up by up to 3x, or unchanged on one axis.
      const size = (side: number): number =>
        random() < 0.15 ? side : Math.max(1, Math.round(side * (0.1 + random() * 2.9)));
      const resizeWidth = size(inWidth);
      const resizeHeight = size(inHeight);
      const width = int(1, resizeWidth);
      const height = int(1, resizeHeight);
      const request = {
        resizeWidth,
        resizeHeight,
        left: int(0, resizeWidth - width),
        top: int(0, resizeHeight - height),
        width,
        height,
        interpolation: filters[n % 3],
      };
      const pixels = new Uint8Array(inWidth * inHeight * channels);
      // Runs of extremes as well as noise, so that clamping to 0 and 255 is exercised.
      for (let i = 0; i < pixels.length; i++) {
        pixels[i] = random() < 0.3 ? (random() < 0.5 ? 0 : 255) : int(0, 255);
      }
      const keep = channels >= 3 ? int(3, channels) : 1;
      const table = new Float32Array(keep * 256).map(() => random() * 8 - 4);
      const planes = random() < 0.5;
      const outputs = (['js', 'wasm'] as const).map((kind) => {
        useResampler(kind);
        const out = new Float32Array(keep * width * height + 9).fill(-99);
        resampleCropInto(pixels, inWidth, inHeight, channels, request, table, keep, planes, out, 9);
        return out;
      });
      const at = outputs[1].findIndex((v, i) => !Object.is(v, outputs[0][i]));
      const label =
        `case ${n}: ${inWidth}x${inHeight}x${channels} to ${resizeWidth}x${resizeHeight}, ` +
        `crop ${width}x${height} at ${request.left},${request.top}, ${request.interpolation}, ` +
        `keep ${keep}, ${planes ? 'planes' : 'interleaved'}`;
      expect(at, `${label}: first differing float`).to.equal(-1);
      expect(outputs[1][8], `${label}: wrote before its offset`).to.equal(-99);
      if (resizeWidth !== inWidth || resizeHeight !== inHeight) resized++;
    }
    expect(resized).to.be.greaterThan(250);
  });

  it('lets go of the memory a large image needed, and goes on with a fresh instance', () => {
    const request = {
      resizeWidth: 256,
      resizeHeight: 256,
      left: 16,
      top: 16,
      width: 224,
      height: 224,
      interpolation: 'bilinear' as const,
    };
    const table = new Float32Array(3 * 256).map((_, i) => i % 256);
    const run = (side: number): Float32Array => {
      const pixels = new Uint8Array(side * side * 3).map((_, i) => (i * 7) % 251);
      const out = new Float32Array(3 * 224 * 224);
      resampleCropInto(pixels, side, side, 3, request, table, 3, true, out, 0);
      return out;
    };
    run(300);
    expect(wasmMemoryBytes()).to.be.within(1, 16 << 20);
    run(5000); // 75 MB of pixels: over what an instance keeps
    expect(wasmMemoryBytes(), 'memory held after the large image').to.equal(0);
    const again = run(300);
    expect(wasmMemoryBytes(), 'a fresh instance').to.be.within(1, 16 << 20);
    useResampler('js');
    expect(Array.from(run(300))).to.deep.equal(Array.from(again));
  });

  it('is the module tools/wasm/build.sh builds (where clang is installed)', function () {
    const tools = ['clang', 'wasm-ld'].map((tool) => spawnSync(tool, ['--version']).status);
    if (tools.some((status) => status !== 0)) {
      this.skip(); // CI has no C compiler; the committed module is what it tests above.
    }
    const committed = readFileSync('src/runtime/preprocess/resample-wasm-bytes.ts', 'utf8');
    const scratch = mkdtempSync(path.join(os.tmpdir(), 'ortlab-wasm-'));
    try {
      const built = spawnSync('tools/wasm/build.sh', [scratch], { encoding: 'utf8' });
      expect(built.status, built.stderr).to.equal(0);
      const rebuilt = readFileSync(path.join(scratch, 'resample-wasm-bytes.ts'), 'utf8');
      expect(rebuilt).to.equal(committed);
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  });
});
