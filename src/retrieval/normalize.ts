/**
 * L2 normalization of embedding rows, with the checks every retrieval input needs: a whole
 * number of rows, no NaN or infinity, no all-zero row.
 */

/**
 * The inverse L2 norm of every row (float64), checking the rows on the way.
 * @throws RangeError naming `what` and the row for NaN, infinities or an all-zero row, and for
 * data that is not a whole number of rows of `dim`.
 */
export function rowScales(data: Float32Array, dim: number, what: string): Float64Array {
  if (!(Number.isInteger(dim) && dim >= 1)) {
    throw new RangeError(`dim must be a positive integer, got ${dim}`);
  }
  if (data.length % dim !== 0) {
    throw new RangeError(
      `${what} hold ${data.length} values, not a whole number of rows of dim ${dim}`,
    );
  }
  const scales = new Float64Array(data.length / dim);
  for (let r = 0; r < scales.length; r++) {
    let sum = 0;
    for (let k = r * dim; k < (r + 1) * dim; k++) sum += data[k] * data[k];
    if (!Number.isFinite(sum)) throw new RangeError(`${what} row ${r} holds NaN or an infinity`);
    if (sum === 0) throw new RangeError(`${what} row ${r} is all zeros and has no direction`);
    scales[r] = 1 / Math.sqrt(sum);
  }
  return scales;
}

/** Rows `start .. start + rows - 1` of `data` scaled to unit length by `scales`, as a copy. */
export function scaleRows(
  data: Float32Array,
  scales: Float64Array,
  dim: number,
  start = 0,
  rows = scales.length - start,
): Float32Array {
  const out = new Float32Array(rows * dim);
  for (let r = 0; r < rows; r++) {
    const scale = scales[start + r];
    const from = (start + r) * dim;
    for (let k = 0; k < dim; k++) out[r * dim + k] = data[from + k] * scale;
  }
  return out;
}

/**
 * Unit-length copies of the rows.
 * @throws RangeError as {@link rowScales} does.
 * @example
 * ```ts
 * normalizeRows(Float32Array.of(3, 4), 2, 'queries'); // Float32Array [0.6, 0.8]
 * ```
 */
export function normalizeRows(data: Float32Array, dim: number, what: string): Float32Array {
  return scaleRows(data, rowScales(data, dim, what), dim);
}
