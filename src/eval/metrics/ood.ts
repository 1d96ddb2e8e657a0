/**
 * Out-of-distribution detection metrics over per-sample `scores` (higher = more likely
 * positive) and binary `labels` (1 = positive, 0 = negative), matching scikit-learn's ranking
 * metrics, ties included. For OOD detection, label the OOD samples 1 and pass anomaly scores
 * (see anomaly-scores.ts), which grow with how anomalous a sample looks.
 *
 * Every function sorts once: O(n log n). Scores must be finite and both classes present; a
 * RangeError names the offending value otherwise (scikit-learn raises on the same input).
 */
import { checkBinary, checkFinite, checkSameLength } from './check.js';

/** ROC curve points, as `sklearn.metrics.roc_curve(drop_intermediate=False)`. */
export interface RocCurve {
  /** False positive rate at each threshold, rising from 0 to 1. */
  fpr: Float64Array;
  /** True positive rate at each threshold, rising from 0 to 1. */
  tpr: Float64Array;
  /** Decreasing distinct scores; the first is Infinity (the point (0, 0)). */
  thresholds: Float64Array;
}

/** Precision-recall curve points, as `sklearn.metrics.precision_recall_curve`. */
export interface PrCurve {
  /** Precision at each threshold, then a final 1. */
  precision: Float64Array;
  /** Recall at each threshold, falling to 1 ... 0, with a final 0. */
  recall: Float64Array;
  /** Increasing distinct scores; one fewer than `precision` and `recall`. */
  thresholds: Float64Array;
}

/** Cumulative counts per distinct score, highest score first. */
interface RankCounts {
  /** Positives scoring >= thresholds[i]. */
  tps: Float64Array;
  /** Negatives scoring >= thresholds[i]. */
  fps: Float64Array;
  thresholds: Float64Array;
  positives: number;
  negatives: number;
}

/** Sorts once; counts positives and negatives at or above each distinct score (ties: one step). */
function rankCounts(scores: ArrayLike<number>, labels: ArrayLike<number>): RankCounts {
  checkSameLength('scores', scores, 'labels', labels);
  checkFinite('scores', scores);
  const n = labels.length;
  const positives = checkBinary('labels', labels);
  const negatives = n - positives;
  if (positives === 0 || negatives === 0) {
    throw new RangeError(
      `labels hold ${positives} positives (1) and ${negatives} negatives (0); the metric needs ` +
        'both classes present',
    );
  }

  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  order.sort((a, b) => scores[b] - scores[a]);

  const tps: number[] = [];
  const fps: number[] = [];
  const thresholds: number[] = [];
  let tp = 0;
  for (let i = 0; i < n; i++) {
    tp += labels[order[i]];
    const s = scores[order[i]];
    if (i === n - 1 || scores[order[i + 1]] !== s) {
      tps.push(tp);
      fps.push(i + 1 - tp);
      thresholds.push(s);
    }
  }
  return {
    tps: Float64Array.from(tps),
    fps: Float64Array.from(fps),
    thresholds: Float64Array.from(thresholds),
    positives,
    negatives,
  };
}

/**
 * ROC curve with every distinct score as a threshold, as `sklearn.metrics.roc_curve` with
 * `drop_intermediate=False`: starts at (0, 0) with threshold Infinity (scikit-learn >= 1.3; older
 * versions put `max(scores) + 1` there), then one point per distinct score, descending.
 * @example
 * ```ts
 * rocCurve([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1]);
 * // { fpr: Float64Array [0, 0, 0.5, 0.5, 1], tpr: Float64Array [0, 0.5, 0.5, 1, 1],
 * //   thresholds: Float64Array [Infinity, 0.8, 0.4, 0.35, 0.1] }
 * ```
 */
export function rocCurve(scores: ArrayLike<number>, labels: ArrayLike<number>): RocCurve {
  const { tps, fps, thresholds, positives, negatives } = rankCounts(scores, labels);
  const m = tps.length + 1;
  const out: RocCurve = {
    fpr: new Float64Array(m),
    tpr: new Float64Array(m),
    thresholds: new Float64Array(m),
  };
  out.thresholds[0] = Infinity;
  for (let i = 1; i < m; i++) {
    out.fpr[i] = fps[i - 1] / negatives;
    out.tpr[i] = tps[i - 1] / positives;
    out.thresholds[i] = thresholds[i - 1];
  }
  return out;
}

