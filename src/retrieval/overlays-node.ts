/**
 * The report's attention pictures (Node): each head's grid attention laid over the image it
 * looks at, as PNG data: URIs drawn through sharp.
 */
import sharp from 'sharp';

import { overlayPng } from '../eval/attribution/run-node.js';
import { loadBatch } from '../runtime/preprocess/batch.js';
import { resolvePreset } from '../runtime/preprocess/presets.js';
import type { ImageAttention } from './run-node.js';

/** An example image and one overlay per head, as data: URIs. */
export interface ImageOverlay {
  example: ImageAttention;
  image: string;
  heads: string[];
}

/** One head's grid map at the image's size (each cell a block), scaled to [0, 1] by its peak. */
export function upsampleGrid(
  map: Float32Array,
  grid: readonly [number, number],
  height: number,
  width: number,
): Float32Array {
  const [rows, columns] = grid;
  let peak = 0;
  for (const v of map) peak = Math.max(peak, v);
  const out = new Float32Array(height * width);
  for (let y = 0; y < height; y++) {
    const row = Math.min(rows - 1, Math.floor((y * rows) / height));
    for (let x = 0; x < width; x++) {
      const column = Math.min(columns - 1, Math.floor((x * columns) / width));
      out[y * width + x] = peak > 0 ? map[row * columns + column] / peak : 0;
    }
  }
  return out;
}

async function plainPng(image: Float32Array, height: number, width: number, scale: number) {
  const rgb = new Uint8Array(height * width * 3);
  for (let i = 0; i < height * width; i++) {
    for (let c = 0; c < 3; c++) {
      rgb[i * 3 + c] = Math.round(Math.max(0, Math.min(1, image[c * height * width + i])) * 255);
    }
  }
  const png = await sharp(rgb, { raw: { width, height, channels: 3 } })
    .resize(width * scale, height * scale, { kernel: 'nearest' })
    .png()
    .toBuffer();
  return `data:image/png;base64,${png.toString('base64')}`;
}

/**
 * Draws each example: the image as the encoder sees it (before normalization) and every head's
 * attention over it, about 128 pixels a side.
 * @example
 * ```ts
 * const overlays = await attentionOverlays(run.images);
 * overlays[0].heads.length; // 4 for an r = 4 encoder
 * ```
 */
export async function attentionOverlays(
  examples: readonly ImageAttention[],
): Promise<ImageOverlay[]> {
  const out: ImageOverlay[] = [];
  for (const example of examples) {
    const [height, width] = example.size;
    const preset = resolvePreset({ name: 'pixels', size: [height, width], channels: 'rgb' });
    const sample = {
      index: 0,
      id: example.file,
      label: 0,
      source: { kind: 'file' as const, path: example.file },
    };
    const batch = await loadBatch([sample], preset);
    if (batch.skipped.length > 0) {
      throw new Error(`cannot draw '${example.file}': ${batch.skipped[0].reason}`);
    }
    const scale = Math.max(1, Math.round(128 / Math.max(height, width)));
    const heads: string[] = [];
    for (let h = 0; h < example.heads; h++) {
      const positions = example.grid[0] * example.grid[1];
      const map = example.maps.subarray(h * positions, (h + 1) * positions);
      const full = upsampleGrid(map, example.grid, height, width);
      heads.push(await overlayPng(batch.data, full, height, width, scale));
    }
    out.push({ example, image: await plainPng(batch.data, height, width, scale), heads });
  }
  return out;
}
