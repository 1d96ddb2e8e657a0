/**
 * Image-text retrieval under the VSE++ protocol (Faghri et al. 2018): cosine similarity of
 * L2-normalized embeddings; an image's rank is the best rank among its captions, a caption's
 * rank that of its image; Recall@1/5/10 in percent, median and mean rank (1-based), and rsum,
 * the sum of the six recalls. Every caption is scored against every image through ONNX Runtime
 * in chunks of captions, so memory stays bounded and no similarity matrix is held whole.
 */
import { dot64 } from '../runtime/dot.js';
import { Session, type SessionOptions } from '../runtime/session.js';
import { rankCountGraph } from './graphs.js';
import { normalizeRows, rowScales, scaleRows } from './normalize.js';

/** Recall in one direction: percentages, and ranks counted from 1. */
export interface DirectionRecall {
  r1: number;
  r5: number;
  r10: number;
  medr: number;
  meanr: number;
}

/** Result of {@link recallAtK}. */
export interface RecallResult {
  i2t: DirectionRecall;
  t2i: DirectionRecall;
  rsum: number;
  images: number;
  texts: number;
  /** 0-based rank of each image's best caption, and of each caption's image. */
  i2tRanks: Int32Array;
  t2iRanks: Int32Array;
}

/** Options of {@link recallAtK}: give `captionsPerImage` or `textToImage`. */
export interface RecallOptions {
  /** Embedding width: both inputs are row major `[count, dim]`. */
  dim: number;
  /** Captions `k i .. k i + k - 1` belong to image `i` (the COCO and Flickr30K layout). */
  captionsPerImage?: number;
  /** The image of each caption, when the layout is not regular. */
  textToImage?: ArrayLike<number>;
  /** Captions scored per run (default: as many as keep one run's scores near 8 MB). */
  chunkSize?: number;
  /**
   * The largest gallery, in bytes of normalized float32 images, built into the scoring graph so
   * that ONNX Runtime packs it once (default {@link FIXED_GALLERY_BYTES}); a larger one is fed
   * to every run instead, which holds it once rather than four times. 0 always feeds it.
   */
  maxGraphGalleryBytes?: number;
  session?: SessionOptions;
}

/** The image of every caption, checked. */
export function captionImages(images: number, texts: number, options: RecallOptions): Int32Array {
  if (options.textToImage !== undefined) {
    const map = Int32Array.from(options.textToImage);
    if (map.length !== texts) {
      throw new RangeError(`textToImage has ${map.length} entries for ${texts} captions`);
    }
    const seen = new Uint8Array(images);
    map.forEach((i, j) => {
      if (!(Number.isInteger(i) && i >= 0 && i < images)) {
        throw new RangeError(`textToImage[${j}] = ${i} is not an image index (0..${images - 1})`);
      }
      seen[i] = 1;
    });
    const lonely = seen.indexOf(0);
    if (lonely >= 0) throw new RangeError(`image ${lonely} has no caption; every image needs one`);
    return map;
  }
  const k = options.captionsPerImage;
  if (k === undefined) throw new TypeError('give captionsPerImage or textToImage');
  if (!(Number.isInteger(k) && k >= 1) || texts !== k * images) {
    throw new RangeError(
      `${texts} captions do not divide into ${images} images x ${String(k)} captions per image; ` +
        'pass textToImage for an irregular layout',
    );
  }
  return Int32Array.from({ length: texts }, (_, j) => Math.floor(j / k));
}

