/**
 * Rank correlations between two score lists, for asking whether a cheap proxy (flatness, a
 * zero-cost score) orders models as their accuracy does: Kendall's tau-b, Spearman's rho and the
 * average ranks both build on.
 */

/** Compares numbers with `<` and `>` only, so that -0 equals 0 and infinities order correctly. */
function compare(a: number, b: number): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function checkValues(name: string, values: ArrayLike<number>): void {
  for (let i = 0; i < values.length; i++) {
    if (Number.isNaN(values[i])) {
      throw new RangeError(
        `${name}[${i}] is NaN; rank correlations need every value: drop or replace the NaNs first`,
      );
    }
  }
}

function checkPair(x: ArrayLike<number>, y: ArrayLike<number>): void {
  if (x.length !== y.length) {
    throw new RangeError(
      `x and y must have the same length, got ${x.length} and ${y.length}: pass one score per item`,
    );
  }
  if (x.length < 2) {
    throw new RangeError(`a rank correlation needs at least 2 pairs, got ${x.length}`);
  }
  checkValues('x', x);
  checkValues('y', y);
}

/**
 * Average ranks, 1-based, as `scipy.stats.rankdata(values, method='average')`: tied values
 * share the mean of the ranks they span. O(n log n).
 * @throws RangeError for a NaN.
 *
 * @example
 * ```ts
 * rankData([10, 30, 20, 20]); // Float64Array [1, 4, 2.5, 2.5]
 * ```
 */
export function rankData(values: ArrayLike<number>): Float64Array {
  checkValues('values', values);
  const n = values.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) =>
    compare(values[a], values[b]),
  );
  const ranks = new Float64Array(n);
  let start = 0;
  while (start < n) {
    let end = start + 1;
    while (end < n && values[order[end]] === values[order[start]]) end++;
    // Positions start..end-1 hold ranks start+1..end; their mean is (start + 1 + end) / 2.
    const rank = (start + 1 + end) / 2;
    for (let k = start; k < end; k++) ranks[order[k]] = rank;
    start = end;
  }
  return ranks;
}

/** Pairs within runs of equal neighbours of a sorted list of n: sum of t (t - 1) / 2 per run. */
function tiedPairs(n: number, same: (a: number, b: number) => boolean): number {
  let pairs = 0;
  let run = 1;
  for (let k = 1; k <= n; k++) {
    if (k < n && same(k - 1, k)) {
      run++;
    } else {
      pairs += (run * (run - 1)) / 2;
      run = 1;
    }
  }
  return pairs;
}

/**
 * Sorts `keys` ascending in place (stable merge sort) and returns the number of inversions:
 * pairs i < j with keys[i] > keys[j]. Equal keys are not inversions.
 */
function sortCountingInversions(keys: Float64Array): number {
  const n = keys.length;
  let from: Float64Array = keys;
  let to: Float64Array = new Float64Array(n);
  let inversions = 0;
  for (let width = 1; width < n; width *= 2) {
    for (let lo = 0; lo < n; lo += 2 * width) {
      const mid = Math.min(lo + width, n);
      const hi = Math.min(lo + 2 * width, n);
      let i = lo;
      let j = mid;
      let k = lo;
      while (i < mid && j < hi) {
        if (from[j] < from[i]) {
          inversions += mid - i;
          to[k++] = from[j++];
        } else {
          to[k++] = from[i++];
        }
      }
      while (i < mid) to[k++] = from[i++];
      while (j < hi) to[k++] = from[j++];
    }
    [from, to] = [to, from];
  }
  if (from !== keys) keys.set(from);
  return inversions;
}

/**
 * Kendall's tau-b, as `scipy.stats.kendalltau(x, y, variant='b')`: (concordant - discordant) /
 * sqrt((n0 - n1) (n0 - n2)), with n0 = n (n - 1) / 2 pairs and n1, n2 the pairs tied in x and in
 * y. Computed by Knight's (1966) O(n log n) algorithm: sort by (x, y), then count the swaps a
 * merge sort of y needs. NaN when x or y is constant (no untied pair), as scipy returns.
 * @throws RangeError when the lengths differ, fewer than 2 pairs are given, or a value is NaN.
 *
 * @example
 * ```ts
 * kendallTau([1, 2, 3, 4], [1, 3, 2, 4]); // 0.6666666666666669 (scipy: the same)
 * kendallTau([1, 1, 2, 3], [1, 2, 2, 3]); // 0.7999999999999999 (scipy: the same)
 * ```
 */
export function kendallTau(x: ArrayLike<number>, y: ArrayLike<number>): number {
  checkPair(x, y);
  const n = x.length;
  const order = Array.from({ length: n }, (_, i) => i).sort(
    (a, b) => compare(x[a], x[b]) || compare(y[a], y[b]),
  );
  const xs = Float64Array.from(order, (i) => x[i]);
  const ys = Float64Array.from(order, (i) => y[i]);
  const pairs = (n * (n - 1)) / 2;
  const xTies = tiedPairs(n, (a, b) => xs[a] === xs[b]);
  const jointTies = tiedPairs(n, (a, b) => xs[a] === xs[b] && ys[a] === ys[b]);

  // Within a run of tied x, y is already ascending, so every swap is a discordant pair.
  const discordant = sortCountingInversions(ys);
  const yTies = tiedPairs(n, (a, b) => ys[a] === ys[b]);
  if (xTies === pairs || yTies === pairs) return NaN;

  const difference = pairs - xTies - yTies + jointTies - 2 * discordant;
  const tau = difference / Math.sqrt(pairs - xTies) / Math.sqrt(pairs - yTies);
  return Math.min(1, Math.max(-1, tau));
}

/**
 * Spearman's rho, as `scipy.stats.spearmanr(x, y)`: the Pearson correlation of the average
 * ranks (`rankData`), so ties are handled exactly. O(n log n). NaN when x or y is constant, as
 * scipy returns.
 * @throws RangeError when the lengths differ, fewer than 2 pairs are given, or a value is NaN.
 *
 * @example
 * ```ts
 * spearman([1, 2, 3, 4], [1, 3, 2, 4]); // 0.8 (scipy: 0.7999999999999999)
 * spearman([1, 2, 3], [9, 4, 1]);       // -1
 * ```
 */
export function spearman(x: ArrayLike<number>, y: ArrayLike<number>): number {
  checkPair(x, y);
  const rx = rankData(x);
  const ry = rankData(y);
  // Average ranks always have mean (n + 1) / 2.
  const mean = (rx.length + 1) / 2;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < rx.length; i++) {
    const dx = rx[i] - mean;
    const dy = ry[i] - mean;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  if (sxx === 0 || syy === 0) return NaN;
  return Math.min(1, Math.max(-1, sxy / Math.sqrt(sxx * syy)));
}
