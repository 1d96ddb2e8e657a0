/**
 * Classification counts: argmax predictions, the confusion matrix as a mergeable state, and
 * per-class accuracy read from it.
 */
import { checkClassIndices, checkCount, checkMatrix, checkSameLength } from './check.js';

/**
 * Index of the highest score in each row of `scores` `[rows, classes]`, as `numpy.argmax` along
 * the last axis: ties go to the first index, and a row holding NaN gives its first NaN's index.
 * O(rows * classes).
 * @example
 * ```ts
 * argmax(new Float32Array([0.1, 0.7, 0.2, 0.5, 0.5, 0.0]), 2, 3); // Int32Array [1, 0]
 * ```
 */
export function argmax(scores: ArrayLike<number>, rows: number, classes: number): Int32Array {
  checkMatrix('scores', scores, rows, classes);
  const out = new Int32Array(rows);
  for (let r = 0; r < rows; r++) {
    const base = r * classes;
    let best = 0;
    for (let c = 0; c < classes; c++) {
      const v = scores[base + c];
      if (Number.isNaN(v)) {
        best = c;
        break;
      }
      if (v > scores[base + best]) best = c;
    }
    out[r] = best;
  }
  return out;
}

/** Confusion counts over any number of batches; merge states of disjoint shards by adding. */
export interface ConfusionState {
  classes: number;
  /**
   * Row-major `[classes, classes]` counts: row = true label, column = prediction. Int32 cells,
   * so one cell holds at most 2^31 - 1 samples.
   */
  counts: Int32Array;
}

/**
 * A confusion state with all counts zero.
 * @example
 * ```ts
 * emptyConfusion(2).counts; // Int32Array [0, 0, 0, 0]
 * ```
 */
export function emptyConfusion(classes: number): ConfusionState {
  checkCount('classes', classes, 1);
  return { classes, counts: new Int32Array(classes * classes) };
}

/**
 * Adds a batch of predicted and true class indices to a state, in place.
 * @example
 * ```ts
 * const state = emptyConfusion(2);
 * addConfusion(state, [1, 1], [0, 1]);
 * state.counts; // Int32Array [0, 1, 0, 1]
 * ```
 */
export function addConfusion(
  state: ConfusionState,
  preds: ArrayLike<number>,
  labels: ArrayLike<number>,
): void {
  const { classes, counts } = state;
  checkSameLength('preds', preds, 'labels', labels);
  checkClassIndices('preds', preds, classes);
  checkClassIndices('labels', labels, classes);
  for (let i = 0; i < labels.length; i++) counts[labels[i] * classes + preds[i]] += 1;
}

/**
 * Combines the states of two disjoint shards into a new state; the counts equal those of one
 * pass over both shards.
 * @example
 * ```ts
 * const a = emptyConfusion(2);
 * addConfusion(a, [0], [0]);
 * const b = emptyConfusion(2);
 * addConfusion(b, [0], [1]);
 * mergeConfusion(a, b).counts; // Int32Array [1, 0, 1, 0]
 * ```
 */
export function mergeConfusion(a: ConfusionState, b: ConfusionState): ConfusionState {
  if (a.classes !== b.classes) {
    throw new RangeError(
      `cannot merge a ${a.classes}-class confusion state with a ${b.classes}-class one; ` +
        'build both with the same classes',
    );
  }
  const counts = new Int32Array(a.counts.length);
  for (let i = 0; i < counts.length; i++) counts[i] = a.counts[i] + b.counts[i];
  return { classes: a.classes, counts };
}

/**
 * Confusion matrix `[classes, classes]`, row-major, row = true label, column = prediction, as
 * `sklearn.metrics.confusion_matrix(labels, preds)`. O(n + classes^2).
 * @example
 * ```ts
 * confusionMatrix([0, 1, 1], [0, 0, 1], 2); // Int32Array [1, 1, 0, 1]
 * ```
 */
export function confusionMatrix(
  preds: ArrayLike<number>,
  labels: ArrayLike<number>,
  classes: number,
): Int32Array {
  const state = emptyConfusion(classes);
  addConfusion(state, preds, labels);
  return state.counts;
}

/**
 * Accuracy within each true class (the diagonal over the row sum: per-class recall, as
 * `sklearn.metrics.recall_score(average=None)`), from a confusion matrix `[classes, classes]`
 * with rows = true labels. A class with no samples gets NaN, where scikit-learn reports 0 with
 * a warning. O(classes^2).
 * @example
 * ```ts
 * perClassAccuracy(new Int32Array([3, 1, 0, 0]), 2); // Float64Array [0.75, NaN]
 * ```
 */
export function perClassAccuracy(matrix: ArrayLike<number>, classes: number): Float64Array {
  checkMatrix('matrix', matrix, classes, classes);
  const out = new Float64Array(classes);
  for (let r = 0; r < classes; r++) {
    let support = 0;
    for (let c = 0; c < classes; c++) support += matrix[r * classes + c];
    out[r] = support === 0 ? NaN : matrix[r * classes + r] / support;
  }
  return out;
}
