/**
 * The random masks of RISE (Petsiuk et al. 2018): coarse binary grids, bilinearly upsampled and
 * shifted by less than one cell. Seeded; grids and shifts can also be given, to reproduce another
 * implementation's masks.
 */
import { Random } from '../../search/random.js';
import { upsampleBilinear } from './maps.js';

/** Options of {@link riseMasks}. */
export interface RiseMaskOptions {
  /** Number of random masks (default 1000). */
  masks?: number;
  /** Cells per side of the coarse binary grid (default 7). */
  cells?: number;
  /** Probability that a cell is kept (default 0.5). */
  keep?: number;
  /** Seed of the grids and shifts (default 0). */
  seed?: number;
  /**
   * {@link riseMasks}: the coarse grids `[count, cells, cells]` (1 kept, 0 dropped) instead of
   * random ones; `count` is then taken from them.
   */
  grids?: ArrayLike<number>;
  /** {@link riseMasks}: the shifts `[count, 2]` as (dy, dx) pairs instead of random ones. */
  offsets?: ArrayLike<number>;
}

/** Defaults of {@link riseMasks}. */
export const RISE_DEFAULTS = Object.freeze({ masks: 1000, cells: 7, keep: 0.5, seed: 0 });

/** Checks given grids and offsets; returns the mask count they imply. */
function checkGiven(options: RiseMaskOptions, cells: number, cellH: number, cellW: number): number {
  const { grids, offsets } = options;
  const count =
    grids !== undefined ? grids.length / (cells * cells) : (options.masks ?? RISE_DEFAULTS.masks);
  if (grids !== undefined && !(Number.isInteger(count) && count >= 1)) {
    throw new RangeError(
      `grids hold ${grids.length} values, not a positive multiple of ${cells}x${cells} cells`,
    );
  }
  if (offsets === undefined) return count;
  if (offsets.length !== 2 * count) {
    throw new RangeError(`offsets hold ${offsets.length} values; ${count} masks need ${2 * count}`);
  }
  for (let n = 0; n < count; n++) {
    const [dy, dx] = [offsets[2 * n], offsets[2 * n + 1]];
    const fits = (d: number, cell: number) => Number.isInteger(d) && d >= 0 && d < cell;
    if (!fits(dy, cellH) || !fits(dx, cellW)) {
      throw new RangeError(
        `offset ${n} is (${dy}, ${dx}); shifts are whole pixels from (0, 0) to ` +
          `(${cellH - 1}, ${cellW - 1}), less than one ${cellH}x${cellW} cell`,
      );
    }
  }
  return count;
}

/**
 * RISE's masks: a `cells x cells` grid of kept (1) or dropped (0) cells, bilinearly upsampled to
 * `(cells + 1)` cell sizes (cells of `ceil(height / cells)` by `ceil(width / cells)` pixels) and
 * cropped at a random shift of up to one cell, so that mask edges fall anywhere. Grids and
 * shifts are drawn per mask (grid, then dy, then dx) unless `grids` or `offsets` give them.
 * Returns `[count, height, width]`.
 */
export function riseMasks(
  height: number,
  width: number,
  options: RiseMaskOptions = {},
): Float32Array {
  const cells = options.cells ?? RISE_DEFAULTS.cells;
  const keep = options.keep ?? RISE_DEFAULTS.keep;
  const cellH = Math.ceil(height / cells);
  const cellW = Math.ceil(width / cells);
  const count = checkGiven(options, cells, cellH, cellW);
  if (!(Number.isInteger(count) && count >= 1))
    throw new RangeError(`masks must be a positive integer, got ${count}`);
  if (!(keep > 0 && keep <= 1)) throw new RangeError(`keep must be in (0, 1], got ${keep}`);
  const rng = new Random(options.seed ?? RISE_DEFAULTS.seed);
  const bigH = (cells + 1) * cellH;
  const bigW = (cells + 1) * cellW;
  const out = new Float32Array(count * height * width);
  const grid = new Float32Array(cells * cells);
  const { grids, offsets } = options;
  for (let n = 0; n < count; n++) {
    for (let i = 0; i < grid.length; i++) {
      grid[i] = grids ? grids[n * grid.length + i] : rng.uniform() < keep ? 1 : 0;
    }
    const big = upsampleBilinear({ data: grid, count: 1, height: cells, width: cells }, bigH, bigW);
    const dy = offsets ? offsets[2 * n] : Math.floor(rng.uniform() * cellH);
    const dx = offsets ? offsets[2 * n + 1] : Math.floor(rng.uniform() * cellW);
    for (let y = 0; y < height; y++) {
      const from = (y + dy) * bigW + dx;
      out.set(big.data.subarray(from, from + width), (n * height + y) * width);
    }
  }
  return out;
}
