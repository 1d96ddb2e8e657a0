/**
 * Checks the `start`/`end` a caller passes to `Dataset.samples`. Pure logic, shared by every
 * reader and by the browser build.
 */

import type { SampleRange } from './types.js';

function checkBound(value: unknown, field: 'start' | 'end', size: number, dataset: string): void {
  if (typeof value !== 'number') {
    throw new TypeError(
      `samples(): range.${field} of dataset '${dataset}' must be a number, ` +
        `received ${typeof value}`,
    );
  }
  if (!Number.isInteger(value) || value < 0 || value > size) {
    throw new RangeError(
      `samples(): range.${field} of dataset '${dataset}' is ${value}; expected an integer from 0 ` +
        `to ${size} (the dataset's size)`,
    );
  }
}

/**
 * Resolves a {@link SampleRange} against a dataset's size: defaults filled in, bounds checked.
 *
 * @param range what the caller passed, possibly undefined.
 * @param size the dataset's number of samples.
 * @param dataset the dataset's name, for error messages.
 * @throws TypeError when `start` or `end` is not a number.
 * @throws RangeError when a bound is not an integer in `[0, size]` or `start > end`.
 *
 * @example
 * ```ts
 * resolveSampleRange({ start: 5 }, 10, 'mnist'); // { start: 5, end: 10 }
 * ```
 */
export function resolveSampleRange(
  range: SampleRange | undefined,
  size: number,
  dataset: string,
): { start: number; end: number } {
  const start = range?.start ?? 0;
  const end = range?.end ?? size;
  checkBound(start, 'start', size, dataset);
  checkBound(end, 'end', size, dataset);
  if (start > end) {
    throw new RangeError(
      `samples(): range.start (${start}) of dataset '${dataset}' is after range.end (${end})`,
    );
  }
  return { start, end };
}
