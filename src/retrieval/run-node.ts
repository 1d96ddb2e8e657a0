/**
 * `ortlab retrieval eval` from files (Node): encodes a split with each encoder pair, scores it
 * under the protocols its dataset defines (COCO 1K and 5K, Flickr30K 1K, else the whole split),
 * compares with the recalls the pair's manifest records, and keeps the attention maps of a few
 * images and captions for the report's overlays.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';

import { sha256, type RunConfig } from '../runtime/run-config.js';
import type { ResolvedPreset } from '../runtime/preprocess/presets.js';
import type { ProgressCallback } from '../runtime/progress.js';
import { Session, type SessionOptions } from '../runtime/session.js';
import { loadTokenizer } from '../runtime/tokenizer.js';
import type { ImageRoot, RetrievalData } from './data-node.js';
import { meanPenalty } from './diversity.js';
import {
  DEFAULT_EXAMPLES,
  exampleIndices,
  type ImageAttention,
  type TextAttention,
} from './examples-node.js';
import type { EncoderPair, ReferenceRecall } from './manifest-node.js';
import {
  checkDims,
  encodePairPart,
  joinItems,
  type EncodedItems,
  type PairPart,
  type PartRanges,
} from './pair-part-node.js';
import { recallAtK, recallFolds, type DirectionRecall } from './recall.js';

/** One protocol's figures for one pair on one image folder (style). */
export interface ProtocolResult {
  model: string;
  style: string;
  /** `1K` (COCO: folds of 1000 images, averaged), `5K`, or `all` (the whole split at once). */
  protocol: string;
  folds: number;
  images: number;
  texts: number;
  i2t: DirectionRecall;
  t2i: DirectionRecall;
  rsum: number;
  /** What the pair's manifest records for this style or split (PyTorch's measurement). */
  reference?: ReferenceRecall;
  /**
   * Mean ||A A^T - I||_F of the heads' attention over the split's images and captions, and the
   * mean of its square (the penalty as Lin et al. and MHSAN train with it).
   */
  diversity: { image?: number; text?: number; squared: { image?: number; text?: number } };
}

/** A pair as the report lists it. */
export interface ModelSummary {
  name: string;
  image: { path: string; sha256: string; heads?: number };
  text: { path: string; sha256: string; heads?: number };
  tokenizer: string;
  preset: ResolvedPreset;
  maxTokens?: number;
  dim: number;
}

/** The report of `ortlab retrieval eval`. */
export interface RetrievalReport {
  data: {
    name: string;
    file: string;
    dataset: string;
    split: string;
    images: number;
    captions: number;
    captionsPerImage?: number;
    roots: ImageRoot[];
  };
  models: ModelSummary[];
  results: ProtocolResult[];
  config: Omit<RunConfig, 'model'>;
}

export type { ImageAttention, TextAttention } from './examples-node.js';

/** What {@link runRetrievalEval} returns: the report and the attention of the examples. */
export interface RetrievalRun {
  report: RetrievalReport;
  images: ImageAttention[];
  texts: TextAttention[];
}

/** Options of {@link runRetrievalEval}. */
export interface RetrievalEvalOptions {
  /** Items per encoder run (default 64). */
  batchSize?: number;
  /** Images (and their first captions) whose attention the report shows (default 4). */
  examples?: number;
  session?: SessionOptions;
  onProgress?: ProgressCallback;
}

/** The protocols a dataset is reported under, as VSE++ reports them. */
export function protocolsOf(data: RetrievalData): { protocol: string; folds: number }[] {
  const n = data.images.length;
  if (data.dataset === 'coco' && n > 1000 && n % 1000 === 0) {
    return [
      { protocol: '1K', folds: n / 1000 },
      { protocol: `${n / 1000}K`, folds: 1 },
    ];
  }
  if (data.dataset === 'flickr30k' && n === 1000) return [{ protocol: '1K', folds: 1 }];
  return [{ protocol: 'all', folds: 1 }];
}

/** One pair's part of a report. */
export interface PairRun {
  results: ProtocolResult[];
  model: ModelSummary;
  images: ImageAttention[];
  texts: TextAttention[];
  config: Omit<RunConfig, 'model'>;
}

/**
 * The recalls a manifest records for this data: by style when it names the file and split they
 * were measured on and this is that split of that file, else by split name.
 */
function recorded(
  pair: EncoderPair,
  data: RetrievalData,
  root: ImageRoot,
): ReferenceRecall | undefined {
  const on = pair.recordedOn;
  if (on === undefined) return pair.metrics?.[data.split];
  const sameFile = on.file === undefined || path.basename(data.file) === on.file;
  return sameFile && data.split === on.split ? pair.metrics?.[root.style] : undefined;
}

/** The results of one pair on one image folder (style). */
async function scoreStyle(
  pair: EncoderPair,
  data: RetrievalData,
  root: ImageRoot,
  imageEmb: EncodedItems,
  textEmb: EncodedItems,
  session: SessionOptions | undefined,
): Promise<ProtocolResult[]> {
  const penalty = (e: EncodedItems, squared: boolean) =>
    e.penalties && meanPenalty(e.penalties, { squared });
  const diversity = {
    image: penalty(imageEmb, false),
    text: penalty(textEmb, false),
    squared: { image: penalty(imageEmb, true), text: penalty(textEmb, true) },
  };
  const results: ProtocolResult[] = [];
  for (const { protocol, folds } of protocolsOf(data)) {
    const options = { dim: imageEmb.dim, textToImage: data.textToImage, session };
    const scored =
      folds > 1
        ? (await recallFolds(imageEmb.embeddings, textEmb.embeddings, { ...options, folds })).mean
        : await recallAtK(imageEmb.embeddings, textEmb.embeddings, options);
    const reference = protocol === 'all' ? recorded(pair, data, root) : undefined;
    results.push({
      model: pair.name,
      style: root.style,
      protocol,
      folds,
      images: data.images.length,
      texts: data.captions.length,
      i2t: scored.i2t,
      t2i: scored.t2i,
      rsum: scored.rsum,
      ...(reference ? { reference } : {}),
      diversity,
    });
  }
  return results;
}

