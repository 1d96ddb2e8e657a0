/**
 * Which weights a flatness measurement perturbs, and the random directions it moves them in.
 */
import type { LiftedWeight } from '../runtime/onnx/edit.js';
import type { Random } from './random.js';

/** `all` floating-point weights, or all but biases and normalization parameters (rank <= 1). */
export type WeightSubset = 'all' | 'no-bias-norm';

/**
 * `gaussian`: isotropic N(0, 1) per element (GeNAS). `filter-normalized`: each filter's direction
 * (a slice along the first axis) rescaled to that filter's norm, and rank <= 1 weights left
 * still, as Li et al. (2018) visualize loss landscapes.
 */
export type DirectionKind = 'gaussian' | 'filter-normalized';

/**
 * Whether a weight of these dims is perturbed. Single-element tensors are never perturbed: in an
 * exported graph they are constants such as the epsilon of a normalization written out as
 * operators, not learned weights, and noise on them can make the graph compute NaN.
 */
export function selectsWeight(subset: WeightSubset, dims: readonly number[]): boolean {
  if (dims.reduce((a, b) => a * b, 1) < 2) return false;
  return subset === 'all' || dims.length > 1;
}

/**
 * A random direction for `weight`, one N(0, 1) draw per element (drawn for every element, also
 * where it is then zeroed, so that a seed gives the same draws whatever the direction kind).
 */
export function direction(weight: LiftedWeight, kind: DirectionKind, rng: Random): Float32Array {
  const d = new Float32Array(weight.data.length);
  rng.fillGaussian(d);
  if (kind === 'gaussian') return d;
  if (weight.dims.length <= 1) return d.fill(0);
  const filters = weight.dims[0];
  const size = d.length / filters;
  for (let f = 0; f < filters; f++) {
    let wn = 0;
    let dn = 0;
    for (let i = f * size; i < (f + 1) * size; i++) {
      wn += weight.data[i] * weight.data[i];
      dn += d[i] * d[i];
    }
    const scale = Math.sqrt(wn) / (Math.sqrt(dn) + 1e-10);
    for (let i = f * size; i < (f + 1) * size; i++) d[i] *= scale;
  }
  return d;
}
