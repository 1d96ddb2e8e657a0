/**
 * Encoder pairs for retrieval: read from a manifest (models/retrieval/manifest.json describes
 * the shipped ones) or put together from an image and a text encoder given by path, with their
 * preset and tokenizer found beside them. Node only.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';

import { readModelCard } from '../cli/model-card.js';
import { packageRoot } from '../runtime/datasets/package-root.js';
import { PRESETS, type Preset } from '../runtime/preprocess/presets.js';
import type { DirectionRecall } from './recall.js';

/** Recalls a manifest records for one evaluation (an art style, or a split). */
export interface ReferenceRecall {
  i2t: Partial<DirectionRecall>;
  t2i: Partial<DirectionRecall>;
  rsum: number;
}

/** An image encoder and the text encoder trained with it. Paths are resolved. */
export interface EncoderPair {
  name: string;
  image: string;
  text: string;
  /** Folder with tokenizer.json and tokenizer_config.json. */
  tokenizer: string;
  preset: Preset;
  /** Tokens per caption at most (default: the tokenizer's). */
  maxTokens?: number;
  heads?: number;
  dim?: number;
  /** Rows and columns of the image encoder's attention grid (positions row major). */
  grid?: [rows: number, columns: number];
  /** Recalls measured when the pair was made, by style or split name. */
  metrics?: Record<string, ReferenceRecall>;
  /**
   * The data file (base name) and split those recalls were measured on, when the manifest says
   * (its `dataset` block: `{ file, split }`); they are compared on that split of that file only.
   */
  recordedOn?: { file?: string; split: string };
}

interface ManifestEntry {
  name?: unknown;
  image?: unknown;
  text?: unknown;
  tokenizer?: unknown;
  preset?: unknown;
  maxTokens?: unknown;
  heads?: unknown;
  dim?: unknown;
  grid?: unknown;
  metrics?: unknown;
}

/** The manifest of the shipped encoders. */
export function shippedManifest(): string {
  return path.join(packageRoot(), 'models', 'retrieval', 'manifest.json');
}

/** A path of the manifest, taken from its folder, else from the package root. */
function resolveFrom(folder: string, file: string): string {
  const near = path.resolve(folder, file);
  if (existsSync(near)) return near;
  const fromRoot = path.resolve(packageRoot(), file);
  return existsSync(fromRoot) ? fromRoot : near;
}

function entriesOf(parsed: unknown, file: string): ManifestEntry[] {
  if (Array.isArray(parsed)) return parsed as ManifestEntry[];
  if (parsed !== null && typeof parsed === 'object') {
    for (const key of ['pairs', 'models', 'encoders']) {
      const list = (parsed as Record<string, unknown>)[key];
      if (Array.isArray(list)) return list as ManifestEntry[];
    }
  }
  throw new Error(`${file} lists no encoder pairs: expected {"pairs": [{name, image, text, ...}]}`);
}

/** The manifest's `dataset` block: which file and split its recalls come from. */
function recordedOnOf(parsed: unknown): EncoderPair['recordedOn'] {
  const block = (parsed as { dataset?: { file?: unknown; split?: unknown } } | null)?.dataset;
  if (block === undefined || block === null || typeof block.split !== 'string') return undefined;
  return { file: typeof block.file === 'string' ? block.file : undefined, split: block.split };
}

/** `8` or `[8, 8]`. */
function gridOf(value: unknown): [number, number] | undefined {
  if (typeof value === 'number') return [value, value];
  if (Array.isArray(value) && value.length === 2 && value.every((v) => typeof v === 'number')) {
    return [value[0], value[1]];
  }
  return undefined;
}

function pairOf(entry: ManifestEntry, index: number, file: string): EncoderPair {
  const folder = path.dirname(file);
  const field = (key: 'image' | 'text' | 'tokenizer'): string => {
    const value = entry[key];
    if (typeof value !== 'string' || value === '') {
      throw new Error(`${file}: pair ${index} has no '${key}' path`);
    }
    return resolveFrom(folder, value);
  };
  const preset = entry.preset;
  if (preset === null || typeof preset !== 'object') {
    throw new Error(`${file}: pair ${index} has no 'preset' object (mean, std, size)`);
  }
  const name = typeof entry.name === 'string' ? entry.name : `pair-${index}`;
  const number = (v: unknown): number | undefined => (typeof v === 'number' ? v : undefined);
  return {
    name,
    image: field('image'),
    text: field('text'),
    tokenizer: field('tokenizer'),
    preset: { name: `${name}-preset`, ...(preset as Partial<Preset>) },
    maxTokens: number(entry.maxTokens),
    heads: number(entry.heads),
    dim: number(entry.dim),
    grid: gridOf(entry.grid),
    metrics:
      entry.metrics !== null && typeof entry.metrics === 'object'
        ? (entry.metrics as Record<string, ReferenceRecall>)
        : undefined,
  };
}

