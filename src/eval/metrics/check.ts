/**
 * Argument checks shared by the metric functions. Each throws a `RangeError` that names the
 * parameter, the value received and what was expected. Internal: not re-exported.
 */

/**
 * Checks that `value` is an integer of at least `min`.
 * @internal
 */
export function checkCount(name: string, value: number, min: number): void {
  if (!(Number.isInteger(value) && value >= min)) {
    throw new RangeError(`${name} must be an integer >= ${min}, got ${value}`);
  }
}

/**
 * Checks that a row-major matrix holds `rows * classes` values.
 * @internal
 */
export function checkMatrix(
  name: string,
  values: ArrayLike<number>,
  rows: number,
  classes: number,
): void {
  checkCount('rows', rows, 0);
  checkCount('classes', classes, 1);
  if (values.length !== rows * classes) {
    throw new RangeError(
      `${name} holds ${values.length} values; [rows, classes] = [${rows}, ${classes}] needs ` +
        `${rows * classes}. Pass the matrix row-major with rows = ${name}.length / classes`,
    );
  }
}

/**
 * Checks that two per-sample arrays have the same length.
 * @internal
 */
export function checkSameLength(
  nameA: string,
  a: ArrayLike<number>,
  nameB: string,
  b: ArrayLike<number>,
): void {
  if (a.length !== b.length) {
    throw new RangeError(
      `${nameA} holds ${a.length} values but ${nameB} holds ${b.length}; give one per sample`,
    );
  }
}

/**
 * Checks that every value is a class index in [0, classes).
 * @internal
 */
export function checkClassIndices(name: string, values: ArrayLike<number>, classes: number): void {
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!(Number.isInteger(v) && v >= 0 && v < classes)) {
      throw new RangeError(
        `${name}[${i}] is ${v}; expected an integer class index in [0, ${classes})`,
      );
    }
  }
}

/**
 * Checks that every value is 0 or 1, and returns how many are 1.
 * @internal
 */
export function checkBinary(name: string, values: ArrayLike<number>): number {
  let ones = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v === 1) ones++;
    else if (v !== 0) throw new RangeError(`${name}[${i}] is ${v}; expected 0 or 1`);
  }
  return ones;
}

/**
 * Checks that every value is a probability in [0, 1] (NaN is rejected).
 * @internal
 */
export function checkProbabilities(name: string, values: ArrayLike<number>): void {
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!(v >= 0 && v <= 1)) {
      throw new RangeError(`${name}[${i}] is ${v}; expected a confidence in [0, 1]`);
    }
  }
}

/**
 * Checks that every value is finite (NaN and +-Infinity are rejected).
 * @internal
 */
export function checkFinite(name: string, values: ArrayLike<number>): void {
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i])) {
      throw new RangeError(
        `${name}[${i}] is ${values[i]}; expected a finite number. Drop or replace the sample ` +
          '(scikit-learn rejects non-finite scores too)',
      );
    }
  }
}
