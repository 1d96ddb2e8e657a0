/**
 * Image-text sets for `ortlab retrieval`: the bundled emoji set or any Karpathy split file
 * (dataset_coco.json, dataset_flickr30k.json) with the folder its image paths start from. Node
 * only.
 */
import { existsSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';

import type { DataStamp } from '../eval/robustness.js';
import { packageRoot } from '../runtime/datasets/package-root.js';
import type { ImageSource } from '../runtime/datasets/types.js';
import { sha256 } from '../runtime/run-config.js';
import { parseKarpathy, type KarpathySplit } from './karpathy.js';

/** The bundled set's name. */
export const EMOJI = 'emoji';

/** One folder of images for the split's paths (an art style of the emoji set). */
export interface ImageRoot {
  /** The style's name, or `images` for a set with one folder. */
  style: string;
  root: string;
}

/** A split ready to encode. */
export interface RetrievalData extends KarpathySplit {
  /** What the user named (`emoji` or the file). */
  name: string;
  file: string;
  roots: ImageRoot[];
}

/** Options of {@link openRetrievalData}. */
export interface RetrievalDataOptions {
  /** `test` (default), `val`, `train` (with `restval`). */
  split?: string;
  /** Keep one style of a set with styles (the emoji set: `google`, `twitter`). Default all. */
  style?: string;
  /** Folder the image paths start from; default: the file's folder (or its style folders). */
  imageRoot?: string;
}

/** The Karpathy file a data spec names. */
export function retrievalDataFile(spec: string): string {
  return spec === EMOJI ? path.join(packageRoot(), 'data', 'emoji', 'dataset_emoji.json') : spec;
}

function rootsOf(split: KarpathySplit, file: string, options: RetrievalDataOptions): ImageRoot[] {
  if (options.imageRoot !== undefined) {
    if (!existsSync(options.imageRoot) || !statSync(options.imageRoot).isDirectory()) {
      throw new Error(`image root '${options.imageRoot}' is not a folder; check --image-root`);
    }
    return [{ style: options.style ?? 'images', root: options.imageRoot }];
  }
  const folder = path.dirname(file);
  if (split.styles === undefined) {
    if (options.style !== undefined) {
      throw new RangeError(`${file} has no styles; --style applies to sets such as emoji`);
    }
    return [{ style: 'images', root: folder }];
  }
  if (options.style !== undefined && !split.styles.includes(options.style)) {
    throw new RangeError(
      `style must be one of ${split.styles.join(', ')} for ${file}, got '${options.style}'`,
    );
  }
  const styles = options.style === undefined ? split.styles : [options.style];
  return styles.map((style) => ({ style, root: path.join(folder, style) }));
}

/**
 * Reads a split of an image-text set and checks that its first image is where the paths say.
 * @throws Error naming the file, or the image root that does not hold the images.
 * @example
 * ```ts
 * const data = await openRetrievalData('emoji', { style: 'google' });
 * data.images.length; // 324 test emoji
 * data.roots; // [{ style: 'google', root: '.../data/emoji/google' }]
 * ```
 */
export async function openRetrievalData(
  spec: string,
  options: RetrievalDataOptions = {},
): Promise<RetrievalData> {
  const file = retrievalDataFile(spec);
  const text = await readFile(file, 'utf8').catch(() => {
    throw new Error(
      spec === EMOJI
        ? `the bundled emoji set is missing (${file}); reinstall ortlab`
        : `data file '${file}' not found; --data takes '${EMOJI}' or a Karpathy split file ` +
            'such as dataset_coco.json',
    );
  });
  const split = parseKarpathy(text, { split: options.split, file });
  const roots = rootsOf(split, file, options);
  for (const { root } of roots) {
    const first = path.join(root, split.images[0]);
    if (!existsSync(first)) {
      throw new Error(
        `image '${first}' of ${path.basename(file)} not found: give the folder its paths start ` +
          'from with --image-root',
      );
    }
  }
  return { ...split, name: spec, file, roots };
}

/**
 * The stamp of a split as read: its image count and the SHA-256 of its images, captions, which
 * image each caption describes, and its styles. Another copy of the same file gives the same
 * stamp; a caption edited, an image added or another split does not.
 */
export function retrievalDataStamp(data: RetrievalData): DataStamp {
  const listing = JSON.stringify([
    data.dataset,
    data.split,
    data.roots.map((r) => r.style),
    data.images,
    data.captions,
    Array.from(data.textToImage),
  ]);
  return { size: data.images.length, fingerprint: sha256(new TextEncoder().encode(listing)) };
}

/** The image files of the split under one root. */
export function imageSources(data: RetrievalData, root: ImageRoot): ImageSource[] {
  return data.images.map((image) => ({ kind: 'file', path: path.join(root.root, image) }));
}
