/**
 * Image preprocessing in Node: sharp decodes (on libuv's thread pool, so several images decode
 * at once); ortlab resamples exactly as Pillow does, crops and normalizes into a batch buffer.
 */
import { readFileSync } from 'node:fs';

import sharp from 'sharp';

import type { ImageSource } from '../datasets/types.js';
import { resizePlan } from './geometry.js';
import { resampleNormalizeInto } from './normalize.js';
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
  if (source.kind === 'file') {
    const bytes = readImageFile(source.path);
    return preprocessFileBytes(source.path, bytes, preset, out, offset, options);
  }
  const maxPixels = options.maxPixels ?? DEFAULT_MAX_PIXELS;
  if (source.width * source.height > maxPixels) {
    const name = `pixels ${source.width}x${source.height}`;
    throw tooLarge(name, source.width, source.height, maxPixels);
  }
  writePixels(source, preset, out, offset);
}

/**
 * Reads an image file in one synchronous call: libvips opening the file itself costs about
 * 0.2 ms more CPU per image, a quarter of decoding a 224x224 JPEG, and preprocessing runs on
 * worker threads (or between runs) whose event loops have nothing else to do.
 * @throws ImageDecodeError naming the file when it cannot be read.
 */
export function readImageFile(file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'a folder' : code;
    throw new ImageDecodeError(file, `cannot read the file (${reason ?? String(error)})`);
  }
}

/**
 * `preprocessInto` for a file already read: `bytes` are the contents of `file` (named in
 * errors).
 * @throws ImageDecodeError naming the file for an empty, truncated, non-image or oversized file.
 */
export async function preprocessFileBytes(
  file: string,
  bytes: Buffer,
  preset: ResolvedPreset,
  out: Float32Array,
  offset: number,
  options: DecodeOptions = {},
): Promise<void> {
  const maxPixels = options.maxPixels ?? DEFAULT_MAX_PIXELS;
  writePixels(await decode(bytes, file, maxPixels), preset, out, offset);
}

/** Resizes, crops and normalizes decoded pixels into `out` at `offset`. */
function writePixels(
  pixels: { data: Uint8Array; width: number; height: number; channels: number },
  preset: ResolvedPreset,
  out: Float32Array,
  offset: number,
): void {
  const plan = resizePlan(pixels.width, pixels.height, preset);
  resampleNormalizeInto(
    pixels.data,
    pixels.width,
    pixels.height,
    pixels.channels,
    {
      ...plan,
      interpolation: preset.interpolation,
    },
    preset,
    out,
    offset,
  );
}

/** A file's bytes as interleaved 8-bit pixels, alpha dropped, as Pillow's `convert('RGB')`. */
async function decode(
  bytes: Buffer,
  name: string,
  maxPixels: number,
): Promise<{ data: Uint8Array; width: number; height: number; channels: number }> {
  try {
    // sharp checks the size from the header before it decodes; one call, not a metadata call
    // and then a decode.
    const { data, info } = await sharp(bytes, { limitInputPixels: maxPixels, failOn: 'error' })
      .removeAlpha()
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
    return { data, width: info.width, height: info.height, channels: info.channels };
  } catch (error) {
    if (/pixel limit/i.test(error instanceof Error ? error.message : '')) {
      const meta = await sharp(bytes, { limitInputPixels: false })
        .metadata()
        .catch(() => undefined);
      if (meta?.width !== undefined && meta.height !== undefined) {
        throw tooLarge(name, meta.width, meta.height, maxPixels);
      }
    }
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
