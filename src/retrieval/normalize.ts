/**
 * L2 normalization of embedding rows, with the checks every retrieval input needs: a whole
 * number of rows, no NaN or infinity, no all-zero row.
 */
import { dot64 } from '../runtime/dot.js';

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
    const sum = dot64(data, r * dim, data, r * dim, dim);
    if (!Number.isFinite(sum)) throw new RangeError(`${what} row ${r} holds NaN or an infinity`);
    if (sum === 0) throw new RangeError(`${what} row ${r} is all zeros and has no direction`);
    scales[r] = 1 / Math.sqrt(sum);
  }
  return scales;
}

/**
 * Rows `start .. start + rows - 1` of `data` scaled to unit length by `scales`: into `out`
 * (from its start) when given, else into a new array.
 */
export function scaleRows(
  data: Float32Array,
  scales: Float64Array,
  dim: number,
  start = 0,
  rows = scales.length - start,
  out = new Float32Array(rows * dim),
): Float32Array {
  if (out.length < rows * dim) {
    throw new RangeError(`scaleRows: ${rows} rows of ${dim} do not fit ${out.length} values`);
  }
  for (let r = 0; r < rows; r++) {
    const scale = scales[start + r];
    let from = (start + r) * dim;
    const end = from + dim;
    for (let o = r * dim; from < end; from++, o++) out[o] = data[from] * scale;
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
