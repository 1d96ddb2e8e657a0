/**
 * Image preprocessing in the browser: the browser decodes, ortlab resamples with the same
 * Pillow-exact code as in Node, so both give the same tensor for the same pixels.
 */
import type { ImageSource } from '../datasets/types.js';
import { resizePlan } from './geometry.js';
import { normalizeInto } from './normalize.js';
import type { ResolvedPreset } from './presets.js';
import { resampleCrop } from './resample.js';

/** Pillow's default limit, as in Node. */
const DEFAULT_MAX_PIXELS = 89_478_485;

/**
 * An image source over `ImageData` (from a canvas): its RGBA pixels, used without a copy.
 * @example
 * ```ts
 * const source = imageDataSource(context.getImageData(0, 0, width, height));
 * ```
 */
export function imageDataSource(image: ImageData): ImageSource {
  const { data, width, height } = image;
  return {
    kind: 'pixels',
    data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
    width,
    height,
    channels: 4,
  };
}

/** Decodes an image at a URL (or a Blob's object URL) into RGBA pixels at its natural size. */
async function decodeUrl(url: string, maxPixels: number): Promise<ImageSource> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  const bitmap = await createImageBitmap(await response.blob()).catch(() => {
    throw new Error(`${url}: not an image the browser can decode`);
  });
  if (bitmap.width * bitmap.height > maxPixels) {
    throw new Error(
      `${url}: image is ${bitmap.width}x${bitmap.height}, over the limit of ${maxPixels} pixels`,
    );
  }
  const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
  const context = canvas.getContext('2d');
  if (!context) throw new Error('no 2d canvas context is available in this browser');
  context.drawImage(bitmap, 0, 0);
  bitmap.close();
  return imageDataSource(context.getImageData(0, 0, canvas.width, canvas.height));
}

/**
 * Decodes (for a URL), resamples, crops and normalizes one image into `out` at `offset`.
 * Alpha is dropped, as Pillow's `convert('RGB')` does.
 */
export async function preprocessInto(
  source: ImageSource,
  preset: ResolvedPreset,
  out: Float32Array,
  offset: number,
  options: { maxPixels?: number } = {},
): Promise<void> {
  const maxPixels = options.maxPixels ?? DEFAULT_MAX_PIXELS;
  const image = source.kind === 'file' ? await decodeUrl(source.path, maxPixels) : source;
  if (image.kind !== 'pixels') throw new Error('decoded image has no pixels');
  if (image.width * image.height > maxPixels) {
    throw new Error(
      `image is ${image.width}x${image.height}, over the limit of ${maxPixels} pixels`,
    );
  }
  const plan = resizePlan(image.width, image.height, preset);
  const cropped = resampleCrop(image.data, image.width, image.height, image.channels, {
    ...plan,
    interpolation: preset.interpolation,
  });
  normalizeInto(cropped, plan.width, plan.height, image.channels, preset, out, offset);
}