/**
 * Scores a pair from its parts of the split (one part for a local run, one per shard on the
 * queue), joined in order.
 * @param sha256 The hashes of the pair's image and text encoder files, for the report.
 * @param session Options of the sessions that count ranks.
 * @throws Error for parts that do not cover the split; RangeError for encoders of different
 * widths.
 */
export async function scorePair(
  pair: EncoderPair,
  data: RetrievalData,
  parts: readonly PairPart[],
  sha256: { image: string; text: string },
  session?: SessionOptions,
): Promise<PairRun> {
  const texts = joinItems(
    parts.map((p) => p.texts),
    data.captions.length,
    `text embeddings of '${pair.text}'`,
  );
  const results: ProtocolResult[] = [];
  let imageHeads: number | undefined;
  for (const [r, root] of data.roots.entries()) {
    const styleParts = parts.map((p) => p.images[r]);
    if (styleParts.some((p) => p?.style !== root.style)) {
      throw new Error(`the parts of pair '${pair.name}' were not encoded on style '${root.style}'`);
    }
    const images = joinItems(
      styleParts.map((p) => p.items),
      data.images.length,
      `image embeddings of '${pair.image}' (${root.style})`,
    );
    checkDims(pair, images.dim, texts.dim);
    imageHeads = images.heads;
    results.push(...(await scoreStyle(pair, data, root, images, texts, session)));
  }
  const model: ModelSummary = {
    name: pair.name,
    image: { path: pair.image, sha256: sha256.image, heads: imageHeads },
    text: { path: pair.text, sha256: sha256.text, heads: texts.heads },
    tokenizer: pair.tokenizer,
    preset: parts[0].preset,
    maxTokens: pair.maxTokens,
    dim: texts.dim,
  };
  const images = parts.flatMap((p) => p.examples.images);
  const textAttention = parts.flatMap((p) => p.examples.texts);
  return { results, model, images, texts: textAttention, config: parts[0].config };
}

/** The whole split of `data` with one pair, as one part. */
async function evaluatePair(
  pair: EncoderPair,
  data: RetrievalData,
  chosen: number[],
  options: RetrievalEvalOptions,
): Promise<PairRun> {
  const image = await Session.create(pair.image, options.session);
  const text = await Session.create(pair.text, options.session);
  const tokenizer = await loadTokenizer(pair.tokenizer);
  let part: PairPart;
  try {
    const ranges: PartRanges = {
      images: [0, data.images.length],
      texts: [0, data.captions.length],
    };
    part = await encodePairPart(pair, { image, text, tokenizer }, data, ranges, chosen, {
      batchSize: options.batchSize,
      threads: options.session?.threads,
      onProgress: options.onProgress,
    });
  } finally {
    tokenizer.dispose();
    await image.dispose();
    await text.dispose();
  }
  const hash = async (file: string) => sha256(new Uint8Array(await readFile(file)));
  const hashes = { image: await hash(pair.image), text: await hash(pair.text) };
  return scorePair(pair, data, [part], hashes, options.session);
}

/**
 * The report of every pair's run on `data`, the runs in pair order.
 * @throws RangeError for no runs.
 */
export function retrievalRun(data: RetrievalData, runs: readonly PairRun[]): RetrievalRun {
  if (runs.length === 0) throw new RangeError('no encoder pair to evaluate');
  const report: RetrievalReport = {
    data: {
      name: data.name,
      file: data.file,
      dataset: data.dataset,
      split: data.split,
      images: data.images.length,
      captions: data.captions.length,
      captionsPerImage: data.captionsPerImage,
      roots: data.roots,
    },
    models: runs.map((r) => r.model),
    results: runs.flatMap((r) => r.results),
    config: runs[0].config,
  };
  // The same image (caption) under every pair side by side: the page compares r = 1 with r = 4.
  const styles = data.roots.map((r) => r.style);
  const images = runs
    .flatMap((r) => r.images)
    .sort((a, b) => styles.indexOf(a.style) - styles.indexOf(b.style) || a.index - b.index);
  const texts = runs.flatMap((r) => r.texts).sort((a, b) => a.index - b.index);
  return { report, images, texts };
}

/**
 * Scores `data` with every pair, on every image folder (style) it has.
 * @throws RangeError for a pair whose encoders give embeddings of different widths, or no pair.
 * @example
 * ```ts
 * const data = await openRetrievalData('emoji');
 * const { report } = await runRetrievalEval(await readPairManifest(), data);
 * report.results.map((r) => [r.model, r.style, r.rsum]); // [['r1', 'google', ...], ...]
 * ```
 */
export async function runRetrievalEval(
  pairs: readonly EncoderPair[],
  data: RetrievalData,
  options: RetrievalEvalOptions = {},
): Promise<RetrievalRun> {
  if (pairs.length === 0) throw new RangeError('no encoder pair to evaluate');
  const chosen = exampleIndices(data.images.length, options.examples ?? DEFAULT_EXAMPLES);
  const runs: PairRun[] = [];
  for (const pair of pairs) runs.push(await evaluatePair(pair, data, chosen, options));
  return retrievalRun(data, runs);
}
