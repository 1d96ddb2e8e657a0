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
 * float32).
 */
export function upsampleBilinear(maps: MapBatch, height: number, width: number): MapBatch {
  const { data, count, height: h, width: w } = maps;
  const ys = axisWeights(h, height);
  const xs = axisWeights(w, width);
  const out = new Float32Array(count * height * width);
  for (let m = 0; m < count; m++) {
    const src = m * h * w;
    const dst = m * height * width;
    for (let i = 0; i < height; i++) {
      const r0 = src + ys.lo[i] * w;
      const r1 = src + ys.hi[i] * w;
      const ty = ys.t[i];
      for (let j = 0; j < width; j++) {
        const a = xs.lo[j];
        const b = xs.hi[j];
        const tx = xs.t[j];
        const top = data[r0 + a] * (1 - tx) + data[r0 + b] * tx;
        const bottom = data[r1 + a] * (1 - tx) + data[r1 + b] * tx;
        out[dst + i * width + j] = top * (1 - ty) + bottom * ty;
      }
    }
  }
  return { data: out, count, height, width };
}

/** Rescales each map to [0, 1] by its own minimum and maximum; a constant map becomes 0. */
export function minMaxNormalize(maps: MapBatch): MapBatch {
  const size = maps.height * maps.width;
  const out = new Float32Array(maps.data.length);
  for (let m = 0; m < maps.count; m++) {
    const map = maps.data.subarray(m * size, (m + 1) * size);
    let lo = Infinity;
    let hi = -Infinity;
    for (const v of map) {
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    const range = hi - lo;
    if (!(range > 0)) continue;
    for (let i = 0; i < size; i++) out[m * size + i] = (map[i] - lo) / range;
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
