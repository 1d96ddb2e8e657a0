/**
 * Top-k accuracy as a mergeable state: counts from disjoint shards add up to the counts of one
 * run over all of them.
 */

/** Counts of correct predictions at each k, over `n` samples. */
export interface TopKState {
  n: number;
  /** `correct[k - 1]`: samples whose label is among the k highest scores. */
  correct: number[];
}

export function emptyTopK(maxK: number): TopKState {
  return { n: 0, correct: new Array<number>(maxK).fill(0) };
}

/**
 * Rank of each sample's label among its scores: the number of classes scored strictly higher
 * (0 = top-1). Ties count in the label's favour, as `torch.topk`-based accuracy does for
 * distinct scores. O(rows * classes).
 */
export function labelRanks(
  scores: Float32Array,
  labels: ArrayLike<number>,
  classes: number,
): Int32Array {
  const rows = labels.length;
  if (scores.length !== rows * classes) {
    throw new RangeError(
      `scores hold ${scores.length} values; ${rows} labels x ${classes} classes need ${rows * classes}`,
    );
  }
  const ranks = new Int32Array(rows);
  for (let r = 0; r < rows; r++) {
    const label = labels[r];
    if (!(Number.isInteger(label) && label >= 0 && label < classes)) {
      throw new RangeError(`label ${label} of row ${r} is outside [0, ${classes})`);
    }
    const base = r * classes;
    const target = scores[base + label];
    let higher = 0;
    for (let c = 0; c < classes; c++) if (scores[base + c] > target) higher++;
    ranks[r] = Number.isNaN(target) ? classes : higher;
  }
  return ranks;
}

/** Adds a batch of scores `[rows, classes]` to a state, in place. */
export function addTopK(
  state: TopKState,
  scores: Float32Array,
  labels: ArrayLike<number>,
  classes: number,
): void {
  const ranks = labelRanks(scores, labels, classes);
  state.n += ranks.length;
  for (const rank of ranks) {
    for (let k = rank; k < state.correct.length; k++) state.correct[k] += 1;
  }
}

/** Combines states of disjoint shards. */
export function mergeTopK(a: TopKState, b: TopKState): TopKState {
  if (a.correct.length !== b.correct.length) {
    throw new RangeError(
      `cannot merge top-${a.correct.length} with top-${b.correct.length} counts`,
    );
  }
  return { n: a.n + b.n, correct: a.correct.map((c, i) => c + b.correct[i]) };
}

/**
 * Fraction of rows whose label is among the k highest scores.
 * @example
 * ```ts
 * topK(new Float32Array([0.1, 0.9, 0.8, 0.2]), [1, 1], { classes: 2, k: 1 }); // 0.5
 * ```
 */
export function topK(
  scores: Float32Array,
  labels: ArrayLike<number>,
  options: { classes: number; k?: number },
): number {
  const k = options.k ?? 1;
  const state = emptyTopK(k);
  addTopK(state, scores, labels, options.classes);
  return state.n === 0 ? NaN : state.correct[k - 1] / state.n;
}
