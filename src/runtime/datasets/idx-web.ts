/**
 * IDX image/label pairs (the MNIST layout) read by URL in the browser: fetched, gunzipped with
 * the browser's own `DecompressionStream` when gzipped, checked like the Node reader checks files,
 * and served as the same samples (`name#index` ids, pixels in memory), so a suite scores the same
 * tensors in both.
 */
import {
  checkIdxLabelClasses,
  checkIdxLabelCount,
  expectedIdxSize,
  idxImageLayout,
  parseIdxHeader,
} from './idx.js';
import { resolveSampleRange } from './sample-range.js';
import type { Dataset, Sample, SampleRange } from './types.js';

/** Options of {@link openIdxUrl}. */
export interface IdxUrlOptions {
  /**
   * URL of the labels file. Default: the images URL with `images-idx3` replaced by `labels-idx1`
   * (or `images.idx3` by `labels.idx1`).
   */
  labelsUrl?: string;
  /** Class names by label. Default: `classes.json` beside the images when served, else `'0'`... */
  classes?: readonly string[];
  /** The dataset's name in reports and sample ids. Default: the images URL. */
  name?: string;
  /** The fetch to use (default the global one). */
  fetch?: typeof fetch;
}

const LABEL_NAME_RULES: ReadonlyArray<readonly [string, string]> = [
  ['images-idx3', 'labels-idx1'],
  ['images.idx3', 'labels.idx1'],
];

function labelsUrlOf(imagesUrl: string): string {
  const url = new URL(imagesUrl, globalThis.location?.href);
  const file = url.pathname.split('/').pop() ?? '';
  const rule = LABEL_NAME_RULES.find(([images]) => file.includes(images));
  if (rule === undefined) {
    throw new Error(
      `cannot find the labels of IDX images '${imagesUrl}': its name contains neither ` +
        `'images-idx3' nor 'images.idx3' to derive the labels file from; pass options.labelsUrl`,
    );
  }
  return new URL(file.replace(rule[0], rule[1]), url).href;
}

/** Bytes from a gzip stream, decompressed by the browser. */
async function gunzip(bytes: Uint8Array, url: string): Promise<Uint8Array> {
  const stream = new Blob([bytes as Uint8Array<ArrayBuffer>])
    .stream()
    .pipeThrough(new DecompressionStream('gzip'));
  try {
    return new Uint8Array(await new Response(stream).arrayBuffer());
  } catch (error) {
    throw new Error(
      `IDX file '${url}' is not a complete gzip stream (${(error as Error).message}); ` +
        'rebuild or re-download it',
    );
  }
}

/**
 * Fetches an IDX file (plain or gzipped, told apart by its first bytes) and checks its size
 * against its header. Returns the header and the values after it.
 * @throws Error naming the URL for an HTTP error, a file that is not IDX, or a wrong size.
 */
export async function fetchIdx(
  url: string,
  fetcher: typeof fetch = fetch,
): Promise<{ dims: number[]; type: string; values: Uint8Array }> {
  const response = await fetcher(url);
  if (!response.ok) {
    throw new Error(`IDX file '${url}' could not be fetched: HTTP ${response.status}`);
  }
  const raw = new Uint8Array(await response.arrayBuffer());
  const gzip = raw.length >= 2 && raw[0] === 0x1f && raw[1] === 0x8b;
  const bytes = gzip ? await gunzip(raw, url) : raw;
  const header = parseIdxHeader(bytes, url);
  const expected = expectedIdxSize(header);
  if (bytes.length !== expected) {
    throw new Error(
      `IDX file '${url}' does not match its header: dims [${header.dims.join(', ')}] of ` +
        `${header.type} need ${expected} bytes with the ${header.headerBytes}-byte header, but ` +
        `the file ${gzip ? 'decompresses to' : 'holds'} ${bytes.length} bytes. It is truncated ` +
        'or has extra bytes: rebuild or re-download it.',
    );
  }
  return { dims: header.dims, type: header.type, values: bytes.subarray(header.headerBytes) };
}

