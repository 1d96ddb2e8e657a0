/**
 * Calibration metrics over per-sample confidences and correctness (ECE, RMS calibration error)
 * and over logits or probabilities `[rows, classes]` (softmax, negative log-likelihood, Brier
 * score). All sums run in float64.
 */
import {
  checkBinary,
  checkClassIndices,
  checkCount,
  checkMatrix,
  checkProbabilities,
  checkSameLength,
} from './check.js';
import { rowMax, rowShiftedLogSum } from './log-sum-exp.js';

/**
 * Per-bin sums of the expected calibration error, mergeable across shards.
 *
 * Merging adds float sums in another order than one pass over all samples, so `eceFromState`
 * of a merged state can differ from the one-pass value in the last bits (about 1e-16 relative).
 * A caller that needs bit-identical results keeps the per-sample confidences and correctness in
 * sample order and calls `ece` once on all of them.
 */
export interface EceState {
  bins: number;
  /** Samples per bin. */
  count: Float64Array;
  /** Sum of the confidences per bin. */
  sumConfidence: Float64Array;
  /** Number of correct samples per bin. */
  sumCorrect: Float64Array;
}

/**
 * An ECE state with `bins` empty equal-width bins over [0, 1].
 * @example
 * ```ts
 * emptyEce(15).count.length; // 15
 * ```
 */
export function emptyEce(bins: number): EceState {
  checkCount('bins', bins, 1);
  return {
    bins,
    count: new Float64Array(bins),
    sumConfidence: new Float64Array(bins),
    sumCorrect: new Float64Array(bins),
  };
}

/**
 * Adds a batch to an ECE state, in place. A confidence goes to bin
 * `min(bins - 1, floor(confidence * bins))`, so 1.0 lands in the last bin.
 * @example
 * ```ts
 * const state = emptyEce(2);
 * addEce(state, new Float32Array([0.25, 1]), [1, 1]);
 * state.count; // Float64Array [1, 1]
 * ```
 */
export function addEce(
  state: EceState,
  confidences: ArrayLike<number>,
  correct: ArrayLike<number>,
): void {
  checkSameLength('confidences', confidences, 'correct', correct);
  checkProbabilities('confidences', confidences);
  checkBinary('correct', correct);
  const { bins } = state;
  for (let i = 0; i < confidences.length; i++) {
    const b = Math.min(bins - 1, Math.floor(confidences[i] * bins));
    state.count[b] += 1;
    state.sumConfidence[b] += confidences[i];
    state.sumCorrect[b] += correct[i];
  }
}

/**
 * Combines the ECE states of two disjoint shards into a new state.
 * @example
 * ```ts
 * const a = emptyEce(2);
 * addEce(a, [0.9], [1]);
 * const b = emptyEce(2);
 * addEce(b, [0.6], [0]);
 * eceFromState(mergeEce(a, b)); // 0.25
 * ```
 */
export function mergeEce(a: EceState, b: EceState): EceState {
  if (a.bins !== b.bins) {
    throw new RangeError(
      `cannot merge ECE states with ${a.bins} and ${b.bins} bins; build both with the same bins`,
    );
  }
  const out = emptyEce(a.bins);
  for (let i = 0; i < a.bins; i++) {
    out.count[i] = a.count[i] + b.count[i];
    out.sumConfidence[i] = a.sumConfidence[i] + b.sumConfidence[i];
    out.sumCorrect[i] = a.sumCorrect[i] + b.sumCorrect[i];
  }
  return out;
}

/**
 * Expected calibration error of a state: the sum over non-empty bins B of
 * `(|B| / n) * |accuracy(B) - meanConfidence(B)|`. NaN when the state holds no samples.
 * @example
 * ```ts
 * const state = emptyEce(15);
 * addEce(state, [0.5, 0.5], [1, 1]);
 * eceFromState(state); // 0.5
 * ```
 */
export function eceFromState(state: EceState): number {
  let n = 0;
  for (const c of state.count) n += c;
  if (n === 0) return NaN;

  let total = 0;
  for (let b = 0; b < state.bins; b++) {
    const c = state.count[b];
    if (c > 0) total += (c / n) * Math.abs(state.sumCorrect[b] / c - state.sumConfidence[b] / c);
  }
  return total;
}

/**
 * Expected calibration error with equal-width bins (Guo et al., "On Calibration of Modern Neural
 * Networks", ICML 2017). Bin index is `min(bins - 1, floor(confidence * bins))`: bins are closed
 * on the left, and 1.0 falls in the last bin. (Guo et al.'s code closes bins on the right
 * instead, so there a confidence of exactly 0 falls in no bin.) `correct` holds 0 or 1 per
 * sample; confidences outside [0, 1] or NaN throw a RangeError. Empty input gives NaN.
 * @param options.bins Number of bins, default 15.
 * @example
 * ```ts
 * ece([0.9, 0.6, 1], [1, 0, 1]); // 0.2333333333333333
 * ```
 */
export function ece(
  confidences: ArrayLike<number>,
  correct: ArrayLike<number>,
  options: { bins?: number } = {},
): number {
  const state = emptyEce(options.bins ?? 15);
  addEce(state, confidences, correct);
  return eceFromState(state);
}