/**
 * Precision-recall curve, as `sklearn.metrics.precision_recall_curve`: one point per distinct
 * score in increasing order, then the point (recall 0, precision 1) with no threshold.
 * @example
 * ```ts
 * prCurve([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1]);
 * // { precision: Float64Array [0.5, 0.6666666666666666, 0.5, 1, 1],
 * //   recall: Float64Array [1, 1, 0.5, 0.5, 0], thresholds: Float64Array [0.1, 0.35, 0.4, 0.8] }
 * ```
 */
export function prCurve(scores: ArrayLike<number>, labels: ArrayLike<number>): PrCurve {
  const { tps, fps, thresholds, positives } = rankCounts(scores, labels);
  const m = tps.length;
  const out: PrCurve = {
    precision: new Float64Array(m + 1),
    recall: new Float64Array(m + 1),
    thresholds: new Float64Array(m),
  };
  for (let i = 0; i < m; i++) {
    const j = m - 1 - i;
    out.precision[i] = tps[j] / (tps[j] + fps[j]);
    out.recall[i] = tps[j] / positives;
    out.thresholds[i] = thresholds[j];
  }
  out.precision[m] = 1;
  return out;
}

/**
 * Area under the ROC curve, equal to `sklearn.metrics.roc_auc_score`: trapezoids between the
 * points of `rocCurve`, so tied scores count half (the Mann-Whitney U statistic / (P * N)). The
 * areas are summed as integer counts and divided once.
 * @example
 * ```ts
 * auroc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1]); // 0.75
 * ```
 */
export function auroc(scores: ArrayLike<number>, labels: ArrayLike<number>): number {
  const { tps, fps, positives, negatives } = rankCounts(scores, labels);
  let twiceArea = 0;
  let prevTp = 0;
  let prevFp = 0;
  for (let i = 0; i < tps.length; i++) {
    twiceArea += (fps[i] - prevFp) * (tps[i] + prevTp);
    prevTp = tps[i];
    prevFp = fps[i];
  }
  return twiceArea / (2 * positives * negatives);
}

/**
 * Average precision, equal to `sklearn.metrics.average_precision_score`: the step-wise sum over
 * distinct scores (descending, ties as one step) of `(recall_i - recall_{i-1}) * precision_i`,
 * without interpolation.
 * @example
 * ```ts
 * aupr([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1]); // 0.8333333333333333
 * ```
 */
export function aupr(scores: ArrayLike<number>, labels: ArrayLike<number>): number {
  const { tps, fps, positives } = rankCounts(scores, labels);
  let total = 0;
  let prevTp = 0;
  for (let i = 0; i < tps.length; i++) {
    total += ((tps[i] - prevTp) / positives) * (tps[i] / (tps[i] + fps[i]));
    prevTp = tps[i];
  }
  return total;
}

/**
 * False positive rate at the first point of `rocCurve` (thresholds descending, ties grouped,
 * starting at (0, 0)) whose true positive rate is >= `recall`: with scikit-learn,
 * `fpr[np.argmax(tpr >= recall)]` on `roc_curve(drop_intermediate=False)`. This never reports a
 * recall below the level; variants that pick the point whose recall is closest to the level
 * (as some OOD code does) can.
 * @param options.recall True positive rate to reach, in [0, 1], default 0.95.
 * @example
 * ```ts
 * fpr95([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1]); // 0.5
 * ```
 */
export function fpr95(
  scores: ArrayLike<number>,
  labels: ArrayLike<number>,
  options: { recall?: number } = {},
): number {
  const recall = options.recall ?? 0.95;
  if (!(recall >= 0 && recall <= 1)) {
    throw new RangeError(`options.recall is ${recall}; expected a true positive rate in [0, 1]`);
  }
  const { tps, fps, positives, negatives } = rankCounts(scores, labels);
  if (recall <= 0) return 0;

  // tps / positives, not tps >= recall * positives: the same float test scikit-learn's tpr makes.
  let i = 0;
  while (tps[i] / positives < recall) i++;
  return fps[i] / negatives;
}