/** VSE++'s summary of 0-based ranks. */
export function summarizeRanks(ranks: ArrayLike<number>): DirectionRecall {
  const n = ranks.length;
  const below = (k: number): number => {
    let c = 0;
    for (let i = 0; i < n; i++) if (ranks[i] < k) c++;
    return (100 * c) / n;
  };
  const sorted = Float64Array.from(ranks).sort();
  const median = n % 2 ? sorted[(n - 1) / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
  let sum = 0;
  for (let i = 0; i < n; i++) sum += ranks[i];
  return {
    r1: below(1),
    r5: below(5),
    r10: below(10),
    medr: Math.floor(median) + 1,
    meanr: sum / n + 1,
  };
}

/**
 * Each image's best similarity to one of its own captions, from float64 sums over the
 * normalized rows, rounded to float32: the threshold its image-to-text rank is counted against.
 */
function bestOwnScores(
  images: Float32Array,
  texts: Float32Array,
  textScales: Float64Array,
  owner: Int32Array,
  dim: number,
): Float32Array {
  const best = new Float64Array(images.length / dim).fill(-Infinity);
  for (let j = 0; j < owner.length; j++) {
    const sum = dot64(texts, j * dim, images, owner[j] * dim, dim);
    best[owner[j]] = Math.max(best[owner[j]], sum * textScales[j]);
  }
  return Float32Array.from(best);
}

/** The largest gallery of normalized images built into the scoring graph (64 MiB). */
export const FIXED_GALLERY_BYTES = 64 << 20;

/** Default captions per run: a run's scores stay near 8 MB (between 64 and 4096 captions). */
function defaultChunk(nImages: number): number {
  return Math.max(64, Math.min(4096, Math.floor((8 << 20) / (4 * nImages))));
}

/**
 * Recall@K of image-to-text and text-to-image retrieval, as the VSE++ evaluation computes it.
 * Embeddings are normalized here. The captions are scored in chunks against all images, one
 * `[chunk, dim] x [dim, images]` Gemm per chunk (O(images x texts x dim) in all), both
 * directions counted in the same run; memory: the normalized images (up to
 * {@link FIXED_GALLERY_BYTES}, three times more: the graph's bytes, ONNX Runtime's weight and
 * its packed copy), one chunk of captions and its scores (about 8 MB by default).
 *
 * A caption's rank counts the images its Gemm row scores above its own image. An image's rank
 * counts the captions scored above its best own caption, whose similarity is computed once
 * beforehand (float64 sums rounded to float32); its own captions are never counted against
 * it. Scores within float32 rounding of each other may rank either way, as they do between any
 * two float32 implementations.
 *
 * @throws RangeError for embeddings of another width, a caption count that does not divide,
 * NaN embeddings, or an image without captions.
 * @example
 * ```ts
 * const result = await recallAtK(imageEmb, textEmb, { dim: 1024, captionsPerImage: 5 });
 * result.i2t.r1; // e.g. 41.2 (percent)
 * ```
 */
export async function recallAtK(
  imageEmb: Float32Array,
  textEmb: Float32Array,
  options: RecallOptions,
): Promise<RecallResult> {
  const { dim } = options;
  const images = normalizeRows(imageEmb, dim, 'image embeddings');
  const textScales = rowScales(textEmb, dim, 'text embeddings');
  const nImages = images.length / dim;
  const nTexts = textScales.length;
  const owner = captionImages(nImages, nTexts, options);
  const chunk = options.chunkSize ?? defaultChunk(nImages);
  if (!(Number.isInteger(chunk) && chunk >= 1)) {
    throw new RangeError(`chunkSize must be a positive integer, got ${String(chunk)}`);
  }
  const threshold = bestOwnScores(images, textEmb, textScales, owner, dim);

  const fixed = images.byteLength <= (options.maxGraphGalleryBytes ?? FIXED_GALLERY_BYTES);
  const gallery = { data: images, count: nImages, dim };
  const session = await Session.create(
    rankCountGraph(fixed ? gallery : undefined),
    options.session,
  );
  try {
    const t2iRanks = new Int32Array(nTexts);
    const i2tCounts = new Float64Array(nImages);
    // One chunk's normalized captions, rewritten for each run once the previous one is done.
    const queries = new Float32Array(Math.min(chunk, nTexts) * dim);
    for (let start = 0; start < nTexts; start += chunk) {
      const q = Math.min(chunk, nTexts - start);
      const own = new BigInt64Array(q);
      for (let r = 0; r < q; r++) own[r] = BigInt(owner[start + r]);
      const out = await session.run({
        queries: {
          type: 'float32',
          dims: [q, dim],
          data: scaleRows(textEmb, textScales, dim, start, q, queries).subarray(0, q * dim),
        },
        ...(fixed ? {} : { gallery: { type: 'float32', dims: [nImages, dim], data: images } }),
        own: { type: 'int64', dims: [q, 1], data: own },
        galleryThreshold: { type: 'float32', dims: [1, nImages], data: threshold },
      });
      const queryCount = out.queryCount.data as Int32Array;
      const galleryCount = out.galleryCount.data as Int32Array;
      const ownScore = out.ownScore.data as Float32Array;
      for (let r = 0; r < q; r++) t2iRanks[start + r] = queryCount[r];
      for (let i = 0; i < nImages; i++) i2tCounts[i] += galleryCount[i];
      // The run counted a caption against its own image when the Gemm scored it above the
      // image's threshold: own captions never outrank their image's best one.
      for (let r = 0; r < q; r++) {
        const i = owner[start + r];
        if (ownScore[r] > threshold[i]) i2tCounts[i] -= 1;
      }
    }
    const i2tRanks = Int32Array.from(i2tCounts);
    const i2t = summarizeRanks(i2tRanks);
    const t2i = summarizeRanks(t2iRanks);
    const rsum = i2t.r1 + i2t.r5 + i2t.r10 + t2i.r1 + t2i.r5 + t2i.r10;
    return { i2t, t2i, rsum, images: nImages, texts: nTexts, i2tRanks, t2iRanks };
  } finally {
    await session.dispose();
  }
}

/** Result of {@link recallFolds}: each fold's result and their average. */
export interface FoldedRecall {
  folds: RecallResult[];
  /** Every figure averaged over the folds, as the COCO 1K protocol reports it. */
  mean: { i2t: DirectionRecall; t2i: DirectionRecall; rsum: number };
}

function meanOf(results: readonly RecallResult[], key: 'i2t' | 't2i'): DirectionRecall {
  const avg = (f: keyof DirectionRecall): number =>
    results.reduce((s, r) => s + r[key][f], 0) / results.length;
  return { r1: avg('r1'), r5: avg('r5'), r10: avg('r10'), medr: avg('medr'), meanr: avg('meanr') };
}

/**
 * The COCO 1K protocol: the images cut into `folds` consecutive equal parts (5 folds of 1000 for
 * the 5000 test images), each scored against its own captions only, and the figures averaged.
 * @throws RangeError when the images do not divide into the folds.
 */
export async function recallFolds(
  imageEmb: Float32Array,
  textEmb: Float32Array,
  options: RecallOptions & { folds: number },
): Promise<FoldedRecall> {
  const { dim, folds } = options;
  const nImages = imageEmb.length / dim;
  const nTexts = textEmb.length / dim;
  if (!(Number.isInteger(folds) && folds >= 1 && nImages % folds === 0)) {
    throw new RangeError(`${nImages} images do not divide into ${folds} folds`);
  }
  const owner = captionImages(nImages, nTexts, options);
  const size = nImages / folds;
  const results: RecallResult[] = [];
  for (let f = 0; f < folds; f++) {
    const captions: number[] = [];
    owner.forEach((i, j) => {
      if (i >= f * size && i < (f + 1) * size) captions.push(j);
    });
    const texts = new Float32Array(captions.length * dim);
    captions.forEach((j, c) => texts.set(textEmb.subarray(j * dim, (j + 1) * dim), c * dim));
    const images = imageEmb.subarray(f * size * dim, (f + 1) * size * dim);
    const textToImage = captions.map((j) => owner[j] - f * size);
    results.push(
      await recallAtK(images, texts, { ...options, captionsPerImage: undefined, textToImage }),
    );
  }
  const i2t = meanOf(results, 'i2t');
  const t2i = meanOf(results, 't2i');
  return {
    folds: results,
    mean: { i2t, t2i, rsum: results.reduce((s, r) => s + r.rsum, 0) / folds },
  };
}
