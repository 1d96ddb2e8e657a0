/**
 * The benchmarks' synthetic data: the same numbers in TypeScript and in the Python baselines
 * (`hash_uniform` in tools/bench/), so both sides of a comparison read identical inputs.
 */

/** Values in [-1, 1) from a 32-bit hash of (seed, index). */
export function hashUniform(seed: number, count: number): Float32Array {
  const out = new Float32Array(count);
  const mix = Math.imul(seed, 0x85ebca77);
  for (let i = 0; i < count; i++) {
    let h = Math.imul(i + 1, 0x9e3779b1) ^ mix;
    h ^= h >>> 15;
    h = Math.imul(h, 0x2c1b3c6d);
    h ^= h >>> 12;
    h = Math.imul(h, 0x297a2d39);
    h ^= h >>> 15;
    out[i] = (h >>> 0) / 2 ** 31 - 1;
  }
  return out;
}