/** A sync iterator as the async iterable `Dataset.samples` returns. */
function asyncIterable<T>(items: Iterator<T>): AsyncIterable<T> {
  return { [Symbol.asyncIterator]: () => ({ next: () => Promise.resolve(items.next()) }) };
}

async function classesBeside(
  imagesUrl: string,
  labels: Uint8Array,
  fetcher: typeof fetch,
): Promise<{ classes: string[]; source: string }> {
  const url = new URL('classes.json', new URL(imagesUrl, globalThis.location?.href)).href;
  const response = await fetcher(url).catch(() => undefined);
  if (response?.ok) {
    const parsed: unknown = await response.json().catch(() => undefined);
    if (!Array.isArray(parsed) || parsed.some((c) => typeof c !== 'string')) {
      throw new TypeError(`'${url}' must hold a JSON array of class names`);
    }
    return { classes: parsed as string[], source: `'${url}'` };
  }
  const maxLabel = labels.reduce((max, label) => Math.max(max, label), -1);
  const classes = Array.from({ length: maxLabel + 1 }, (_, label) => String(label));
  return { classes, source: 'the labels (no classes.json beside the images)' };
}

/**
 * Opens an IDX image/label pair by URL as a {@link Dataset}. Both files are fetched whole (the
 * bundled MNIST test set is 8 MB decompressed) and checked as `openIdxDataset` checks files:
 * sizes against headers, image and label counts, every label against the classes.
 *
 * @throws Error naming the URL when a file cannot be fetched, is not IDX, or does not match;
 *   RangeError when a label has no class.
 * @example
 * ```ts
 * const mnist = await openIdxUrl('/data/mnist/images-idx3-ubyte.gz', { name: 'clean' });
 * mnist.size; // 10000
 * ```
 */
export async function openIdxUrl(imagesUrl: string, options: IdxUrlOptions = {}): Promise<Dataset> {
  if (typeof imagesUrl !== 'string') {
    throw new TypeError(`openIdxUrl: imagesUrl must be a string, received ${typeof imagesUrl}`);
  }
  const fetcher = options.fetch ?? fetch;
  const labelsUrl = options.labelsUrl ?? labelsUrlOf(imagesUrl);
  const [images, labelFile] = await Promise.all([
    fetchIdx(imagesUrl, fetcher),
    fetchIdx(labelsUrl, fetcher),
  ]);
  const { count, height, width, channels } = idxImageLayout(images, imagesUrl);
  if (labelFile.type !== 'uint8' || labelFile.dims.length !== 1) {
    throw new Error(
      `IDX labels file '${labelsUrl}' holds ${labelFile.type} dims ` +
        `[${labelFile.dims.join(', ')}]; expected uint8 dims [count]`,
    );
  }
  const labels = labelFile.values;
  checkIdxLabelCount(labels, count, { images: imagesUrl, labels: labelsUrl });
  const { classes, source } = options.classes
    ? { classes: [...options.classes], source: 'options.classes' }
    : await classesBeside(imagesUrl, labels, fetcher);
  checkIdxLabelClasses(labels, labelsUrl, { count: classes.length, source });

  const name = options.name ?? imagesUrl;
  const recordBytes = height * width * channels;
  function* generate(start: number, end: number): Generator<Sample> {
    for (let index = start; index < end; index++) {
      const data = images.values.subarray(index * recordBytes, (index + 1) * recordBytes);
      const source = { kind: 'pixels', data, width, height, channels } as const;
      yield { index, id: `${name}#${index}`, label: labels[index], source };
    }
  }
  return Object.freeze({
    name,
    location: new URL(imagesUrl, globalThis.location?.href).href,
    classes: Object.freeze(classes),
    size: count,
    samples(range?: SampleRange): AsyncIterable<Sample> {
      const { start, end } = resolveSampleRange(range, count, name);
      return asyncIterable(generate(start, end));
    },
  });
}