/**
 * Reads a manifest of encoder pairs (default: the shipped one). Paths in it are taken from the
 * manifest's folder.
 * @throws Error naming the file when it is missing, not JSON, or a pair lacks a path or preset.
 * @example
 * ```ts
 * const pairs = await readPairManifest();
 * pairs.map((p) => p.name); // ['r1', 'r4']
 * ```
 */
export async function readPairManifest(
  file = shippedManifest(),
  options: ManifestReadOptions = {},
): Promise<EncoderPair[]> {
  const text = await readFile(file, 'utf8').catch(() => {
    throw new Error(
      `encoder manifest '${file}' not found; pass --images and --texts, or --manifest FILE`,
    );
  });
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new Error(`${file} is not JSON (${(error as Error).message})`);
  }
  if (options.mapPaths) parsed = options.mapPaths(parsed);
  const recordedOn = recordedOnOf(parsed);
  const pairs = entriesOf(parsed, file).map((e, i) => ({ ...pairOf(e, i, file), recordedOn }));
  if (pairs.length === 0) throw new Error(`${file} lists no encoder pairs`);
  return pairs;
}

/** Options of {@link readPairManifest}. */
export interface ManifestReadOptions {
  /**
   * Rewrites the absolute paths the manifest holds, before they are resolved (a queue worker
   * that sees the submitter's folders elsewhere, `ortlab worker --map`).
   */
  mapPaths?: (manifest: unknown) => unknown;
}

/** Options of {@link pairFromFiles}. */
export interface PairFileOptions extends ManifestReadOptions {
  /** A preset name or object; default: the image encoder's model card, else the manifest's. */
  preset?: string | Preset;
  /** Default: the manifest's, else a `tokenizer/` folder beside the text encoder. */
  tokenizer?: string;
  maxTokens?: number;
  /** Consulted for a pair with the same image encoder (default: the shipped one, if present). */
  manifest?: string;
}

/**
 * An encoder pair from two model files. What the files do not say (preset, tokenizer) comes
 * from the options, the image encoder's model card (`image.json` beside `image.onnx`), or a
 * manifest entry with the same image encoder.
 * @throws Error naming what is missing and the option that gives it.
 */
export async function pairFromFiles(
  image: string,
  text: string,
  options: PairFileOptions = {},
): Promise<EncoderPair> {
  for (const [what, file] of [
    ['image encoder', image],
    ['text encoder', text],
  ]) {
    if (!existsSync(file)) throw new Error(`${what} '${file}' not found; check the path`);
  }
  const manifestFile = options.manifest ?? shippedManifest();
  const listed = existsSync(manifestFile)
    ? (await readPairManifest(manifestFile, options)).find((p) => p.image === path.resolve(image))
    : undefined;
  const card = await readModelCard(image);
  const named = typeof options.preset === 'string' ? PRESETS[options.preset] : options.preset;
  if (typeof options.preset === 'string' && named === undefined) {
    throw new RangeError(
      `unknown preset '${options.preset}'; known presets: ${Object.keys(PRESETS).join(', ')}`,
    );
  }
  const preset = named ?? card?.preset ?? listed?.preset;
  if (preset === undefined) {
    throw new Error(
      `no preprocessing preset for '${image}': pass --preset, or write a model card ` +
        `'${image.replace(/\.onnx$/i, '')}.json' with a "preset" (size, mean, std)`,
    );
  }
  const besideText = path.join(path.dirname(text), 'tokenizer');
  const tokenizer =
    options.tokenizer ?? listed?.tokenizer ?? (existsSync(besideText) ? besideText : undefined);
  if (tokenizer === undefined) {
    throw new Error(
      `no tokenizer for '${text}': pass --tokenizer DIR (tokenizer.json and tokenizer_config.json)`,
    );
  }
  const base = path.basename(image).replace(/\.onnx$/i, '');
  return {
    ...listed,
    name: listed?.name ?? card?.name ?? base,
    image: path.resolve(image),
    text: path.resolve(text),
    tokenizer,
    preset,
    maxTokens: options.maxTokens ?? listed?.maxTokens,
    // Recalls recorded for the listed pair hold only when its text encoder is the same one.
    metrics: listed?.text === path.resolve(text) ? listed.metrics : undefined,
    recordedOn: listed?.recordedOn,
  };
}
