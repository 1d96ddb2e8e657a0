/**
 * Numeric assertions that print the first index where two arrays differ, with both values.
 */
import { expect } from 'chai';

export function expectClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  tolerance: number,
  what = 'values',
): void {
  expect(actual.length, `${what}: length`).to.equal(expected.length);
  let worst = 0;
  let at = -1;
  for (let i = 0; i < expected.length; i++) {
    const d = Math.abs(actual[i] - expected[i]);
    if (!(d <= worst)) {
      worst = d;
      at = i;
    }
  }
  if (!(worst <= tolerance)) {
    expect.fail(
      `${what}: max |difference| ${worst} at index ${at} (actual ${actual[at]}, expected ` +
        `${expected[at]}) exceeds ${tolerance}`,
    );
  }
}
