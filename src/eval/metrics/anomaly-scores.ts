/**
 * Per-sample anomaly scores from classifier logits `[rows, classes]`, higher = more anomalous
 * (more likely out-of-distribution), ready for `auroc`, `aupr` and `fpr95` with OOD samples
 * labelled 1. Each returns a `Float64Array` of `rows` scores. NaN in a row gives NaN for that row.
 */
import { checkMatrix } from './check.js';
import { rowLogSumExp, rowMax, rowShiftedLogSum } from './log-sum-exp.js';

/**
 * Negative maximum softmax probability: the baseline of Hendrycks & Gimpel, "A Baseline for
 * Detecting Misclassified and Out-of-Distribution Examples", ICLR 2017, negated.
 * @example
 * ```ts
 * negMaxSoftmax([0, Math.log(3), 0, 0], 2, 2); // Float64Array [-0.75, -0.5]
 * ```
 */
export function negMaxSoftmax(
  logits: ArrayLike<number>,
  rows: number,
  classes: number,
): Float64Array {
  checkMatrix('logits', logits, rows, classes);
  const out = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    const base = r * classes;
    out[r] = -Math.exp(-rowShiftedLogSum(logits, base, classes, rowMax(logits, base, classes)));
  }
  return out;
}

/**
 * Negative maximum logit: MaxLogit of Hendrycks et al., "Scaling Out-of-Distribution Detection
 * for Real-World Settings", ICML 2022, negated.
 * @example
 * ```ts
 * negMaxLogit(new Float32Array([1, 3, -2, -5]), 2, 2); // Float64Array [-3, 2]
 * ```
 */
export function negMaxLogit(
  logits: ArrayLike<number>,
  rows: number,
  classes: number,
): Float64Array {
  checkMatrix('logits', logits, rows, classes);
  const out = new Float64Array(rows);
  for (let r = 0; r < rows; r++) out[r] = -rowMax(logits, r * classes, classes);
  return out;
}

/**
 * Free energy `-T * logsumexp(logits / T)` (Liu et al., "Energy-based Out-of-distribution
 * Detection", NeurIPS 2020); in-distribution samples get lower energy.
 * @param options.temperature T > 0, default 1.
 * @example
 * ```ts
 * energy(new Float32Array([0, 0, 1000, 1000]), 2, 2);
 * // Float64Array [-0.6931471805599453, -1000.6931471805599]
 * ```
 */
export function energy(
  logits: ArrayLike<number>,
  rows: number,
  classes: number,
  options: { temperature?: number } = {},
): Float64Array {
  const temperature = options.temperature ?? 1;
  if (!(temperature > 0 && Number.isFinite(temperature))) {
    throw new RangeError(`options.temperature is ${temperature}; expected a finite number > 0`);
  }
  checkMatrix('logits', logits, rows, classes);
  const out = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    out[r] = -temperature * rowLogSumExp(logits, r * classes, classes, temperature);
  }
  return out;
}

/**
 * Shannon entropy of the softmax, in nats: `-sum_c p_c * log(p_c)` with `0 * log 0 = 0`,
 * computed through the log-softmax so that large logits stay exact.
 * @example
 * ```ts
 * entropy([0, 0, 0, -Infinity, 5, -Infinity], 2, 3); // Float64Array [1.0986122886681096, 0]
 * ```
 */
export function entropy(logits: ArrayLike<number>, rows: number, classes: number): Float64Array {
  checkMatrix('logits', logits, rows, classes);
  const out = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    const base = r * classes;
    const top = rowMax(logits, base, classes);
    const logSum = rowShiftedLogSum(logits, base, classes, top);
    let h = 0;
    for (let c = 0; c < classes; c++) {
      const logP = logits[base + c] - top - logSum;
      const p = Math.exp(logP);
      if (p > 0) h -= p * logP;
    }
    out[r] = Number.isNaN(logSum) ? NaN : h;
  }
  return out;
}
