/**
 * Image preprocessing in the browser: the browser decodes (URLs, Blobs and Files, `<img>`,
 * bitmaps, canvases, ImageData), ortlab resamples with the same Pillow-exact code as in Node, so
 * both give the same tensor for the same pixels.
 */
import type { ImageSource } from '../datasets/types.js';
import { resizePlan } from './geometry.js';
import { resampleNormalizeInto } from './normalize.js';
import type { ResolvedPreset } from './presets.js';

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

/** Browser images ortlab accepts besides URLs. */
export type BrowserImage =
  ImageData | ImageBitmap | HTMLImageElement | HTMLCanvasElement | OffscreenCanvas | Blob;

function checkSize(width: number, height: number, name: string, maxPixels: number): void {
  if (width * height > maxPixels) {
    throw new Error(`${name}: image is ${width}x${height}, over the limit of ${maxPixels} pixels`);
  }
  if (width === 0 || height === 0) throw new Error(`${name}: image is ${width}x${height}`);
}

/** The RGBA pixels of a drawable image at its natural size, through a 2d canvas. */
function drawPixels(
  image: ImageBitmap | HTMLImageElement | HTMLCanvasElement | OffscreenCanvas,
  width: number,
  height: number,
): ImageSource {
  const canvas = new OffscreenCanvas(width, height);
  const context = canvas.getContext('2d');
  if (!context) throw new Error('no 2d canvas context is available in this browser');
  context.drawImage(image, 0, 0);
  return imageDataSource(context.getImageData(0, 0, width, height));
}

/** What a Blob is called in messages: its file name when it is a File, else its type. */
function blobName(blob: Blob): string {
  const name = (blob as Partial<File>).name;
  return typeof name === 'string' && name ? `'${name}'` : `a ${blob.type || 'untyped'} blob`;
}

/**
 * Decodes a Blob (a dropped or picked File, a fetched response's body). The pixels are the
 * file's own: no colour-space conversion, so they match what sharp decodes in Node.
 */
async function decodeBlob(blob: Blob, name: string, maxPixels: number): Promise<ImageSource> {
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(blob, {
      colorSpaceConversion: 'none',
      premultiplyAlpha: 'none',
    });
  } catch {
    const type = blob.type ? `type ${blob.type}` : 'no type';
    throw new Error(
      `${name} (${type}, ${blob.size} bytes) is not an image this browser can decode; ` +
        'use a PNG, JPEG, GIF, WebP or BMP file',
    );
  }
  try {
    checkSize(bitmap.width, bitmap.height, name, maxPixels);
    return drawPixels(bitmap, bitmap.width, bitmap.height);
  } finally {
    bitmap.close();
  }
}

/**
 * Turns a browser image into an image source that `preprocessInto` and `loadBatch` take: the
 * RGBA pixels at the image's natural size. A Blob (or File) is decoded first; an `<img>` must
 * have loaded.
 *
 * @throws TypeError for anything else; Error naming the file when a Blob is not an image the
 *   browser decodes, when an `<img>` did not load, or when the image is over `maxPixels`.
 * @example
 * ```ts
 * const source = await imageSource(fileInput.files[0]);
 * await preprocessInto(source, resolvePreset('mnist'), out, 0);
 * ```
 */
export async function imageSource(
  image: BrowserImage,
  options: { maxPixels?: number } = {},
): Promise<ImageSource> {
  const maxPixels = options.maxPixels ?? DEFAULT_MAX_PIXELS;
  if (typeof ImageData !== 'undefined' && image instanceof ImageData) {
    checkSize(image.width, image.height, 'ImageData', maxPixels);
    return imageDataSource(image);
  }
  if (typeof Blob !== 'undefined' && image instanceof Blob) {
    return decodeBlob(image, blobName(image), maxPixels);
  }
  if (typeof HTMLImageElement !== 'undefined' && image instanceof HTMLImageElement) {
    const name = `<img src="${image.currentSrc || image.src}">`;
    try {
      await image.decode();
    } catch {
      throw new Error(`${name} did not load or is not an image the browser can decode`);
    }
    checkSize(image.naturalWidth, image.naturalHeight, name, maxPixels);
    return drawPixels(image, image.naturalWidth, image.naturalHeight);
  }
  const drawable =
    (typeof ImageBitmap !== 'undefined' && image instanceof ImageBitmap) ||
    (typeof HTMLCanvasElement !== 'undefined' && image instanceof HTMLCanvasElement) ||
    (typeof OffscreenCanvas !== 'undefined' && image instanceof OffscreenCanvas);
  if (!drawable) {
    throw new TypeError(
      'imageSource takes ImageData, an ImageBitmap, an <img>, a canvas or a Blob; received ' +
        (image === null ? 'null' : typeof image),
    );
  }
  const drawn = image;
  checkSize(drawn.width, drawn.height, drawn.constructor.name, maxPixels);
  return drawPixels(drawn, drawn.width, drawn.height);
}

/** Decodes an image at a URL (or a Blob's object URL) into RGBA pixels at its natural size. */
async function decodeUrl(url: string, maxPixels: number): Promise<ImageSource> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return decodeBlob(await response.blob(), url, maxPixels);
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
  resampleNormalizeInto(
    image.data,
    image.width,
    image.height,
    image.channels,
    {
      ...plan,
      interpolation: preset.interpolation,
    },
    preset,
    out,
    offset,
  );
}
