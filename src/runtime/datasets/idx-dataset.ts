/**
 * Reads a labelled image dataset stored as an IDX pair (MNIST layout): an images file
 * `[count, height, width]` or `[count, height, width, channels]` of uint8 and a labels file
 * `[count]` of uint8, each plain or gzipped. Node only.
 */

import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { gunzipSync } from 'node:zlib';

import { log } from '../logger.js';
import { checkClassNames, readClassNames } from './class-map.js';
import {
  checkIdxLabelClasses,
  checkIdxLabelCount,
  expectedIdxSize,
  idxImageLayout,
  parseIdxHeader,
} from './idx.js';
import { defaultChunkBytes, inspectIdxFile, isGzip, streamIdxRecords } from './idx-file.js';
import { resolveSampleRange } from './sample-range.js';
import type { Dataset, Sample, SampleRange } from './types.js';

/** Options of {@link openIdxDataset}. */
export interface IdxDatasetOptions {
  /**
   * The labels file. Default: the images file's name with `images-idx3` replaced by
   * `labels-idx1` (or `images.idx3` by `labels.idx1`), in the same folder.
   */
  labelsPath?: string;
  /**
   * Class names by label. Default: the `classes.json` (a JSON array of names) beside the images
   * file when there is one, else `'0'` to the largest label.
   */
  classes?: readonly string[];
  /** The dataset's name in reports and sample ids. Default: `imagesPath` as given. */
  name?: string;
  /** Bytes read (or decompressed) at a time; memory stays near this. Default 1 MiB. */
  chunkBytes?: number;
}

const LABEL_NAME_RULES: ReadonlyArray<readonly [string, string]> = [
  ['images-idx3', 'labels-idx1'],
  ['images.idx3', 'labels.idx1'],
];

/** The labels file that goes with `imagesPath`, found by its name; throws when there is none. */
function deriveLabelsPath(imagesPath: string): string {
  const file = basename(imagesPath);
  const rule = LABEL_NAME_RULES.find(([images]) => file.includes(images));
  if (rule === undefined) {
    throw new Error(
      `cannot find the labels of IDX images '${imagesPath}': its name contains neither ` +
        `'images-idx3' nor 'images.idx3' to derive the labels file from; pass options.labelsPath`,
    );
  }

  const labelsPath = join(dirname(imagesPath), file.replace(rule[0], rule[1]));
  if (!existsSync(labelsPath)) {
    throw new Error(
      `cannot find the labels of IDX images '${imagesPath}': looked for '${labelsPath}', which ` +
        'does not exist; pass options.labelsPath',
    );
  }
  return labelsPath;
}

/** Reads a labels file whole (it is one byte per sample) and checks its header and size. */
async function readLabels(path: string): Promise<Uint8Array> {
  const raw = await readFile(path);
  const gzip = isGzip(raw);
  let bytes: Uint8Array;
  try {
    bytes = gzip ? gunzipSync(raw) : raw;
  } catch (error) {
    throw new Error(
      `IDX labels file '${path}' is not a complete gzip stream (${(error as Error).message}); ` +
        'rebuild or re-download it',
    );
  }

  const header = parseIdxHeader(bytes, path);
  if (header.type !== 'uint8' || header.dims.length !== 1) {
    throw new Error(
      `IDX labels file '${path}' holds ${header.type} dims [${header.dims.join(', ')}]; ` +
        'expected uint8 dims [count]',
    );
  }
  const expected = expectedIdxSize(header);
  if (bytes.length !== expected) {
    throw new Error(
      `IDX file '${path}' does not match its header: dims [${header.dims.join(', ')}] of uint8 ` +
        `need ${expected} bytes with the ${header.headerBytes}-byte header, but the file ` +
        `${gzip ? 'decompresses to' : 'holds'} ${bytes.length} bytes. It is truncated ` +
        'or has extra bytes: rebuild or re-download it.',
    );
  }
  return bytes.slice(header.headerBytes);
}

