/**
 * How differently the attention heads of a multi-head encoder look at their input.
 */
import type { AttentionMaps } from './embeddings.js';

/**
 * The diversity penalty of each item's heads, ||A A^T - I||_F with A its `[heads, positions]`
 * attention (the penalisation term of Lin et al. 2017, "A Structured Self-attentive Sentence
 * Embedding", which MHSAN trains with; they square it, pass `squared: true` for that). 0 when
 * every head puts all its weight on one position of its own; larger when heads overlap or
 * spread. O(count x heads^2 x positions), accumulated in float64.
 *
 * @example
 * ```ts
 * diversityPenalties({ heads: 2, positions: 2, data: Float32Array.of(1, 0, 0, 1) }); // [0]
 * diversityPenalties({ heads: 2, positions: 2, data: Float32Array.of(1, 0, 1, 0) }); // [1.414...]
 * ```
 */
export function diversityPenalties(
  attention: AttentionMaps,
  options: { squared?: boolean } = {},
): Float64Array {
  const { heads, positions, data } = attention;
  if (!(Number.isInteger(heads) && heads >= 1 && Number.isInteger(positions) && positions >= 1)) {
    throw new RangeError(
      `attention needs whole heads and positions >= 1, got heads ${heads}, positions ${positions}`,
    );
  }
  const size = heads * positions;
  if (data.length % size !== 0) {
    throw new RangeError(
      `attention holds ${data.length} values, not a whole number of [${heads}, ${positions}] maps`,
    );
  }
  const count = data.length / size;
  const out = new Float64Array(count);
  for (let item = 0; item < count; item++) {
    const base = item * size;
    let sum = 0;
    for (let a = 0; a < heads; a++) {
      for (let b = a; b < heads; b++) {
        let dot = 0;
        for (let p = 0; p < positions; p++) {
          dot += data[base + a * positions + p] * data[base + b * positions + p];
        }
        const d = a === b ? dot - 1 : dot;
        sum += a === b ? d * d : 2 * d * d;
      }
    }
    if (Number.isNaN(sum)) throw new RangeError(`attention map ${item} holds NaN`);
    out[item] = options.squared ? sum : Math.sqrt(sum);
  }
  return out;
}

/**
 * {@link diversityPenalties} averaged over the items, as a batch's penalty is in training.
 * @throws RangeError for maps that do not fit `heads x positions`, none at all, or NaN.
 */
export function diversityPenalty(
  attention: AttentionMaps,
  options: { squared?: boolean } = {},
): number {
  return meanPenalty(diversityPenalties(attention, { squared: true }), options);
}

/**
 * The mean of items' penalties given squared (`diversityPenalties(maps, { squared: true })`,
 * possibly of several parts of a split joined in order): the same figure, to the last bit, that
 * {@link diversityPenalty} gives on all the maps at once.
 * @throws RangeError for no items.
 */
export function meanPenalty(
  squared: ArrayLike<number>,
  options: { squared?: boolean } = {},
): number {
  if (squared.length === 0) throw new RangeError('no attention maps to average');
  let sum = 0;
  for (let i = 0; i < squared.length; i++) {
    sum += options.squared ? squared[i] : Math.sqrt(squared[i]);
  }
  return sum / squared.length;
}
