/**
 * The attention maps a retrieval report shows: each head's weights over the grid of chosen
 * images and over the tokens of their first captions, cut from an encoded split. Node only.
 */
import path from 'node:path';

import type { ResolvedPreset } from '../runtime/preprocess/presets.js';
import type { TextTokenizer } from '../runtime/tokenizer.js';
import type { ImageRoot, RetrievalData } from './data-node.js';
import type { Embeddings } from './embeddings.js';
import type { EncoderPair } from './manifest-node.js';

/** Attention of one image under one pair: `maps` is `[heads, grid rows x grid columns]`. */
export interface ImageAttention {
  model: string;
  style: string;
  index: number;
  file: string;
  name: string;
  heads: number;
  grid: [rows: number, columns: number];
  maps: Float32Array;
  /** The encoder's input size, at which the overlay is drawn. */
  size: [height: number, width: number];
}

/** Attention of one caption under one pair: `maps` is `[heads, tokens.length]`. */
export interface TextAttention {
  model: string;
  index: number;
  caption: string;
  tokens: string[];
  heads: number;
  maps: Float32Array;
}

/** Example images a report shows unless told otherwise. */
export const DEFAULT_EXAMPLES = 4;

/** Evenly spread image indices for the examples. */
export function exampleIndices(count: number, wanted: number): number[] {
  const k = Math.min(count, Math.max(0, wanted));
  return Array.from({ length: k }, (_, i) => Math.floor((i * count) / k));
}

/** Item `index`'s maps, `[heads, length]` (the first `length` positions of each head). */
function mapsOf(e: Embeddings, index: number, length?: number): Float32Array {
  const { heads, positions, data } = e.attention!;
  const used = length ?? positions;
  const out = new Float32Array(heads * used);
  for (let h = 0; h < heads; h++) {
    const from = (index * heads + h) * positions;
    out.set(data.subarray(from, from + used), h * used);
  }
  return out;
}

/** Rows and columns of the image attention grid: the manifest's, else a square. */
function gridOf(pair: EncoderPair, positions: number): [number, number] {
  const side = Math.round(Math.sqrt(positions));
  const [rows, columns] = pair.grid ?? [side, side];
  if (rows * columns !== positions) {
    throw new RangeError(
      `image encoder '${pair.image}' gives attention over ${positions} positions, not a ` +
        `${rows}x${columns} grid; set "grid" [rows, columns] in the manifest`,
    );
  }
  return [rows, columns];
}

/** Whether item `index` of the split lies in the part `[start, start + count)`. */
const within = (index: number, start: number, count: number): boolean =>
  index >= start && index < start + count;

/**
 * The attention of the chosen images under one image folder (style) that lie in `imageEmb`,
 * which holds the split's images from `start` on (a shard's part; 0 for the whole split).
 */
export function imageExamples(
  pair: EncoderPair,
  data: RetrievalData,
  root: ImageRoot,
  imageEmb: Embeddings,
  chosen: readonly number[],
  preset: ResolvedPreset,
  start = 0,
): ImageAttention[] {
  if (imageEmb.attention === undefined) return [];
  const grid = gridOf(pair, imageEmb.attention.positions);
  return chosen
    .filter((index) => within(index, start, imageEmb.count))
    .map((index) => ({
      model: pair.name,
      style: root.style,
      index,
      file: path.join(root.root, data.images[index]),
      name: data.names?.[index] || data.images[index],
      heads: imageEmb.attention!.heads,
      grid,
      maps: mapsOf(imageEmb, index - start),
      size: [preset.height, preset.width],
    }));
}

/**
 * The attention of the first caption of each chosen image, over its tokens, for the captions
 * that lie in `texts`, which holds the split's captions from `start` on.
 */
export function textExamples(
  pair: EncoderPair,
  tokenizer: TextTokenizer,
  data: RetrievalData,
  texts: Embeddings,
  indices: readonly number[],
  start = 0,
): TextAttention[] {
  if (texts.attention === undefined) return [];
  const first = indices
    .map((i) => data.textToImage.indexOf(i))
    .filter((j) => j >= 0 && within(j, start, texts.count));
  return first.map((j) => {
    const length = texts.lengths![j - start];
    const ids = tokenizer.encode([data.captions[j]], { maxLength: pair.maxTokens }).inputIds;
    const tokens = Array.from(ids.subarray(0, length), (id) => tokenizer.decode([id]));
    const heads = texts.attention!.heads;
    return {
      model: pair.name,
      index: j,
      caption: data.captions[j],
      tokens,
      heads,
      maps: mapsOf(texts, j - start, length),
    };
  });
}
