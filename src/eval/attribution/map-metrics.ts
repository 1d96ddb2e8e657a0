/**
 * How two attribution maps of the same image agree, and how a map localizes the object: the
 * WCAM distance, rank correlation, overlap of the top pixels, the same maximum; ROC-AUC against
 * a ground-truth mask and the pointing game. Maps are flat arrays of the same length.
 */
import { auroc } from '../metrics/ood.js';
import { spearman } from '../../search/correlation.js';

function sameLength(a: ArrayLike<number>, b: ArrayLike<number>, what: string): void {
  if (a.length !== b.length || a.length === 0) {
    throw new RangeError(
      `${what}: maps of ${a.length} and ${b.length} pixels; both must be the same non-zero size`,
    );
  }
}

/**
 * WCAM distance: the mean over pixels of the squared difference of the two maps, each divided
 * by its L2 norm (the quantity the WCAM regularizer minimizes). A map of norm 0 stays 0.
 */
export function wcamDistance(a: ArrayLike<number>, b: ArrayLike<number>): number {
  sameLength(a, b, 'wcamDistance');
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    na += a[i] * a[i];
    nb += b[i] * b[i];
  }
  const sa = na > 0 ? 1 / Math.sqrt(na) : 0;
  const sb = nb > 0 ? 1 / Math.sqrt(nb) : 0;
  let sum = 0;
  for (let i = 0; i < a.length; i++) {
    const d = a[i] * sa - b[i] * sb;
    sum += d * d;
  }
  return sum / a.length;
}

/** Spearman's rank correlation of the pixels (average ranks for ties; NaN for a constant map). */
export function mapSpearman(a: ArrayLike<number>, b: ArrayLike<number>): number {
  sameLength(a, b, 'mapSpearman');
  return spearman(a, b);
}

/** Indices of the `ceil(fraction n)` largest pixels, ties to the smaller index. */
export function topPixels(map: ArrayLike<number>, fraction: number): Uint32Array {
  if (!(fraction > 0 && fraction <= 1))
    throw new RangeError(`fraction must be in (0, 1], got ${fraction}`);
  const count = Math.ceil(fraction * map.length);
  const order = Array.from({ length: map.length }, (_, i) => i);
  order.sort((i, j) => map[j] - map[i] || i - j);
  return Uint32Array.from(order.slice(0, count));
}

/** Intersection over union of the two maps' top `fraction` pixels. */
export function topKIoU(a: ArrayLike<number>, b: ArrayLike<number>, fraction: number): number {
  sameLength(a, b, 'topKIoU');
  const ta = topPixels(a, fraction);
  const tb = new Set(topPixels(b, fraction));
  let both = 0;
  for (const i of ta) if (tb.has(i)) both++;
  return both / (ta.length + tb.size - both);
}

/** Index of the largest pixel, first on ties. */
export function argmaxPixel(map: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < map.length; i++) if (map[i] > map[best]) best = i;
  return best;
}

/** Whether the two maps peak at the same pixel. */
export function argmaxAgreement(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  sameLength(a, b, 'argmaxAgreement');
  return argmaxPixel(a) === argmaxPixel(b);
}

function checkMask(map: ArrayLike<number>, mask: ArrayLike<number>, what: string): void {
  if (map.length !== mask.length) {
    throw new RangeError(
      `${what}: the map has ${map.length} pixels but the mask ${mask.length}; upsample the map ` +
        'to the image size first (masks are at image resolution)',
    );
  }
}

/** ROC-AUC of the map's pixels as scores for the mask (1 = object), as scikit-learn computes it. */
export function maskAuroc(map: ArrayLike<number>, mask: ArrayLike<number>): number {
  checkMask(map, mask, 'maskAuroc');
  return auroc(
    map,
    Array.from(mask, (m) => (m > 0 ? 1 : 0)),
  );
}

/** Pointing game: whether the map's largest pixel lies inside the mask. */
export function pointingHit(map: ArrayLike<number>, mask: ArrayLike<number>): boolean {
  checkMask(map, mask, 'pointingHit');
  return mask[argmaxPixel(map)] > 0;
}
