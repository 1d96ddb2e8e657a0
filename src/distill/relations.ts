/**
 * The relation losses themselves, read off teacher and student Gram matrices: pair-wise cosine
 * distributions (KL), angles at an anchor (MSE) and Euclidean distances (L1, MSE or Huber). Word
 * relations and layer transforming relations differ only in what the rows of the Gram matrices
 * are (a sequence's tokens, or a token's layers), so both use these. Everything is float64.
 */
import type { GramSet } from './gram-sets.js';

/** A sum of per-element losses and how many elements it holds; the loss is their ratio. */
export interface Accumulated {
  sum: number;
  count: number;
}

/** Loss of a distance relation: `'l1'` |e|, `'mse'` e^2, `'huber'` as torch's `huber_loss`. */
export type DistanceLossKind = 'l1' | 'mse' | 'huber';

/** Options of the distance relations. */
export interface DistanceOptions {
  /** Loss on the difference e of teacher and student distances (default `'huber'`). */
  loss?: DistanceLossKind;
  /** Divide each group's distances by their mean over its pairs (default true, as RKD). */
  normalize?: boolean;
  /** Huber's delta: 0.5 e^2 for |e| <= delta, else delta (|e| - delta / 2) (default 1). */
  huberDelta?: number;
}

/** Floor of a norm before dividing by it, as torch's `F.normalize` (eps 1e-12). */
export const NORM_EPS = 1e-12;

/** The mean of an accumulated loss, 0 when nothing was counted (no valid pair or triplet). */
export function meanOf(acc: Accumulated): number {
  return acc.count > 0 ? acc.sum / acc.count : 0;
}

function largest(set: GramSet): number {
  let max = 0;
  for (let g = 0; g < set.sizes.length; g++) max = Math.max(max, set.sizes[g]);
  return max;
}

function inverseNorms(g: Float64Array, o: number, n: number, out: Float64Array): void {
  for (let i = 0; i < n; i++)
    out[i] = 1 / Math.max(Math.sqrt(Math.max(g[o + i * n + i], 0)), NORM_EPS);
}

/**
 * Pair-wise cosine relation: per row i of each group, softmax over j != i of the cosines, then
 * KL(teacher || student) summed over j; counted once per ordered pair (i, j), i != j. O(n^2).
 */
export function pairKl(t: GramSet, s: GramSet): Accumulated {
  const size = largest(t);
  const invT = new Float64Array(size);
  const invS = new Float64Array(size);
  const gt = t.data;
  const gs = s.data;
  let sum = 0;
  let count = 0;
  for (let g = 0; g < t.sizes.length; g++) {
    const n = t.sizes[g];
    if (n < 2) continue;
    inverseNorms(gt, t.offsets[g], n, invT);
    inverseNorms(gs, s.offsets[g], n, invS);
    for (let i = 0; i < n; i++) {
      const rowT = t.offsets[g] + i * n;
      const rowS = s.offsets[g] + i * n;
      // KL(p || q) = sum_j p_j (a_j - b_j) - log zT + log zS for p = e^a / zT, q = e^b / zS.
      // Cosines lie in [-1, 1], so exp needs no max-shift to stay finite.
      let zT = 0;
      let zS = 0;
      let cross = 0;
      for (let j = 0; j < n; j++) {
        if (j === i) continue;
        const a = gt[rowT + j] * invT[i] * invT[j];
        const b = gs[rowS + j] * invS[i] * invS[j];
        const e = Math.exp(a);
        zT += e;
        zS += Math.exp(b);
        cross += e * (a - b);
      }
      sum += cross / zT - Math.log(zT) + Math.log(zS);
      count += n - 1;
    }
  }
  return { sum, count };
}

/**
 * First index of the window of `window` items centred on `i` among `n`, shifted to stay inside
 * [0, n): max(0, min(i - floor(window / 2), n - window)), and 0 when `n <= window`.
 */
export function windowStart(i: number, n: number, window: number): number {
  if (n <= window) return 0;
  return Math.max(0, Math.min(i - Math.floor(window / 2), n - window));
}

/**
 * Angle relation: for each anchor i of each group and every j != k in its window, both != i,
 * the cosine of the angle at i between r_j and r_k, from G as
 * (G_jk - G_ij - G_ik + G_ii) / (|r_j - r_i| |r_k - r_i|); squared teacher-student differences
 * summed, one count per ordered triplet. `window` Infinity is the full relation. O(n w^2).
 */
