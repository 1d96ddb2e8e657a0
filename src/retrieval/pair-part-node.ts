/**
 * An encoder pair's outputs on a part of a split: the embeddings of a range of its images (under
 * every image folder) and of a range of its captions, each item's attention penalty, and the
 * attention of the report's example items that fall in the part. A local run encodes the whole
 * split as one part; a queue shard encodes whole batches of it, and the merge joins the parts in
 * order, so both score the same numbers to the last bit. Node only.
 */
import { resolvePreset, type ResolvedPreset } from '../runtime/preprocess/presets.js';
import type { ProgressCallback } from '../runtime/progress.js';
import { runConfig, type RunConfig } from '../runtime/run-config.js';
import type { Session } from '../runtime/session.js';
import type { TextTokenizer } from '../runtime/tokenizer.js';
import { imageSources, type RetrievalData } from './data-node.js';
import { diversityPenalties } from './diversity.js';
import type { Embeddings } from './embeddings.js';
import { checkEncoder, encodeImages, encodeTexts } from './encode.js';
import {
  imageExamples,
  textExamples,
  type ImageAttention,
  type TextAttention,
} from './examples-node.js';
import type { EncoderPair } from './manifest-node.js';

/** The images `[from, to)` and the captions `[from, to)` of a split that a part holds. */
export interface PartRanges {
  images: [from: number, to: number];
  texts: [from: number, to: number];
}

/** One encoder's outputs on consecutive items of a split. */
export interface EncodedItems {
  /** Index of the first item in the split. */
  start: number;
  count: number;
  /** Embedding width (0 for a part without items). */
  dim: number;
  /** `[count, dim]`, every row of unit length. */
  embeddings: Float32Array;
  /** Heads of an encoder that outputs attention maps. */
  heads?: number;
  /** With the heads: each item's squared diversity penalty (see `diversityPenalties`). */
  penalties?: Float64Array;
}

/** What {@link encodePairPart} returns. */
export interface PairPart {
  model: string;
  /** The image encoder's preset, resolved against its input. */
  preset: ResolvedPreset;
  texts: EncodedItems;
  /** One entry per image folder (style), in the data's order. */
  images: { style: string; items: EncodedItems }[];
  /** The attention of the report's example images and captions that lie in the part. */
  examples: { images: ImageAttention[]; texts: TextAttention[] };
  /** The configuration of the run, without the model (the report lists every model). */
  config: Omit<RunConfig, 'model'>;
}

/** A pair's open encoders. */
export interface PairEncoders {
  image: Session;
  text: Session;
  tokenizer: TextTokenizer;
}

/** Options of {@link encodePairPart}. */
export interface PairPartOptions {
  /** Items per encoder run (default 64). */
  batchSize?: number;
  /** Threads the sessions were made with, as the configuration records them. */
  threads?: number;
  onProgress?: ProgressCallback;
}

/**
 * Refuses a pair whose encoders give embeddings of different widths.
 * @throws RangeError naming both encoders.
 */
export function checkDims(pair: EncoderPair, imageDim: number, textDim: number): void {
  if (imageDim !== textDim) {
    throw new RangeError(
      `image encoder '${pair.image}' gives ${imageDim}-dim embeddings but text encoder ` +
        `'${pair.text}' gives ${textDim}-dim ones; pair encoders trained together`,
    );
  }
}

function itemsOf(encoded: Embeddings | undefined, start: number): EncodedItems {
  if (encoded === undefined) return { start, count: 0, dim: 0, embeddings: new Float32Array(0) };
  const { count, dim, embeddings, attention } = encoded;
  if (attention === undefined) return { start, count, dim, embeddings };
  const penalties = diversityPenalties(attention, { squared: true });
  return { start, count, dim, embeddings, heads: attention.heads, penalties };
}

/**
 * Encodes the images and captions of `ranges` with a pair, under every image folder of `data`.
 * @param chosen The split's example images (their first captions are the text examples).
 * @throws Error for an encoder that lacks an input or output; RangeError for encoders of
 * different widths; what `encodeImages` and `encodeTexts` throw.
 */
export async function encodePairPart(
  pair: EncoderPair,
  encoders: PairEncoders,
  data: RetrievalData,
  ranges: PartRanges,
  chosen: readonly number[],
  options: PairPartOptions = {},
): Promise<PairPart> {
  const { image, text, tokenizer } = encoders;
  checkEncoder(image, 'image', `image encoder '${pair.image}'`);
  checkEncoder(text, 'text', `text encoder '${pair.text}'`);
  const common = { batchSize: options.batchSize, onProgress: options.onProgress };
  const [t0, t1] = ranges.texts;
  const textEmb =
    t1 > t0
      ? await encodeTexts(text, tokenizer, data.captions.slice(t0, t1), {
          ...common,
          name: `text encoder '${pair.text}'`,
          maxLength: pair.maxTokens,
        })
      : undefined;

  const preset = resolvePreset(pair.preset, image.inputs[0]?.dims);
  const [i0, i1] = ranges.images;
  const images: PairPart['images'] = [];
  const imageAttention: ImageAttention[] = [];
  for (const root of data.roots) {
    const imageEmb =
      i1 > i0
        ? await encodeImages(image, imageSources(data, root).slice(i0, i1), {
            ...common,
            preset,
            name: `image encoder '${pair.image}'`,
          })
        : undefined;
    if (imageEmb && textEmb) checkDims(pair, imageEmb.dim, textEmb.dim);
    images.push({ style: root.style, items: itemsOf(imageEmb, i0) });
    if (imageEmb) {
      imageAttention.push(...imageExamples(pair, data, root, imageEmb, chosen, preset, i0));
    }
  }

  const textAttention = textEmb ? textExamples(pair, tokenizer, data, textEmb, chosen, t0) : [];
  const { model, ...config } = runConfig(image, pair.image, options.threads);
  void model; // the report lists every model under `models`
  return {
    model: pair.name,
    preset,
    texts: itemsOf(textEmb, t0),
    images,
    examples: { images: imageAttention, texts: textAttention },
    config,
  };
}

/**
 * The parts of one encoder's items joined in order into the whole split's.
 * @param what The items, for messages (`image embeddings of 'r4' (google)`).
 * @throws Error when the parts do not cover items `0 .. total - 1` once each, in order, or
 * disagree on the width or the heads.
 */
export function joinItems(
  parts: readonly EncodedItems[],
  total: number,
  what: string,
): EncodedItems {
  const filled = parts.filter((p) => p.count > 0);
  const dim = filled[0]?.dim ?? 0;
  const heads = filled[0]?.heads;
  let next = 0;
  for (const part of filled) {
    if (part.start !== next) {
      throw new Error(`${what}: a part starts at item ${part.start}, expected item ${next}`);
    }
    if (part.dim !== dim || part.heads !== heads) {
      throw new Error(
        `${what}: parts of widths ${dim} and ${part.dim}, or of ${heads} and ${part.heads} heads`,
      );
    }
    next += part.count;
  }
  if (next !== total) throw new Error(`${what}: the parts hold ${next} items of ${total}`);
  if (filled.length === 1) return filled[0];

  const embeddings = new Float32Array(total * dim);
  const penalties = heads === undefined ? undefined : new Float64Array(total);
  for (const part of filled) {
    embeddings.set(part.embeddings, part.start * dim);
    penalties?.set(part.penalties!, part.start);
  }
  return { start: 0, count: total, dim, embeddings, ...(penalties ? { heads, penalties } : {}) };
}
