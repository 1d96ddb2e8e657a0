/**
 * The resampler's fixed-point taps, as Pillow computes them: the filters, each output
 * position's first input, input count and 22-bit coefficients, and which source rows a crop
 * needs. Shared by the JavaScript passes (resample.ts) and the WebAssembly ones
 * (resample-wasm.ts), remembered per geometry.
 */
import type { Interpolation } from './presets.js';

export const PRECISION_BITS = 32 - 8 - 2;
export const HALF = 1 << (PRECISION_BITS - 1);
export const SCALE = 1 << PRECISION_BITS;
export const LIMIT = 255 * SCALE;

interface Filter {
  support: number;
  weight(x: number): number;
}

const FILTERS: Readonly<Record<Exclude<Interpolation, 'nearest'>, Filter>> = Object.freeze({
  bilinear: { support: 1, weight: (x) => Math.max(0, 1 - Math.abs(x)) },
  bicubic: {
    support: 2,
    weight: (v) => {
      const a = -0.5;
      const x = Math.abs(v);
      if (x < 1) return ((a + 2) * x - (a + 3)) * x * x + 1;
      if (x < 2) return (((x - 5) * x + 8) * x - 4) * a;
      return 0;
    },
  },
  lanczos: {
    support: 3,
    weight: (v) => {
      const sinc = (x: number): number => (x === 0 ? 1 : Math.sin(Math.PI * x) / (Math.PI * x));
      return Math.abs(v) < 3 ? sinc(v) * sinc(v / 3) : 0;
    },
  },
});

/** Fixed-point taps for output positions `[from, to)` of a resize from `inSize` to `outSize`. */
export interface Taps {
  /** First input index of each output position. */
  start: Int32Array;
  /** Number of input pixels of each output position. */
  count: Int32Array;
  /** `width` coefficients per output position. */
  weights: Int32Array;
  width: number;
}

/** Where to sample: the resized size, and the crop of it to compute. */
export interface ResampleRequest {
  resizeWidth: number;
  resizeHeight: number;
  left: number;
  top: number;
  width: number;
  height: number;
  interpolation: Interpolation;
}

const tapCache = new Map<string, Taps>();

/** Remembers `make()` under `key` for the last few geometries (a dataset repeats its sizes). */
function remembered(key: string, make: () => Taps): Taps {
  let taps = tapCache.get(key);
  if (taps === undefined) {
    taps = make();
    if (tapCache.size >= 64) tapCache.clear();
    tapCache.set(key, taps);
  }
  return taps;
}

/** `computeTaps`, remembered. */
function cachedTaps(
  inSize: number,
  outSize: number,
  from: number,
  to: number,
  interpolation: Exclude<Interpolation, 'nearest'>,
): Taps {
  return remembered(`${interpolation} ${inSize} ${outSize} ${from} ${to}`, () =>
    computeTaps(inSize, outSize, from, to, FILTERS[interpolation]),
  );
}

/** Taps that copy input positions `[from, from + n)` unchanged: weight one, one input each. */
export function identityTaps(from: number, n: number): Taps {
  return remembered(`identity ${from} ${n}`, () => {
    const start = new Int32Array(n);
    for (let i = 0; i < n; i++) start[i] = from + i;
    return {
      start,
      count: new Int32Array(n).fill(1),
      weights: new Int32Array(n).fill(SCALE),
      width: 1,
    };
  });
}

function computeTaps(
  inSize: number,
  outSize: number,
  from: number,
  to: number,
  filter: Filter,
): Taps {
  const scale = inSize / outSize;
  const filterScale = Math.max(scale, 1);
  const support = filter.support * filterScale;
  const width = Math.ceil(support) * 2 + 1;
  const n = to - from;
  const start = new Int32Array(n);
  const count = new Int32Array(n);
  const weights = new Int32Array(n * width);
  const w = new Float64Array(width);
  for (let i = 0; i < n; i++) {
    const center = (from + i + 0.5) * scale;
    const min = Math.max(0, Math.trunc(center - support + 0.5));
    const max = Math.min(inSize, Math.trunc(center + support + 0.5)) - min;
    let total = 0;
    for (let x = 0; x < max; x++) {
      w[x] = filter.weight((x + min - center + 0.5) / filterScale);
      total += w[x];
    }
    for (let x = 0; x < max; x++) {
      const k = total !== 0 ? w[x] / total : w[x];
      weights[i * width + x] = Math.trunc(k < 0 ? -0.5 + k * SCALE : 0.5 + k * SCALE);
    }
    start[i] = min;
    count[i] = max;
  }
  return { start, count, weights, width };
}

/**
 * Each axis's taps (null where the size does not change) and the source rows the vertical pass
 * reads: `rowCount` rows from `firstRow`.
 */
export function passPlan(
  inWidth: number,
  inHeight: number,
  request: ResampleRequest,
): { horizontal: Taps | null; vertical: Taps | null; firstRow: number; rowCount: number } {
  const { resizeWidth, resizeHeight, left, top, width, height } = request;
  const interpolation = request.interpolation as Exclude<Interpolation, 'nearest'>;
  const horizontal =
    resizeWidth !== inWidth
      ? cachedTaps(inWidth, resizeWidth, left, left + width, interpolation)
      : null;
  const vertical =
    resizeHeight !== inHeight
      ? cachedTaps(inHeight, resizeHeight, top, top + height, interpolation)
      : null;
  const firstRow = vertical ? vertical.start[0] : top;
  const lastRow = vertical ? vertical.start[height - 1] + vertical.count[height - 1] : top + height;
  return { horizontal, vertical, firstRow, rowCount: lastRow - firstRow };
}