async function resolveClasses(
  imagesPath: string,
  labels: Uint8Array,
  given: readonly string[] | undefined,
): Promise<{ classes: string[]; source: string }> {
  if (given !== undefined) {
    return { classes: checkClassNames(given, 'options.classes'), source: 'options.classes' };
  }
  const classesFile = join(dirname(imagesPath), 'classes.json');
  if (existsSync(classesFile)) {
    return { classes: await readClassNames(classesFile), source: `'${classesFile}'` };
  }
  const maxLabel = labels.reduce((max, label) => Math.max(max, label), -1);
  const classes = Array.from({ length: maxLabel + 1 }, (_, label) => String(label));
  return { classes, source: 'the labels (no classes.json beside the images)' };
}

function checkChunkBytes(value: unknown): number {
  if (value === undefined) return defaultChunkBytes;
  if (typeof value !== 'number') {
    throw new TypeError(`options.chunkBytes must be a number, received ${typeof value}`);
  }
  if (!Number.isInteger(value) || value < 1) {
    throw new RangeError(`options.chunkBytes is ${value}; expected an integer ≥ 1`);
  }
  return value;
}

/**
 * Opens an IDX image/label pair as a {@link Dataset}. Plain and gzipped files are both accepted,
 * told apart by their first bytes. The images are never loaded whole: `samples()` streams them
 * about `chunkBytes` at a time (decompressing on the fly for gzip); only the labels, one byte
 * per sample, are held in memory. Everything is checked when opening: each file's size against
 * its header, the image and label counts, and every label against the classes.
 *
 * Samples are `{ kind: 'pixels', data, width, height, channels }` with `channels` 1 for
 * `[count, height, width]` files, and ids `name#index`.
 *
 * @param imagesPath the images file, e.g. `t10k-images-idx3-ubyte.gz`.
 * @throws TypeError when an argument has the wrong type.
 * @throws Error when a file is missing, is not IDX, does not match its header, or the counts
 *   differ; the message names the file and the numbers.
 * @throws RangeError when a label has no class.
 *
 * @example
 * ```ts
 * const mnist = await openIdxDataset('data/mnist/images-idx3-ubyte.gz');
 * mnist.size; // 10000
 * for await (const sample of mnist.samples({ start: 0, end: 1 })) {
 *   sample.label; // 7
 *   sample.source; // { kind: 'pixels', data: Uint8Array(784), width: 28, height: 28, channels: 1 }
 * }
 * ```
 */
export async function openIdxDataset(
  imagesPath: string,
  options: IdxDatasetOptions = {},
): Promise<Dataset> {
  if (typeof imagesPath !== 'string') {
    throw new TypeError(
      `openIdxDataset: imagesPath must be a string, received ${typeof imagesPath}`,
    );
  }
  if (!existsSync(imagesPath)) {
    throw new Error(`IDX images file '${imagesPath}' does not exist`);
  }
  const chunkBytes = checkChunkBytes(options.chunkBytes);
  const labelsPath = options.labelsPath ?? deriveLabelsPath(imagesPath);
  if (!existsSync(labelsPath)) {
    throw new Error(`IDX labels file '${labelsPath}' (options.labelsPath) does not exist`);
  }

  const images = await inspectIdxFile(imagesPath);
  const { count, height, width, channels } = idxImageLayout(images.header, imagesPath);
  const labels = await readLabels(labelsPath);
  checkIdxLabelCount(labels, count, { images: imagesPath, labels: labelsPath });
  const { classes, source } = await resolveClasses(imagesPath, labels, options.classes);
  checkIdxLabelClasses(labels, labelsPath, { count: classes.length, source });

  const name = options.name ?? imagesPath;
  const recordBytes = height * width * channels;
  log.verbose('datasets', () => `IDX ${name}: ${count} images ${height}x${width}x${channels}`);

  async function* generate(start: number, end: number): AsyncGenerator<Sample> {
    let index = start;
    for await (const data of streamIdxRecords(images, recordBytes, start, end, chunkBytes)) {
      const source = { kind: 'pixels', data, width, height, channels } as const;
      yield { index, id: `${name}#${index}`, label: labels[index], source };
      index++;
    }
  }

  return Object.freeze({
    name,
    location: resolve(imagesPath),
    classes: Object.freeze(classes),
    size: count,
    samples(range?: SampleRange): AsyncIterable<Sample> {
      const { start, end } = resolveSampleRange(range, count, name);
      return generate(start, end);
    },
  });
}
