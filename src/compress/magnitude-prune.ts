/**
 * Unstructured global magnitude pruning (Han et al. 2015): the smallest-magnitude entries of all
 * kernels together are set to zero until the target fraction of kernel entries is zero.
 */
import type { OnnxModel } from '../runtime/onnx/model.js';
import { kernels } from './graph-index.js';

/** What a pruning pass did. */
export interface PruneResult {
  /** Kernel entries set to zero by this pass (entries already zero are not counted). */
  zeroed: number;
  /** Kernel entries in all. */
  total: number;
  /** Fraction of kernel entries that are zero afterwards. */
  sparsity: number;
  /** The kernels pruned, by name. */
  weights: string[];
}

/** Checks a pruning ratio: a number in [0, 1). */
export function checkRatio(ratio: number, name: string): void {
  if (typeof ratio !== 'number' || !(ratio >= 0 && ratio < 1)) {
    throw new RangeError(
      `${name} must be in [0, 1) (0.5 prunes half), got ${String(ratio)}; a ratio of 1 would ` +
        'remove every weight',
    );
  }
}

/**
 * Zeroes the `sparsity` fraction of smallest-magnitude kernel entries, over all kernels at once
 * (a global threshold, so layers with many small weights lose more). Ties at the threshold are
 * broken in weight order. Biases and normalization parameters are kept. O(n log n) in the
 * number of kernel entries.
 *
 * @throws RangeError for a sparsity outside [0, 1); Error when the model has no kernel.
 * @example
 * ```ts
 * const model = await loadOnnxModel('models/mnist-cnn.onnx');
 * pruneMagnitude(model, 0.5).sparsity; // 0.5
 * ```
 */
export function pruneMagnitude(model: OnnxModel, sparsity: number): PruneResult {
  checkRatio(sparsity, 'the prune ratio');
  const found = kernels(model.graph);
  if (found.length === 0) {
    throw new Error(
      'the model has no prunable weights (no float kernel of a Conv, Gemm or MatMul)',
    );
  }
  const data = found.map((k) => model.getWeight(k.name));
  const total = data.reduce((n, d) => n + d.length, 0);
  const target = Math.floor(sparsity * total);

  const magnitudes = new Float32Array(total);
  let offset = 0;
  for (const d of data) {
    for (let i = 0; i < d.length; i++) magnitudes[offset + i] = Math.abs(d[i]);
    offset += d.length;
  }
  const threshold = target === 0 ? -1 : magnitudes.slice().sort()[target - 1];
  let below = 0;
  for (let i = 0; i < total; i++) if (magnitudes[i] < threshold) below++;

  let atThreshold = target - below;
  let zeroed = 0;
  let zeros = 0;
  found.forEach((kernel, w) => {
    const d = data[w];
    for (let i = 0; i < d.length; i++) {
      const m = Math.abs(d[i]);
      const cut = m < threshold || (m === threshold && atThreshold-- > 0);
      if (cut && d[i] !== 0) zeroed++;
      if (cut) d[i] = 0;
      if (d[i] === 0) zeros++;
    }
    model.setWeight(kernel.name, d);
  });
  return { zeroed, total, sparsity: zeros / total, weights: found.map((k) => k.name) };
}

/** Fraction of kernel entries that are zero. */
export function kernelSparsity(model: OnnxModel): number {
  let zeros = 0;
  let total = 0;
  for (const kernel of kernels(model.graph)) {
    const d = model.getWeight(kernel.name);
    for (let i = 0; i < d.length; i++) if (d[i] === 0) zeros++;
    total += d.length;
  }
  return total === 0 ? 0 : zeros / total;
}
