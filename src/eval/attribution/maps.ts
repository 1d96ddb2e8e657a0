/**
 * Attribution maps as arrays: bilinear upsampling to the input size and min-max normalization,
 * both over batches of maps stored row major `[maps, height, width]`.
 */

/** A batch of maps, row major `[count, height, width]`. */
export interface MapBatch {
  data: Float32Array;
  count: number;
  height: number;
  width: number;
}

/** Source index pairs and weights of one axis under half-pixel (align_corners=False) mapping. */
function axisWeights(from: number, to: number) {
  const lo = new Int32Array(to);
  const hi = new Int32Array(to);
  const t = new Float64Array(to);
  const scale = from / to;
  for (let i = 0; i < to; i++) {
    const x = Math.max(0, (i + 0.5) * scale - 0.5);
    const x0 = Math.min(Math.floor(x), from - 1);
    lo[i] = x0;
    hi[i] = Math.min(x0 + 1, from - 1);
    t[i] = x - x0;
  }
  return { lo, hi, t };
}

/**
 * Bilinear resize with half-pixel centres and edge clamping, as PyTorch's
 * `F.interpolate(mode='bilinear', align_corners=False)` computes it (in float64, stored as
 * float32). Separable: each source row is resized along the width once, then rows are mixed,
 * the same sums in the same order as pixel by pixel, in O(count x (h + height) x width).
 */
export function upsampleBilinear(maps: MapBatch, height: number, width: number): MapBatch {
  const { data, count, height: h, width: w } = maps;
  const ys = axisWeights(h, height);
  const xs = axisWeights(w, width);
  const out = new Float32Array(count * height * width);
  const rows = new Float64Array(h * width);
  for (let m = 0; m < count; m++) {
    const src = m * h * w;
    for (let r = 0; r < h; r++) {
      const row = src + r * w;
      for (let j = 0; j < width; j++) {
        const tx = xs.t[j];
        rows[r * width + j] = data[row + xs.lo[j]] * (1 - tx) + data[row + xs.hi[j]] * tx;
      }
    }
    const dst = m * height * width;
    for (let i = 0; i < height; i++) {
      const r0 = ys.lo[i] * width;
      const r1 = ys.hi[i] * width;
      const ty = ys.t[i];
      const to = dst + i * width;
      for (let j = 0; j < width; j++) out[to + j] = rows[r0 + j] * (1 - ty) + rows[r1 + j] * ty;
    }
  }
  return { data: out, count, height, width };
}

/** Rescales each map to [0, 1] by its own minimum and maximum; a constant map becomes 0. */
export function minMaxNormalize(maps: MapBatch): MapBatch {
  const size = maps.height * maps.width;
  const { data } = maps;
  const out = new Float32Array(data.length);
  for (let m = 0; m < maps.count; m++) {
    const base = m * size;
    let lo = Infinity;
    let hi = -Infinity;
    for (let i = base; i < base + size; i++) {
      const v = data[i];
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    const range = hi - lo;
    if (!(range > 0)) continue;
    for (let i = base; i < base + size; i++) out[i] = (data[i] - lo) / range;
  }
  return { ...maps, data: out };
}

/** One map of a batch, as a view. */
export function mapAt(maps: MapBatch, index: number): Float32Array {
  const size = maps.height * maps.width;
  return maps.data.subarray(index * size, (index + 1) * size);
}

/** Softmax probability of `c` in row `b` of logits `[batch, classes]`, in float64. */
export function probability(logits: Float32Array, classes: number, b: number, c: number): number {
  let max = -Infinity;
  for (let k = 0; k < classes; k++) max = Math.max(max, logits[b * classes + k]);
  let sum = 0;
  for (let k = 0; k < classes; k++) sum += Math.exp(logits[b * classes + k] - max);
  return Math.exp(logits[b * classes + c] - max) / sum;
}

/** Index of the largest logit of each row, first on ties. */
export function predictedClasses(logits: Float32Array, classes: number): Int32Array {
  const rows = logits.length / classes;
  const out = new Int32Array(rows);
  for (let b = 0; b < rows; b++) {
    let best = 0;
    for (let c = 1; c < classes; c++)
      if (logits[b * classes + c] > logits[b * classes + best]) best = c;
    out[b] = best;
  }
  return out;
}
