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

/**
 * A top-k state counting k = 1 ... maxK, all zero.
 * @example
 * ```ts
 * emptyTopK(5); // { n: 0, correct: [0, 0, 0, 0, 0] }
 * ```
 */
export function emptyTopK(maxK: number): TopKState {
  return { n: 0, correct: new Array<number>(maxK).fill(0) };
}

/**
 * Rank of each sample's label among its scores: the number of classes scored strictly higher
 * (0 = top-1). Ties count in the label's favour, as `torch.topk`-based accuracy does for
 * distinct scores. O(rows * classes).
 * @example
 * ```ts
 * labelRanks(new Float32Array([0.1, 0.9, 0.8, 0.2]), [1, 1], 2); // Int32Array [0, 1]
 * ```
 */
export function labelRanks(
  scores: ArrayLike<number>,
  labels: ArrayLike<number>,
  classes: number,
): Int32Array {
  const rows = labels.length;
  if (scores.length !== rows * classes) {
    throw new RangeError(
      `scores hold ${scores.length} values; ` +
        `${rows} labels x ${classes} classes need ${rows * classes}`,
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

/**
 * Adds a batch of scores `[rows, classes]` to a state, in place.
 * @example
 * ```ts
 * const state = emptyTopK(2);
 * addTopK(state, new Float32Array([0.1, 0.9, 0.8, 0.2]), [1, 1], 2);
 * state; // { n: 2, correct: [1, 2] }
 * ```
 */
export function addTopK(
  state: TopKState,
  scores: ArrayLike<number>,
  labels: ArrayLike<number>,
  classes: number,
): void {
  const ranks = labelRanks(scores, labels, classes);
  state.n += ranks.length;
  for (const rank of ranks) {
    for (let k = rank; k < state.correct.length; k++) state.correct[k] += 1;
  }
}

/**
 * Combines states of disjoint shards; the counts equal those of one pass over both.
 * @example
 * ```ts
 * mergeTopK({ n: 2, correct: [1, 2] }, { n: 1, correct: [0, 1] }); // { n: 3, correct: [1, 3] }
 * ```
 */
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
  scores: ArrayLike<number>,
  labels: ArrayLike<number>,
  options: { classes: number; k?: number },
): number {
  const k = options.k ?? 1;
  const state = emptyTopK(k);
  addTopK(state, scores, labels, options.classes);
  return state.n === 0 ? NaN : state.correct[k - 1] / state.n;
}
