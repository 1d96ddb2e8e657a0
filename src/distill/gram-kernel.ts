/**
 * The Gram matrix of a set of rows, G = R R^T, in plain TypeScript: the one matrix product the
 * relation losses need. Rows are float32, sums are JavaScript numbers (float64), so G is exact to
 * float64 rounding whatever the hidden size; only the upper triangle is computed, in 4 x 4 tiles
 * that stream eight rows at a time, then mirrored.
 */
import { dot64 } from '../runtime/dot.js';

/**
 * Writes the `n x n` Gram matrix of the rows of `x` that start at `rows[0..n-1]`, each `d`
 * values long, into `out` from `outOffset`, row major. O(n^2 d / 2).
 *
 * @example
 * ```ts
 * const g = new Float64Array(4);
 * gramInto(Float32Array.from([1, 2, 3, 4]), { rows: [0, 2], d: 2, out: g });
 * g; // Float64Array [5, 11, 11, 25]
 * ```
 */
export function gramInto(
  x: Float32Array,
  options: { rows: ArrayLike<number>; d: number; out: Float64Array; outOffset?: number },
): void {
  const { rows, d, out } = options;
  const o = options.outOffset ?? 0;
  const n = rows.length;
  const full = n - (n % 4);
  for (let i = 0; i < full; i += 4) {
    for (let j = i; j + 4 <= n; j += 4) tile4x4(x, rows, d, i, j, out, o, n);
    for (let c = n - (n % 4); c < n; c++) column4(x, rows, d, i, c, out, o, n);
  }
  for (let r = full; r < n; r++) {
    for (let c = r; c < n; c++) {
      const v = dot64(x, rows[r], x, rows[c], d);
      out[o + r * n + c] = v;
      out[o + c * n + r] = v;
    }
  }
}

/** One 4 x 4 tile of results, reused. */
const TILE = new Float64Array(16);

/** Rows i..i+3 against rows j..j+3, written to both triangles. */
function tile4x4(
  x: Float32Array,
  rows: ArrayLike<number>,
  d: number,
  i: number,
  j: number,
  out: Float64Array,
  o: number,
  n: number,
): void {
  const a0 = rows[i];
  const a1 = rows[i + 1];
  const a2 = rows[i + 2];
  const a3 = rows[i + 3];
  const b0 = rows[j];
  const b1 = rows[j + 1];
  const b2 = rows[j + 2];
  const b3 = rows[j + 3];
  let s00 = 0, s01 = 0, s02 = 0, s03 = 0, s10 = 0, s11 = 0, s12 = 0, s13 = 0; // prettier-ignore
  let s20 = 0, s21 = 0, s22 = 0, s23 = 0, s30 = 0, s31 = 0, s32 = 0, s33 = 0; // prettier-ignore
  for (let k = 0; k < d; k++) {
    const x0 = x[a0 + k];
    const x1 = x[a1 + k];
    const x2 = x[a2 + k];
    const x3 = x[a3 + k];
    const y0 = x[b0 + k];
    const y1 = x[b1 + k];
    const y2 = x[b2 + k];
    const y3 = x[b3 + k];
    s00 += x0 * y0;
    s01 += x0 * y1;
    s02 += x0 * y2;
    s03 += x0 * y3;
    s10 += x1 * y0;
    s11 += x1 * y1;
    s12 += x1 * y2;
    s13 += x1 * y3;
    s20 += x2 * y0;
    s21 += x2 * y1;
    s22 += x2 * y2;
    s23 += x2 * y3;
    s30 += x3 * y0;
    s31 += x3 * y1;
    s32 += x3 * y2;
    s33 += x3 * y3;
  }
  TILE.set([s00, s01, s02, s03, s10, s11, s12, s13, s20, s21, s22, s23, s30, s31, s32, s33]);
  for (let r = 0; r < 4; r++) {
    for (let c = 0; c < 4; c++) {
      out[o + (i + r) * n + j + c] = TILE[r * 4 + c];
      out[o + (j + c) * n + i + r] = TILE[r * 4 + c];
    }
  }
}

/** Rows i..i+3 against the single row c, written to both triangles. */
function column4(
  x: Float32Array,
  rows: ArrayLike<number>,
  d: number,
  i: number,
  c: number,
  out: Float64Array,
  o: number,
  n: number,
): void {
  const a0 = rows[i];
  const a1 = rows[i + 1];
  const a2 = rows[i + 2];
  const a3 = rows[i + 3];
  const b = rows[c];
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  for (let k = 0; k < d; k++) {
    const y = x[b + k];
    s0 += x[a0 + k] * y;
    s1 += x[a1 + k] * y;
    s2 += x[a2 + k] * y;
    s3 += x[a3 + k] * y;
  }
  const row = o + c * n + i;
  out[row] = s0;
  out[row + 1] = s1;
  out[row + 2] = s2;
  out[row + 3] = s3;
  const col = o + i * n + c;
  out[col] = s0;
  out[col + n] = s1;
  out[col + 2 * n] = s2;
  out[col + 3 * n] = s3;
}
