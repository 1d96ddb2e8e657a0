/**
 * Numeric option values of the command line, checked: each returns undefined for an option
 * that was not given and throws a UsageError naming the option and the value otherwise.
 */

/** A mistake in the command line: reported with the usage text, exit status 2. */
export class UsageError extends Error {}

/** An integer >= 1. */
export function positiveInteger(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) {
    throw new UsageError(`--${name} takes a positive integer, got '${value}'`);
  }
  return n;
}

/** A safe integer of any sign. */
export function integer(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isSafeInteger(n)) throw new UsageError(`--${name} takes an integer, got '${value}'`);
  return n;
}

/** An integer >= 0. */
export function wholeNumber(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) {
    throw new UsageError(`--${name} takes a whole number, got '${value}'`);
  }
  return n;
}

/** A number >= 0. */
export function nonNegative(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!(n >= 0)) throw new UsageError(`--${name} takes a number >= 0, got '${value}'`);
  return n;
}

/** A number > 0. */
export function positiveNumber(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!(n > 0)) throw new UsageError(`--${name} takes a positive number, got '${value}'`);
  return n;
}

/** A number in [0, 1). */
export function ratio(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!(n >= 0 && n < 1)) {
    throw new UsageError(`--${name} takes a ratio in [0, 1) such as 0.5, got '${value}'`);
  }
  return n;
}
