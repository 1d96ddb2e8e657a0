/**
 * One entry point for every dataset form ortlab reads: a bundled name, an image folder, an IDX
 * file or a file list. Node only.
 */

import { existsSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { extname, join } from 'node:path';

import { log } from '../logger.js';
import type { ClassMapLike } from './class-map.js';
import { openFileList } from './file-list.js';
import { looksLikeIdx } from './idx.js';
import { openIdxDataset } from './idx-dataset.js';
import { readLeadingBytes } from './idx-file.js';
import { openImageFolder } from './image-folder.js';
import { packageRoot } from './package-root.js';
import type { Dataset } from './types.js';

/**
 * Names of the datasets shipped in ortlab's `data/` folder.
 *
 * @example
 * ```ts
 * bundledDatasets; // ['mnist', 'fashion-mnist', 'digits', 'localization']
 * ```
 */
export const bundledDatasets: readonly string[] = Object.freeze([
  'mnist',
  'fashion-mnist',
  'digits',
  'localization',
]);

/** File-list extensions {@link openDataset} recognises. */
const LIST_EXTENSIONS: ReadonlySet<string> = new Set(['.txt', '.csv', '.tsv']);

/** Options of {@link openDataset}; each applies to the forms named in its description. */
export interface OpenDatasetOptions {
  /** Class names by index, for IDX files and file lists. Default: see those readers. */
  classes?: readonly string[];
  /** Folder → class index, for image folders. Default: natural order of the folders. */
  classMap?: ClassMapLike | string;
  /** For an image folder: read only these class folders (default all). */
  folders?: readonly string[];
  /** Image extensions, for image folders. Default: see `openImageFolder`. */
  extensions?: readonly string[];
  /** The labels file, for IDX images. Default: derived from the images file's name. */
  labelsPath?: string;
  /** Folder the paths of a file list are relative to. Default: the list's folder. */
  root?: string;
  /** The dataset's name in reports. Default: `spec` as given. */
  name?: string;
  /** Folder holding the bundled datasets. Default: the `data/` folder of the ortlab package. */
  dataDir?: string;
}

function acceptedForms(): string {
  return (
    `a bundled dataset (${bundledDatasets.join(', ')}), a folder with one sub-folder per class, ` +
    'an IDX images file (plain or gzipped) or a file list (.txt, .csv, .tsv)'
  );
}

async function openBundled(spec: string, options: OpenDatasetOptions): Promise<Dataset> {
  const folder = join(options.dataDir ?? join(packageRoot(), 'data'), spec);
  const images = join(folder, 'images-idx3-ubyte.gz');
  const labels = join(folder, 'labels-idx1-ubyte.gz');
  const missing = [images, labels, join(folder, 'classes.json')].filter(
    (path) => !existsSync(path),
  );
  if (missing.length > 0) {
    throw new Error(
      `bundled dataset '${spec}' is incomplete: ${missing.map((path) => `'${path}'`).join(', ')} ` +
        'missing. Reinstall ortlab, or in a checkout rebuild them with tools/export/build_data.py',
    );
  }
  return openIdxDataset(images, {
    labelsPath: labels,
    classes: options.classes,
    name: options.name ?? spec,
  });
}

/**
 * Opens a dataset from what a user typed, trying in order:
 * 1. a bundled name ({@link bundledDatasets}), read from the package's `data/<name>/` folder;
 * 2. a directory, read as an image folder (`openImageFolder`);
 * 3. a file whose content starts with an IDX header, after gunzip when it is gzipped
 *    (`openIdxDataset`, labels found by name unless `labelsPath` is given);
 * 4. a `.txt`, `.csv` or `.tsv` file, read as a file list (`openFileList`).
 *
 * @param spec a bundled name or a path.
 * @throws TypeError when `spec` is not a string.
 * @throws Error when `spec` is none of these, listing the bundled names and the accepted forms,
 *   or when the chosen reader rejects the data.
 *
 * @example
 * ```ts
 * const digits = await openDataset('digits');
 * digits.classes.length; // 10
 * const mine = await openDataset('./photos'); // one sub-folder per class
 * ```
 */
export async function openDataset(
  spec: string,
  options: OpenDatasetOptions = {},
): Promise<Dataset> {
  if (typeof spec !== 'string') {
    throw new TypeError(`openDataset: spec must be a string, received ${typeof spec}`);
  }
  const name = options.name ?? spec;
  if (bundledDatasets.includes(spec)) return openBundled(spec, options);

  const info = await stat(spec).catch(() => undefined);
  if (info === undefined) {
    throw new Error(
      `unknown dataset '${spec}': no such file or folder. Expected ${acceptedForms()}`,
    );
  }
  if (info.isDirectory()) {
    log.verbose('datasets', () => `'${spec}' is a folder: reading it as an image folder`);
    return openImageFolder(spec, {
      classMap: options.classMap,
      extensions: options.extensions,
      folders: options.folders,
      name,
    });
  }

  const { bytes } = await readLeadingBytes(spec, 4);
  if (looksLikeIdx(bytes)) {
    log.verbose('datasets', () => `'${spec}' starts with an IDX header: reading it as IDX images`);
    return openIdxDataset(spec, { labelsPath: options.labelsPath, classes: options.classes, name });
  }
  if (LIST_EXTENSIONS.has(extname(spec).toLowerCase())) {
    return openFileList(spec, { root: options.root, classes: options.classes, name });
  }
  throw new Error(
    `unknown dataset '${spec}': the file is neither IDX (by its first bytes) nor a file list ` +
      `(by its extension). Expected ${acceptedForms()}`,
  );
}
