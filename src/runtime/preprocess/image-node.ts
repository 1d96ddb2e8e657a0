/**
 * Image preprocessing in Node: sharp decodes and resizes (on libuv's thread pool, so several
 * images decode at once), ortlab crops and normalizes into a batch buffer.
 */
import sharp, { type Sharp } from 'sharp';

import type { ImageSource } from '../datasets/types.js';
import { resizePlan } from './geometry.js';
import { normalizeInto } from './normalize.js';
import type { ResolvedPreset } from './presets.js';

/** Options of image decoding. */
export interface DecodeOptions {
  /**
   * Largest image accepted, in pixels (width times height), checked from the header before the
   * image is decoded: a guard against decompression bombs. Default 89,478,485, PIL's limit.
   */
  maxPixels?: number;
}

export const DEFAULT_MAX_PIXELS = 89_478_485;

const KERNELS = Object.freeze({
  nearest: 'nearest',
  bilinear: 'linear',
  bicubic: 'cubic',
  lanczos: 'lanczos3',
} as const);

/** An image that could not be used, with the reason. */
export class ImageDecodeError extends Error {
  constructor(
    readonly source: string,
    reason: string,
  ) {
    super(`${source}: ${reason}`);
    this.name = 'ImageDecodeError';
  }
}

function nameOf(source: ImageSource): string {
  return source.kind === 'file' ? source.path : `pixels ${source.width}x${source.height}`;
}

function open(source: ImageSource, maxPixels: number): Sharp {
  if (source.kind === 'file') {
    return sharp(source.path, { limitInputPixels: maxPixels, failOn: 'error' });
  }
  const { data, width, height, channels } = source;
  return sharp(data, { raw: { width, height, channels }, limitInputPixels: maxPixels });
}

/**
 * Decodes, resizes, crops and normalizes one image into `out` at `offset` (the preset's
 * `channels * height * width` floats).
 * @throws ImageDecodeError naming the file for an empty, truncated, non-image or oversized file.
 */
export async function preprocessInto(
  source: ImageSource,
  preset: ResolvedPreset,
  out: Float32Array,
  offset: number,
  options: DecodeOptions = {},
): Promise<void> {
  const maxPixels = options.maxPixels ?? DEFAULT_MAX_PIXELS;
  const name = nameOf(source);
  let width: number;
  let height: number;
  if (source.kind === 'pixels') {
    ({ width, height } = source);
    if (width * height > maxPixels) throw tooLarge(name, width, height, maxPixels);
  } else {
    const meta = await sharp(source.path, { limitInputPixels: false })
      .metadata()
      .catch((error: unknown) => {
        throw new ImageDecodeError(name, describeSharpError(error));
      });
    width = meta.width ?? 0;
    height = meta.height ?? 0;
    if (width * height > maxPixels) throw tooLarge(name, width, height, maxPixels);
  }

  const plan = resizePlan(width, height, preset);
  const unchanged =
    plan.resizeWidth === width &&
    plan.resizeHeight === height &&
    plan.width === width &&
    plan.height === height;
  if (unchanged && source.kind === 'pixels') {
    normalizeInto(source.data, width, height, source.channels, preset, out, offset);
    return;
  }

  let pipeline = open(source, maxPixels);
  if (plan.resizeWidth !== width || plan.resizeHeight !== height) {
    pipeline = pipeline.resize(plan.resizeWidth, plan.resizeHeight, {
      kernel: KERNELS[preset.interpolation],
      fit: 'fill',
    });
  }
  pipeline = pipeline
    .extract({ left: plan.left, top: plan.top, width: plan.width, height: plan.height })
    .removeAlpha();
  try {
    const { data, info } = await pipeline
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
    normalizeInto(data, info.width, info.height, info.channels, preset, out, offset);
  } catch (error) {
    throw new ImageDecodeError(name, describeSharpError(error));
  }
}

function tooLarge(
  name: string,
  width: number,
  height: number,
  maxPixels: number,
): ImageDecodeError {
  return new ImageDecodeError(
    name,
    `image is ${width}x${height} = ${width * height} pixels, over the limit of ${maxPixels} ` +
      '(a guard against decompression bombs); raise maxPixels (--max-pixels) if it is genuine',
  );
}

function describeSharpError(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  if (/unsupported image format/i.test(text)) return 'not an image file sharp can decode';
  if (/empty|zero/i.test(text)) return `empty or zero-length file (${text})`;
  if (/premature|truncat|end of file|Invalid SOS|corrupt/i.test(text)) {
    return `truncated or corrupt image (${text})`;
  }
  return text.split('\n')[0];
}
