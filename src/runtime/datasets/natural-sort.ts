/**
 * Digit-aware ordering of names, so that class folders `0` to `999` and files `img9.png`,
 * `img10.png` come out in the order a person expects. Pure logic, shared by the Node and
 * browser builds.
 */

const ZERO = 0x30;
const NINE = 0x39;

function isDigit(code: number): boolean {
  return code >= ZERO && code <= NINE;
}

/** Index just past the run of ASCII digits that starts at `from`. */
function digitRunEnd(text: string, from: number): number {
  let end = from;
  while (end < text.length && isDigit(text.charCodeAt(end))) end++;
  return end;
}

/** Compares two digit runs by value, without converting them to numbers (no overflow). */
function compareDigitRuns(a: string, b: string): number {
  const strippedA = a.replace(/^0+/, '');
  const strippedB = b.replace(/^0+/, '');
  if (strippedA.length !== strippedB.length) return strippedA.length - strippedB.length;
  if (strippedA === strippedB) return 0;
  return strippedA < strippedB ? -1 : 1;
}

/**
 * Compares two strings with runs of ASCII digits taken as whole numbers; everything else is
 * compared by UTF-16 code unit (so the order does not depend on the locale, and `'B' < 'a'`).
 *
 * A digit run sorts where its first digit would sort among other characters. When two names
 * differ only in leading zeros (`'img01'`, `'img1'`), plain code-unit order breaks the tie, so
 * the order is total: the result is 0 only for identical strings, and it is transitive.
 * Time is linear in the length of the shorter string.
 *
 * @returns a negative number when `a` sorts first, positive when `b` does, 0 when equal.
 * @throws TypeError when `a` or `b` is not a string.
 *
 * @example
 * ```ts
 * naturalCompare('img9.png', 'img10.png'); // -1 (negative)
 * ['10', '9', '1'].sort(naturalCompare); // ['1', '9', '10']
 * ```
 */
export function naturalCompare(a: string, b: string): number {
  if (typeof a !== 'string' || typeof b !== 'string') {
    throw new TypeError(`naturalCompare expects two strings, received ${typeof a} and ${typeof b}`);
  }

  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const codeA = a.charCodeAt(i);
    const codeB = b.charCodeAt(j);
    if (isDigit(codeA) && isDigit(codeB)) {
      const endA = digitRunEnd(a, i);
      const endB = digitRunEnd(b, j);
      const order = compareDigitRuns(a.slice(i, endA), b.slice(j, endB));
      if (order !== 0) return order < 0 ? -1 : 1;
      i = endA;
      j = endB;
      continue;
    }
    if (codeA !== codeB) return codeA < codeB ? -1 : 1;
    i++;
    j++;
  }

  const restA = a.length - i;
  const restB = b.length - j;
  if (restA !== restB) return restA < restB ? -1 : 1;
  if (a === b) return 0;
  return a < b ? -1 : 1;
}

/**
 * Returns a sorted copy of `list` in {@link naturalCompare} order; the input is not changed.
 * Time is O(n log n) comparisons.
 *
 * @throws TypeError when `list` is not an array of strings.
 *
 * @example
 * ```ts
 * naturalSort(['n10', 'n2', 'n01']); // ['n01', 'n2', 'n10']
 * ```
 */
export function naturalSort(list: readonly string[]): string[] {
  if (!Array.isArray(list)) {
    throw new TypeError(`naturalSort expects an array of strings, received ${typeof list}`);
  }
  return [...list].sort(naturalCompare);
}
