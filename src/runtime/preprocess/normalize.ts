/**
 * The last step of preprocessing, shared by Node and the browser: 8-bit pixels to a normalized
 * float tensor in the preset's layout, written in place into a batch buffer.
 */
import type { ResolvedPreset } from './presets.js';
import { resampleCrop, resampleCropInto, type ResampleRequest } from './resample.js';

/**
 * Writes `pixels` (`[height, width, channels]`, 1 to 4 channels, 8-bit) into `out` at `offset`
 * as `(value / scale - mean) / std` per channel, in the preset's layout. RGB to gray uses the
 * ITU-R 601-2 luma weights as PIL's `convert('L')` does; gray to RGB repeats the channel; alpha
 * is dropped.
 */
export function normalizeInto(
  pixels: Uint8Array,
  width: number,
  height: number,
  channels: number,
  preset: ResolvedPreset,
  out: Float32Array,
  offset: number,
): void {
  const n = preset.channels === 'gray' ? 1 : 3;
  const area = width * height;
  const table = valueTable(preset);
  const nchw = preset.layout === 'NCHW';
  const colour = channels >= 3;
  for (let c = 0; c < n; c++) {
    const lut = c * 256;
    for (let i = 0; i < area; i++) {
      const p = i * channels;
      let v: number;
      if (n === 1 && colour) {
        v = (pixels[p] * 19595 + pixels[p + 1] * 38470 + pixels[p + 2] * 7471 + 0x8000) >> 16;
      } else {
        v = pixels[p + (colour ? c : 0)];
      }
      out[offset + (nchw ? c * area + i : i * n + c)] = table[lut + v];
    }
  }
}

const tables = new WeakMap<ResolvedPreset, Float32Array>();

/**
 * Each channel's 256 possible values as `(v / scale - mean) / std` in float32, made once per
 * preset object (a worker receives one per batch).
 */
function valueTable(preset: ResolvedPreset): Float32Array {
  const made = tables.get(preset);
  if (made !== undefined) return made;
  const n = preset.channels === 'gray' ? 1 : 3;
  const scale = preset.range === 1 ? 1 / 255 : 1;
  const table = new Float32Array(n * 256);
  for (let c = 0; c < n; c++) {
    const a = scale / preset.std[c];
    const b = -preset.mean[c] / preset.std[c];
    for (let v = 0; v < 256; v++) table[c * 256 + v] = v * a + b;
  }
  tables.set(preset, table);
  return table;
}

/**
 * Resizes and crops 8-bit pixels as `plan` says (Pillow's arithmetic, see `resampleCrop`) and
 * writes them normalized into `out` at `offset`: the same floats as `resampleCrop` then
 * `normalizeInto`, in one sweep when every output channel is one source channel (RGB from
 * RGB or RGBA, gray from gray), which saves the intermediate image and a pass over it.
 */
export function resampleNormalizeInto(
  pixels: Uint8Array,
  width: number,
  height: number,
  channels: number,
  plan: ResampleRequest,
  preset: ResolvedPreset,
  out: Float32Array,
  offset: number,
): void {
  const n = preset.channels === 'gray' ? 1 : 3;
  if ((n === 3 && channels >= 3) || (n === 1 && channels <= 2)) {
    const planes = preset.layout === 'NCHW';
    const table = valueTable(preset);
    resampleCropInto(pixels, width, height, channels, plan, table, n, planes, out, offset);
    return;
  }
  const cropped = resampleCrop(pixels, width, height, channels, plan);
  normalizeInto(cropped, plan.width, plan.height, channels, preset, out, offset);
}
