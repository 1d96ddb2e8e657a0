/**
 * The Gram matrices the relation losses read: one per sequence over its real tokens (word
 * relations), or one per real token over the matched layers (layer transforming relations).
 * Computed by the TypeScript kernel; the token Gram matrices also by a caller's
 * {@link GramFunction}, such as the ONNX Runtime one of `gram-ort.ts`.
 */
import { gramInto } from './gram-kernel.js';
import type { HiddenStates, ValidTokens } from './hidden-states.js';

/**
 * Batched Gram matrices: for `x` row major `[batch, rows, cols]`, the `[batch, rows, rows]`
 * products x x^T, row major. May be async (ONNX Runtime) or not.
 */
export type GramFunction = (
  x: Float32Array,
  dims: readonly [number, number, number],
) => Promise<Float32Array | Float64Array> | Float32Array | Float64Array;

/**
 * Square matrices of varying size packed in one array: matrix `g` has `sizes[g]` rows and
 * starts at `offsets[g]`, row major.
 */
export interface GramSet {
  readonly data: Float64Array;
  readonly sizes: Int32Array;
  readonly offsets: Int32Array;
}

/** Zero-filled matrices of the given sizes, packed. */
function allocate(sizes: Int32Array): GramSet {
  const offsets = new Int32Array(sizes.length);
  let total = 0;
  for (let g = 0; g < sizes.length; g++) {
    offsets[g] = total;
    total += sizes[g] * sizes[g];
  }
  return { data: new Float64Array(total), sizes, offsets };
}

function sequenceSizes(valid: ValidTokens): Int32Array {
  const sizes = new Int32Array(valid.batch);
  for (let b = 0; b < valid.batch; b++) sizes[b] = valid.starts[b + 1] - valid.starts[b];
  return sizes;
}

/**
 * Per sequence, the Gram matrix of its real tokens' hidden states, in the TypeScript kernel.
 * O(sum over sequences of n^2 hidden / 2).
 */
export function tokenGrams(layer: HiddenStates, valid: ValidTokens): GramSet {
  const [, tokens, hidden] = layer.dims;
  const set = allocate(sequenceSizes(valid));
  const rows = new Int32Array(tokens);
  for (let b = 0; b < valid.batch; b++) {
    const n = set.sizes[b];
    for (let i = 0; i < n; i++) {
      rows[i] = (b * tokens + valid.positions[valid.starts[b] + i]) * hidden;
    }
    gramInto(layer.data, {
      rows: rows.subarray(0, n),
      d: hidden,
      out: set.data,
      outOffset: set.offsets[b],
    });
  }
  return set;
}

/**
 * The same as {@link tokenGrams} through `gram`, which sees every position, padding included;
 * the real tokens' entries are gathered from its output.
 * @throws RangeError when `gram` returns the wrong number of values.
 */
export async function tokenGramsWith(
  gram: GramFunction,
  layer: HiddenStates,
  valid: ValidTokens,
): Promise<GramSet> {
  const [batch, tokens, hidden] = layer.dims;
  const full = await gram(layer.data, [batch, tokens, hidden]);
  checkLength(full, batch * tokens * tokens);
  const set = allocate(sequenceSizes(valid));
  for (let b = 0; b < batch; b++) {
    const n = set.sizes[b];
    const at = valid.positions.subarray(valid.starts[b], valid.starts[b + 1]);
    const base = b * tokens * tokens;
    // Positions increase, so the last one is n - 1 exactly when the real tokens are 0..n-1.
    const prefix = n > 0 && at[n - 1] === n - 1;
    for (let i = 0; i < n; i++) {
      const row = base + at[i] * tokens;
      const o = set.offsets[b] + i * n;
      if (prefix) set.data.set(full.subarray(row, row + n), o);
      else for (let j = 0; j < n; j++) set.data[o + j] = full[row + at[j]];
    }
  }
  return set;
}

function checkLength(values: ArrayLike<number>, expected: number): void {
  if (values?.length !== expected) {
    throw new RangeError(
      `the gram function returned ${String(values?.length)} values where [batch, rows, rows] ` +
        `needs ${expected}; it must return x x^T for every batch entry`,
    );
  }
}

/**
 * Per real token, the `L x L` Gram matrix of its hidden states in the given layers (all of one
 * model, same dims). The L rows are copied side by side first so that the kernel streams one
 * array. O(tokens L^2 hidden / 2).
 */
export function layerGrams(layers: readonly HiddenStates[], valid: ValidTokens): GramSet {
  const count = layers.length;
  const hidden = layers[0].dims[2];
  const tokens = valid.positions.length;
  const set = allocate(new Int32Array(tokens).fill(count));
  const scratch = new Float32Array(count * hidden);
  const rows = Int32Array.from({ length: count }, (_, l) => l * hidden);
  forEachToken(
    valid,
    (token, from) => {
      for (let l = 0; l < count; l++) {
        scratch.set(layers[l].data.subarray(from, from + hidden), l * hidden);
      }
      gramInto(scratch, { rows, d: hidden, out: set.data, outOffset: set.offsets[token] });
    },
    hidden,
  );
  return set;
}

/** Calls `visit(token, offset)` for every real token, with its hidden-state offset in a layer. */
function forEachToken(
  valid: ValidTokens,
  visit: (token: number, offset: number) => void,
  hidden: number,
): void {
  for (let b = 0; b < valid.batch; b++) {
    for (let t = valid.starts[b]; t < valid.starts[b + 1]; t++) {
      visit(t, (b * valid.tokens + valid.positions[t]) * hidden);
    }
  }
}