export function angleMse(t: GramSet, s: GramSet, window: number): Accumulated {
  const size = Math.min(largest(t), window);
  const uT = new Float64Array(size);
  const uS = new Float64Array(size);
  const invT = new Float64Array(size);
  const invS = new Float64Array(size);
  let sum = 0;
  let count = 0;
  for (let g = 0; g < t.sizes.length; g++) {
    const n = t.sizes[g];
    if (n < 3) continue;
    const m = Math.min(n, window);
    for (let i = 0; i < n; i++) {
      const start = windowStart(i, n, window);
      differenceNorms(t.data, t.offsets[g], n, i, start, m, uT, invT);
      differenceNorms(s.data, s.offsets[g], n, i, start, m, uS, invS);
      const giiT = t.data[t.offsets[g] + i * n + i];
      const giiS = s.data[s.offsets[g] + i * n + i];
      let acc = 0;
      for (let a = 0; a < m; a++) {
        if (start + a === i) continue;
        const rowT = t.offsets[g] + (start + a) * n + start;
        const rowS = s.offsets[g] + (start + a) * n + start;
        const baseT = giiT - uT[a];
        const baseS = giiS - uS[a];
        for (let c = a + 1; c < m; c++) {
          if (start + c === i) continue;
          const cosT = (t.data[rowT + c] - uT[c] + baseT) * invT[a] * invT[c];
          const cosS = (s.data[rowS + c] - uS[c] + baseS) * invS[a] * invS[c];
          const d = cosT - cosS;
          acc += d * d;
        }
      }
      sum += 2 * acc;
      count += (m - 1) * (m - 2);
    }
  }
  return { sum, count };
}

/** For j in the window: u_j = G_ij and 1 / max(|r_j - r_i|, eps). */
function differenceNorms(
  g: Float64Array,
  o: number,
  n: number,
  i: number,
  start: number,
  m: number,
  u: Float64Array,
  inv: Float64Array,
): void {
  const gii = g[o + i * n + i];
  for (let a = 0; a < m; a++) {
    const j = start + a;
    const gij = g[o + i * n + j];
    u[a] = gij;
    const squared = g[o + j * n + j] - 2 * gij + gii;
    inv[a] = 1 / Math.max(Math.sqrt(Math.max(squared, 0)), NORM_EPS);
  }
}

/**
 * Distance relation: Euclidean distances |r_i - r_j| = sqrt(G_ii + G_jj - 2 G_ij) of every
 * pair i != j of a group, optionally divided by the group's mean distance, then L1, MSE or
 * Huber on teacher minus student; one count per ordered pair. O(n^2).
 */
export function distanceLoss(t: GramSet, s: GramSet, options: DistanceOptions = {}): Accumulated {
  const { loss = 'huber', normalize = true, huberDelta = 1 } = options;
  const size = largest(t);
  const dT = new Float64Array((size * (size - 1)) / 2);
  const dS = new Float64Array(dT.length);
  let sum = 0;
  let count = 0;
  for (let g = 0; g < t.sizes.length; g++) {
    const n = t.sizes[g];
    if (n < 2) continue;
    const pairs = (n * (n - 1)) / 2;
    const scaleT = pairDistances(t.data, t.offsets[g], n, dT, normalize);
    const scaleS = pairDistances(s.data, s.offsets[g], n, dS, normalize);
    let acc = 0;
    for (let p = 0; p < pairs; p++) {
      const e = dT[p] * scaleT - dS[p] * scaleS;
      const abs = Math.abs(e);
      if (loss === 'l1') acc += abs;
      else if (loss === 'mse' || abs <= huberDelta) acc += loss === 'mse' ? e * e : 0.5 * e * e;
      else acc += huberDelta * (abs - 0.5 * huberDelta);
    }
    sum += 2 * acc;
    count += 2 * pairs;
  }
  return { sum, count };
}

/** Writes the upper-triangle distances into `out`; returns 1 / their mean (or 1). */
function pairDistances(
  g: Float64Array,
  o: number,
  n: number,
  out: Float64Array,
  normalize: boolean,
): number {
  let p = 0;
  let total = 0;
  for (let i = 0; i < n; i++) {
    const gii = g[o + i * n + i];
    for (let j = i + 1; j < n; j++) {
      const d = Math.sqrt(Math.max(gii + g[o + j * n + j] - 2 * g[o + i * n + j], 0));
      out[p++] = d;
      total += d;
    }
  }
  // A group whose tokens all coincide has mean 0; its distances stay as they are (all 0).
  return normalize && total > 0 ? p / total : 1;
}
