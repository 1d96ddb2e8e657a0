/**
 * Row-wise maximum and max-shifted log-sum-exp, the shared steps of softmax, negative
 * log-likelihood, energy, entropy and the maximum-softmax score. Internal: not re-exported.
 */

/**
 * Largest of `values[offset + c] / temperature` over one row of `classes` values; NaN if the
 * row holds NaN.
 * @internal
 */
export function rowMax(
  values: ArrayLike<number>,
  offset: number,
  classes: number,
  temperature = 1,
): number {
  let top = -Infinity;
  for (let c = 0; c < classes; c++) {
    const v = values[offset + c] / temperature;
    if (Number.isNaN(v)) return NaN;
    if (v > top) top = v;
  }
  return top;
}

/**
 * `log(sum_c exp(values[offset + c] / temperature - top))` for the row maximum `top`: no `exp`
 * overflows, and subtracting it from a shifted logit gives the log-softmax without the rounding
 * of a large `top`. NaN if `top` is not finite.
 * @internal
 */
export function rowShiftedLogSum(
  values: ArrayLike<number>,
  offset: number,
  classes: number,
  top: number,
  temperature = 1,
): number {
  if (!Number.isFinite(top)) return NaN;
  let sum = 0;
  for (let c = 0; c < classes; c++) sum += Math.exp(values[offset + c] / temperature - top);
  return Math.log(sum);
}

/**
 * `log(sum_c exp(values[offset + c] / temperature))` over one row. A row holding NaN gives NaN;
 * a row whose maximum is +-Infinity gives that infinity (as `scipy.special.logsumexp`).
 * @internal
 */
export function rowLogSumExp(
  values: ArrayLike<number>,
  offset: number,
  classes: number,
  temperature = 1,
): number {
  const top = rowMax(values, offset, classes, temperature);
  if (!Number.isFinite(top)) return top;
  return top + rowShiftedLogSum(values, offset, classes, top, temperature);
}
