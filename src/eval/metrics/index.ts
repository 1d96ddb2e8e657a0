/**
 * Pure metric functions over typed arrays for accuracy, calibration and out-of-distribution
 * evaluation. No Node imports: they run in the browser too.
 * @example
 * ```ts
 * import { auroc, energy } from './metrics/index.js';
 * const logits = new Float32Array([4, 0, 0, 0.1, 0.2, 0, 0, 5, 0, 0.1, 0, 0.1]);
 * auroc(energy(logits, 4, 3), [0, 1, 0, 1]); // 1
 * ```
 */
export {
  argmax,
  confusionMatrix,
  perClassAccuracy,
  emptyConfusion,
  addConfusion,
  mergeConfusion,
} from './accuracy.js';
export type { ConfusionState } from './accuracy.js';
export {
  ece,
  emptyEce,
  addEce,
  mergeEce,
  eceFromState,
  rmsCalibrationError,
  softmax,
  nll,
  brier,
} from './calibration.js';
export type { EceState } from './calibration.js';
export { auroc, aupr, fpr95, rocCurve, prCurve } from './ood.js';
export type { RocCurve, PrCurve } from './ood.js';
export { negMaxSoftmax, negMaxLogit, energy, entropy } from './anomaly-scores.js';
export { topK, labelRanks, emptyTopK, addTopK, mergeTopK } from '../top-k.js';
export type { TopKState } from '../top-k.js';
