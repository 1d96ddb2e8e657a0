/**
 * Class names and folder-to-index maps given by the user or found in a `classes.json`. Node
 * only: the JSON files are read from disk.
 */

import { readFile } from 'node:fs/promises';

/** A class map as a user may give it: names by index, or name → index. */
export type ClassMapLike = Record<string, number> | readonly string[];

/** A class map resolved into both directions. */
export interface ResolvedClassMap {
  /** Class names by index; an index the map skips is named by its number. */
  classes: string[];
  /** Class index by name. */
  indexOf: Map<string, number>;
  /** Where the map came from, for error messages: a file path or `the classMap option`. */
  source: string;
}

/**
 * Checks that `value` is an array of strings and returns a copy.
 *
 * @param value the candidate list of class names.
 * @param source what held it, for error messages.
 * @throws TypeError when `value` is not an array of strings.
 *
 * @example
 * ```ts
 * checkClassNames(['cat', 'dog'], 'options.classes'); // ['cat', 'dog']
 * ```
 */
export function checkClassNames(value: unknown, source: string): string[] {
  if (!Array.isArray(value)) {
    throw new TypeError(`${source} must be an array of class names, received ${typeof value}`);
  }
  const bad = value.findIndex((entry) => typeof entry !== 'string');
  if (bad >= 0) {
    throw new TypeError(
      `${source}[${bad}] must be a string class name, received ${typeof value[bad]}`,
    );
  }
  return [...(value as string[])];
}

async function readJson(path: string, what: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new Error(`cannot read ${what} '${path}': ${(error as Error).message}`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new Error(`${what} '${path}' is not valid JSON: ${(error as Error).message}`);
  }
}

/**
 * Reads a JSON file holding an array of class names, such as a dataset's `classes.json`.
 *
 * @throws Error when the file cannot be read or is not JSON.
 * @throws TypeError when the JSON is not an array of strings.
 *
 * @example
 * ```ts
 * await readClassNames('data/mnist/classes.json'); // ['0', '1', ..., '9']
 * ```
 */
export async function readClassNames(path: string): Promise<string[]> {
  return checkClassNames(await readJson(path, 'class names file'), `class names file '${path}'`);
}

function fromObject(map: Record<string, unknown>, source: string): ResolvedClassMap {
  const indexOf = new Map<string, number>();
  let size = 0;
  for (const [name, index] of Object.entries(map)) {
    if (typeof index !== 'number' || !Number.isInteger(index) || index < 0) {
      throw new RangeError(
        `class map ${source} gives '${name}' the index ${JSON.stringify(index)}; expected an ` +
          'integer ≥ 0',
      );
    }
    indexOf.set(name, index);
    size = Math.max(size, index + 1);
  }

  const classes = Array.from({ length: size }, (_, index) => String(index));
  const seen = new Set<number>();
  for (const [name, index] of indexOf) {
    if (seen.has(index)) {
      throw new RangeError(`class map ${source} gives the index ${index} to more than one name`);
    }
    seen.add(index);
    classes[index] = name;
  }
  return { classes, indexOf, source };
}

function fromArray(names: string[], source: string): ResolvedClassMap {
  const indexOf = new Map<string, number>();
  names.forEach((name, index) => {
    if (indexOf.has(name)) {
      throw new RangeError(`class map ${source} lists the name '${name}' more than once`);
    }
    indexOf.set(name, index);
  });
  return { classes: names, indexOf, source };
}

/**
 * Resolves a class map given as an object (`{ cat: 0, dog: 1 }`), an array of names, or the
 * path of a JSON file holding either.
 *
 * @throws TypeError when the map is neither of these shapes.
 * @throws RangeError when an index is not an integer ≥ 0 or an index or name repeats.
 * @throws Error when the JSON file cannot be read or parsed.
 *
 * @example
 * ```ts
 * const map = await resolveClassMap({ cat: 0, dog: 1 });
 * map.classes; // ['cat', 'dog']
 * map.indexOf.get('dog'); // 1
 * ```
 */
export async function resolveClassMap(classMap: ClassMapLike | string): Promise<ResolvedClassMap> {
  if (typeof classMap === 'string') {
    const value = await readJson(classMap, 'class map file');
    const source = `file '${classMap}'`;
    if (Array.isArray(value))
      return fromArray(checkClassNames(value, `class map ${source}`), source);
    if (value !== null && typeof value === 'object') {
      return fromObject(value as Record<string, unknown>, source);
    }
    throw new TypeError(
      `class map ${source} must hold a JSON object (folder name → index) or an array of names`,
    );
  }

  const source = '(the classMap option)';
  if (Array.isArray(classMap))
    return fromArray(checkClassNames(classMap, 'options.classMap'), source);
  if (classMap !== null && typeof classMap === 'object') {
    return fromObject(classMap as Record<string, unknown>, source);
  }
  throw new TypeError(
    `options.classMap must be an object (folder name → index), an array of names or a JSON ` +
      `file path, received ${typeof classMap}`,
  );
}
