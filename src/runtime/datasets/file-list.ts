/**
 * Reads a labelled image dataset described by a text file with one `path label` per line
 * (`.txt`, `.csv`, `.tsv`). Only paths are listed; pixels are decoded later. Node only.
 */

import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, resolve } from 'node:path';

import { log } from '../logger.js';
import { checkClassNames } from './class-map.js';
import { listedDataset, type ListedFile } from './listed-dataset.js';
import { naturalSort } from './natural-sort.js';
import type { Dataset } from './types.js';

/** Options of {@link openFileList}. */
export interface FileListOptions {
  /** Folder the listed paths are relative to. Default: the list file's folder. */
  root?: string;
  /**
   * Class names by index; labels may then be integers or names from this list. Default: `'0'`
   * to the largest label when all labels are integers, or the distinct names in natural order
   * when all are names.
   */
  classes?: readonly string[];
  /** The dataset's name in reports. Default: `listPath` as given. */
  name?: string;
}

/** One parsed line of a file list. */
interface Entry {
  path: string;
  label: string;
  line: number;
}

const LINE = /^(.*?)[\s,]+([^\s,]+)$/;
const INTEGER = /^\d+$/;

function parseLines(text: string, listPath: string): Entry[] {
  const entries: Entry[] = [];
  text.split(/\r?\n/).forEach((raw, index) => {
    const content = raw.trim();
    if (content === '' || content.startsWith('#')) return;

    const match = LINE.exec(content);
    const path = match?.[1].trim().replace(/,$/, '') ?? '';
    if (match === null || path === '') {
      throw new Error(
        `file list '${listPath}' line ${index + 1}: expected 'relative/path label' (separated ` +
          `by spaces, a tab or a comma), found '${content}'`,
      );
    }
    // A CSV header row names the columns; it is not a sample.
    if (
      entries.length === 0 &&
      path.toLowerCase() === 'path' &&
      match[2].toLowerCase() === 'label'
    ) {
      return;
    }
    entries.push({ path, label: match[2], line: index + 1 });
  });
  return entries;
}

function labelsWithClasses(entries: Entry[], classes: string[], listPath: string): number[] {
  const indexOf = new Map(classes.map((name, index) => [name, index]));
  return entries.map(({ label, line }) => {
    const index = INTEGER.test(label) ? Number(label) : indexOf.get(label);
    if (index === undefined) {
      throw new Error(
        `file list '${listPath}' line ${line}: label '${label}' is not one of options.classes ` +
          `(${classes.slice(0, 10).join(', ')}${classes.length > 10 ? ', …' : ''})`,
      );
    }
    if (index >= classes.length) {
      throw new RangeError(
        `file list '${listPath}' line ${line}: label ${index} is out of range; options.classes ` +
          `names ${classes.length} classes (0 to ${classes.length - 1})`,
      );
    }
    return index;
  });
}

function inferClasses(entries: Entry[], listPath: string): { classes: string[]; labels: number[] } {
  const integer = entries.length > 0 && INTEGER.test(entries[0].label);
  const odd = entries.find((entry) => INTEGER.test(entry.label) !== integer);
  if (odd !== undefined) {
    throw new Error(
      `file list '${listPath}' line ${odd.line}: label '${odd.label}' mixes class names and ` +
        'integer labels in one list; pass options.classes to say which index each name has',
    );
  }

  if (integer) {
    const labels = entries.map((entry) => Number(entry.label));
    const maxLabel = labels.reduce((max, label) => Math.max(max, label), -1);
    return { classes: Array.from({ length: maxLabel + 1 }, (_, i) => String(i)), labels };
  }
  const classes = naturalSort([...new Set(entries.map((entry) => entry.label))]);
  const indexOf = new Map(classes.map((name, index) => [name, index]));
  return { classes, labels: entries.map((entry) => indexOf.get(entry.label) as number) };
}

/**
 * Opens a file list as a {@link Dataset}. Each line holds a path and a label separated by
 * whitespace or a comma (the label is the last field, so paths may contain spaces); blank lines,
 * lines starting with `#`, and a first line `path,label` (a CSV header) are ignored. A label is
 * an integer class index or a class name. Paths are relative to the list's folder unless `root`
 * is given; files are not opened here.
 *
 * Samples are `{ kind: 'file', path }` with an absolute path, and ids the path as written.
 *
 * @param listPath the list file.
 * @throws TypeError when an argument has the wrong type.
 * @throws Error when the file cannot be read, a line is malformed or a label is unknown (naming
 *   the file and the line number), or the list is empty.
 * @throws RangeError when an integer label is outside `options.classes`.
 *
 * @example
 * ```ts
 * // val.txt:  images/1.jpg 3
 * //           images/2.jpg,0
 * const val = await openFileList('val.txt', { classes: ['a', 'b', 'c', 'd'] });
 * val.size; // 2
 * ```
 */
export async function openFileList(
  listPath: string,
  options: FileListOptions = {},
): Promise<Dataset> {
  if (typeof listPath !== 'string') {
    throw new TypeError(`openFileList: listPath must be a string, received ${typeof listPath}`);
  }
  if (options.root !== undefined && typeof options.root !== 'string') {
    throw new TypeError(
      `openFileList: options.root must be a string, received ${typeof options.root}`,
    );
  }

  let text: string;
  try {
    text = await readFile(listPath, 'utf8');
  } catch (error) {
    throw new Error(`cannot read file list '${listPath}': ${(error as Error).message}`);
  }
  const entries = parseLines(text, listPath);
  if (entries.length === 0) {
    throw new Error(`file list '${listPath}' lists no file; expected lines 'relative/path label'`);
  }

  const given =
    options.classes === undefined ? undefined : checkClassNames(options.classes, 'options.classes');
  const { classes, labels } =
    given === undefined
      ? inferClasses(entries, listPath)
      : { classes: given, labels: labelsWithClasses(entries, given, listPath) };

  const root = resolve(options.root ?? dirname(listPath));
  const files: ListedFile[] = entries.map((entry, index) => ({
    path: isAbsolute(entry.path) ? entry.path : resolve(root, entry.path),
    id: entry.path,
    label: labels[index],
  }));

  const name = options.name ?? listPath;
  log.verbose(
    'datasets',
    () => `file list ${name}: ${files.length} files, ${classes.length} classes`,
  );
  return listedDataset(name, resolve(listPath), classes, files);
}