/**
 * RMS calibration error exactly as the ImageNet-A/-O evaluation code (Hendrycks et al., "Natural
 * Adversarial Examples", CVPR 2021, `calib_err` with `p='2'`, `beta=binSize`) computes it: sort
 * by confidence, cut into `floor(n / binSize)` bins of `binSize` consecutive samples with the
 * last bin extended to the end, and return
 * `sqrt(sum over bins of (|B| / n) * (meanConfidence(B) - accuracy(B))^2)`.
 *
 * Faithful quirks of that code: the sum runs over all bins but the last one (its loop is
 * `range(len(bins) - 1)`), so the highest-confidence samples never count, and for
 * `binSize <= n < 2 * binSize` there is one bin and the result is 0. The sort here is stable
 * (ties keep input order); numpy's default `argsort` is not, so when tied confidences straddle a
 * bin edge the reference can put other samples in each bin and give another value.
 *
 * Fewer than `binSize` samples throw a RangeError (the reference crashes there on an empty bin
 * list). Confidences outside [0, 1] or NaN throw too. O(n log n).
 * @param options.binSize Samples per bin, default 100.
 * @example
 * ```ts
 * rmsCalibrationError([0.9, 0.2, 0.8, 0.6, 0.4], [1, 0, 0, 1, 1], { binSize: 2 });
 * // 0.12649110640673514 (the last bin, 0.6 to 0.9, is left out)
 * ```
 */
export function rmsCalibrationError(
  confidences: ArrayLike<number>,
  correct: ArrayLike<number>,
  options: { binSize?: number } = {},
): number {
  const binSize = options.binSize ?? 100;
  checkCount('options.binSize', binSize, 1);
  checkSameLength('confidences', confidences, 'correct', correct);
  checkProbabilities('confidences', confidences);
  checkBinary('correct', correct);
  const n = confidences.length;
  if (n < binSize) {
    throw new RangeError(
      `rmsCalibrationError needs at least binSize = ${binSize} samples, got ${n}; ` +
        'pass more samples or a smaller options.binSize',
    );
  }

  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  order.sort((a, b) => confidences[a] - confidences[b] || a - b);

  const bins = Math.floor(n / binSize);
  let squared = 0;
  for (let b = 0; b < bins - 1; b++) {
    let sumConfidence = 0;
    let sumCorrect = 0;
    for (let i = b * binSize; i < (b + 1) * binSize; i++) {
      sumConfidence += confidences[order[i]];
      sumCorrect += correct[order[i]];
    }
    const gap = sumConfidence / binSize - sumCorrect / binSize;
    squared += (binSize / n) * gap * gap;
  }
  return Math.sqrt(squared);
}

/**
 * Softmax of each row of `logits` `[rows, classes]`, shifted by the row maximum so that large
 * logits do not overflow (as `torch.softmax`). NaN in a row makes that row NaN.
 * @example
 * ```ts
 * softmax([0, Math.log(3), 1000, 1000], 2, 2); // Float64Array [0.25, 0.7499999999999999, 0.5, 0.5]
 * ```
 */
export function softmax(logits: ArrayLike<number>, rows: number, classes: number): Float64Array {
  checkMatrix('logits', logits, rows, classes);
  const out = new Float64Array(rows * classes);
  for (let r = 0; r < rows; r++) {
    const base = r * classes;
    const top = rowMax(logits, base, classes);
    let sum = 0;
    for (let c = 0; c < classes; c++) {
      out[base + c] = Math.exp(logits[base + c] - top);
      sum += out[base + c];
    }
    for (let c = 0; c < classes; c++) out[base + c] /= sum;
  }
  return out;
}

/**
 * Mean negative log-likelihood of the labels under the softmax of `logits` `[rows, classes]`,
 * through a max-shifted log-softmax (as `torch.nn.functional.cross_entropy`, mean reduction).
 * NaN logits propagate; empty input gives NaN.
 * @example
 * ```ts
 * nll(new Float32Array([0, 0, 2, 0]), [0, 0], 2); // 0.41003759580145893
 * ```
 */
export function nll(logits: ArrayLike<number>, labels: ArrayLike<number>, classes: number): number {
  const rows = labels.length;
  checkMatrix('logits', logits, rows, classes);
  checkClassIndices('labels', labels, classes);
  let total = 0;
  for (let r = 0; r < rows; r++) {
    const base = r * classes;
    const top = rowMax(logits, base, classes);
    total += rowShiftedLogSum(logits, base, classes, top) - (logits[base + labels[r]] - top);
  }
  return total / rows;
}

/**
 * Multi-class Brier score (Brier 1950): mean over samples of `sum_c (probs_c - onehot_c)^2`,
 * from 0 (perfect) to 2, for `probs` `[rows, classes]`. The probabilities are not checked to sum
 * to 1; NaN propagates; empty input gives NaN.
 * @example
 * ```ts
 * brier(new Float32Array([0.75, 0.25, 0.5, 0.5]), [0, 1], 2); // 0.3125
 * ```
 */
export function brier(
  probs: ArrayLike<number>,
  labels: ArrayLike<number>,
  classes: number,
): number {
  const rows = labels.length;
  checkMatrix('probs', probs, rows, classes);
  checkClassIndices('labels', labels, classes);
  let total = 0;
  for (let r = 0; r < rows; r++) {
    const base = r * classes;
    for (let c = 0; c < classes; c++) {
      const d = probs[base + c] - (c === labels[r] ? 1 : 0);
      total += d * d;
    }
  }
  return total / rows;
}
