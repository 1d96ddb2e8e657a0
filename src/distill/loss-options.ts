/**
 * Checks of the options the relation losses share: the angle window and the distance loss.
 */
import type { DistanceOptions } from './relations.js';

/** The window of the word-relation angles: a token count, or `'full'` for every triplet. */
export type AngleWindow = number | 'full';

/** The default angle window of CKD's windowed word relation: 21 tokens. */
export const DEFAULT_WINDOW = 21;

/**
 * The window as a number (Infinity for `'full'`).
 * @throws RangeError for anything but an integer of at least 3 or `'full'`.
 */
export function resolveWindow(window: AngleWindow | undefined): number {
  const value = window ?? DEFAULT_WINDOW;
  if (value === 'full') return Infinity;
  if (!Number.isInteger(value) || value < 3) {
    throw new RangeError(
      `window must be an integer of at least 3 (an anchor and two other tokens) or 'full', got ` +
        `${JSON.stringify(value)}`,
    );
  }
  return value;
}

const DISTANCE_LOSSES = ['l1', 'mse', 'huber'];

/**
 * @throws RangeError for an unknown `loss` or a `huberDelta` that is not positive and finite;
 * TypeError for a `normalize` that is not a boolean.
 */
export function checkDistanceOptions(options: DistanceOptions): void {
  const { loss, normalize, huberDelta } = options;
  if (loss !== undefined && !DISTANCE_LOSSES.includes(loss)) {
    throw new RangeError(
      `loss '${String(loss)}' is not one of ${DISTANCE_LOSSES.join(', ')} for distance relations`,
    );
  }
  if (normalize !== undefined && typeof normalize !== 'boolean') {
    throw new TypeError(`normalize must be true or false, got ${JSON.stringify(normalize)}`);
  }
  if (huberDelta !== undefined && !(huberDelta > 0 && Number.isFinite(huberDelta))) {
    throw new RangeError(`huberDelta must be a positive number, got ${String(huberDelta)}`);
  }
}
