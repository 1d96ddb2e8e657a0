/**
 * The last step of preprocessing, shared by Node and the browser: 8-bit pixels to a normalized
 * float tensor in the preset's layout, written in place into a batch buffer.
 */
import type { ResolvedPreset } from './presets.js';

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
  const scale = preset.range === 1 ? 1 / 255 : 1;
  const nchw = preset.layout === 'NCHW';
  const colour = channels >= 3;
  for (let c = 0; c < n; c++) {
    const a = scale / preset.std[c];
    const b = -preset.mean[c] / preset.std[c];
    for (let i = 0; i < area; i++) {
      const p = i * channels;
      let v: number;
      if (n === 1 && colour) {
        v = (pixels[p] * 19595 + pixels[p + 1] * 38470 + pixels[p + 2] * 7471 + 0x8000) >> 16;
      } else {
        v = pixels[p + (colour ? c : 0)];
      }
      out[offset + (nchw ? c * area + i : i * n + c)] = v * a + b;
    }
  }
}
