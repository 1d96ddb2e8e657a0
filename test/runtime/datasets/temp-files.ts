/**
 * Small files written to a fresh temporary folder for the dataset tests: IDX pairs (plain or
 * gzipped), folders of placeholder images, text files.
 */

import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';

import { encodeIdx } from '../../../src/runtime/datasets/idx.js';

/** A temporary folder and a way to remove it. */
export interface TempFolder {
  path: string;
  remove(): Promise<void>;
}

/** Creates an empty folder under the system's temporary folder. */
export async function makeTempFolder(prefix: string): Promise<TempFolder> {
  const path = await mkdtemp(join(tmpdir(), `ortlab-${prefix}-`));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}

/** Writes `bytes` to `path`, creating its folders; gzipped when `gzip` is set. */
export async function writeBytes(path: string, bytes: Uint8Array, gzip = false): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, gzip ? gzipSync(bytes) : bytes);
}

/** Writes each relative path under `root` as a small placeholder file. */
export async function writeFiles(root: string, paths: readonly string[]): Promise<void> {
  for (const path of paths) await writeBytes(join(root, path), new Uint8Array([1, 2, 3]));
}

/** A deterministic pixel value for image `index`, byte `offset`. */
export function pixel(index: number, offset: number): number {
  return (index * 31 + offset * 7) & 0xff;
}

/** The uint8 values of `count` images of `recordBytes` bytes each, filled with {@link pixel}. */
export function imageValues(count: number, recordBytes: number): Uint8Array {
  const values = new Uint8Array(count * recordBytes);
  for (let i = 0; i < count; i++) {
    for (let b = 0; b < recordBytes; b++) values[i * recordBytes + b] = pixel(i, b);
  }
  return values;
}

/** Options of {@link writeIdxPair}. */
export interface IdxPairOptions {
  count: number;
  height?: number;
  width?: number;
  /** Adds a fourth dimension when set. */
  channels?: number;
  gzip?: boolean;
  /** File name prefix, e.g. `t10k-`. */
  prefix?: string;
  /** Label of image i; default `i % 10`. */
  label?: (index: number) => number;
}

/** Writes an MNIST-style IDX pair into `folder` and returns the paths and the values. */
export async function writeIdxPair(folder: string, options: IdxPairOptions) {
  const { count, height = 4, width = 3, channels, gzip = false, prefix = '' } = options;
  const label = options.label ?? ((index: number) => index % 10);
  const dims = channels === undefined ? [count, height, width] : [count, height, width, channels];
  const recordBytes = height * width * (channels ?? 1);
  const images = imageValues(count, recordBytes);
  const labels = Uint8Array.from({ length: count }, (_, i) => label(i));
  const suffix = gzip ? '-ubyte.gz' : '-ubyte';
  const imagesPath = join(folder, `${prefix}images-idx3${suffix}`);
  const labelsPath = join(folder, `${prefix}labels-idx1${suffix}`);
  await writeBytes(imagesPath, encodeIdx(images, dims), gzip);
  await writeBytes(labelsPath, encodeIdx(labels, [count]), gzip);
  return { imagesPath, labelsPath, images, labels, recordBytes };
}

/** Collects every item of an async iterable. */
export async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

/** The error a promise rejects with; fails when it resolves. */
export async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected the promise to reject, but it resolved');
}
