/**
 * Reads a labelled image dataset laid out as one sub-folder per class (`root/cat/1.jpg`,
 * `root/dog/7.png`). Only paths are listed; pixels are decoded later. Node only.
 */

import { realpath, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';

import { log } from '../logger.js';
import { resolveClassMap, type ClassMapLike } from './class-map.js';
import { folderEntries } from './folder-entries.js';
import { listedDataset, type ListedFile } from './listed-dataset.js';
import { naturalCompare } from './natural-sort.js';
import type { Dataset } from './types.js';

/** Options of {@link openImageFolder}. */
export interface ImageFolderOptions {
  /**
   * Class index of each folder: an object `{ folder: index }`, an array of folder names by
   * index, or the path of a JSON file holding either. Default: the folders' positions in
   * natural order (`'2'` before `'10'`).
   */
  classMap?: ClassMapLike | string;
  /**
   * File extensions taken as images, with or without the dot, any case. Default:
   * `jpg jpeg png webp gif tif tiff bmp avif`.
   */
  extensions?: readonly string[];
  /** The dataset's name in reports. Default: `root` as given. */
  name?: string;
  /**
   * Read only these class folders and ignore the others (default all). A name that is not a
   * folder of `root` is an error.
   */
  folders?: readonly string[];
}

/** Image file extensions accepted by default. */
export const defaultImageExtensions: readonly string[] = Object.freeze([
  'jpg',
  'jpeg',
  'png',
  'webp',
  'gif',
  'tif',
  'tiff',
  'bmp',
  'avif',
]);

function normaliseExtensions(extensions: readonly string[] | undefined): Set<string> {
  if (extensions === undefined) return new Set(defaultImageExtensions);
  if (!Array.isArray(extensions) || extensions.some((ext) => typeof ext !== 'string')) {
    throw new TypeError("options.extensions must be an array of strings such as ['jpg', 'png']");
  }
  return new Set(extensions.map((ext) => ext.replace(/^\./, '').toLowerCase()));
}

function extensionOf(name: string): string {
  const dot = name.lastIndexOf('.');
  return dot <= 0 ? '' : name.slice(dot + 1).toLowerCase();
}

/**
 * Image files under `folder` (nested folders and links included), as paths relative to
 * `folder`. `within` holds the resolved folders above this one: a link back to one of them
 * (a loop) is skipped with a warning.
 */
async function listImages(
  folder: string,
  extensions: Set<string>,
  within: readonly string[] = [],
): Promise<string[]> {
  const here = await realpath(folder);
  if (within.includes(here)) {
    log.warning('datasets', `'${folder}' links back to a folder above it; skipped (a loop)`);
    return [];
  }
  const found: string[] = [];
  for (const entry of await folderEntries(folder)) {
    if (entry.kind === 'folder') {
      const nested = await listImages(join(folder, entry.name), extensions, [...within, here]);
      found.push(...nested.map((path) => `${entry.name}/${path}`));
    } else if (entry.kind === 'file' && extensions.has(extensionOf(entry.name))) {
      found.push(entry.name);
    }
  }
  return found.sort(naturalCompare);
}

async function checkRoot(root: string): Promise<void> {
  let isDirectory: boolean;
  try {
    isDirectory = (await stat(root)).isDirectory();
  } catch {
    throw new Error(`image folder '${root}' does not exist`);
  }
  if (!isDirectory) {
    throw new Error(
      `image folder '${root}' is a file, not a directory; give a folder with one sub-folder ` +
        'per class',
    );
  }
}

function emptyFolderError(root: string, extensions: Set<string>, what: string): Error {
  return new Error(
    `empty dataset folder '${root}': ${what}. Expected one sub-folder per class holding images ` +
      `with one of the extensions ${[...extensions].join(' ')}`,
  );
}

/**
 * Opens a folder with one sub-folder per class as a {@link Dataset}. Class folders are sorted
 * in natural order (so `'0'` to `'999'` come out numerically) and a folder's label is its
 * position in that order, unless `classMap` gives the labels. Files inside each class folder,
 * nested folders included, are sorted the same way. Hidden files and folders (a leading dot)
 * are skipped, and so are files at the root. Paths are listed once, up front; nothing is
 * decoded.
 *
 * Samples are `{ kind: 'file', path }` with an absolute path, and ids the path relative to
 * `root` with `/` separators.
 *
 * @param root the dataset folder.
 * @throws TypeError when an argument has the wrong type.
 * @throws Error when `root` is missing or not a directory, when it holds no class folder or
 *   no image, or when a folder is missing from the class map (naming the folder and the map).
 *
 * @example
 * ```ts
 * const pets = await openImageFolder('photos'); // photos/cat/a.jpg, photos/dog/b.png
 * pets.classes; // ['cat', 'dog']
 * for await (const sample of pets.samples()) sample.id; // 'cat/a.jpg', then 'dog/b.png'
 * ```
 */
export async function openImageFolder(
  root: string,
  options: ImageFolderOptions = {},
): Promise<Dataset> {
  if (typeof root !== 'string') {
    throw new TypeError(`openImageFolder: root must be a string, received ${typeof root}`);
  }
  const extensions = normaliseExtensions(options.extensions);
  await checkRoot(root);

  const entries = await folderEntries(root);
  const folders = selectFolders(
    root,
    entries
      .filter((entry) => entry.kind === 'folder')
      .map((entry) => entry.name)
      .sort(naturalCompare),
    options.folders,
  );
  if (folders.length === 0) throw emptyFolderError(root, extensions, 'it has no class sub-folder');

  const map = options.classMap === undefined ? undefined : await resolveClassMap(options.classMap);
  const classes = map?.classes ?? folders;
  const absoluteRoot = resolve(root);
  const files: ListedFile[] = [];

  for (const [position, folder] of folders.entries()) {
    const label = map === undefined ? position : map.indexOf.get(folder);
    if (label === undefined) {
      throw new Error(
        `class folder '${folder}' in '${root}' is missing from the class map ${map?.source}; ` +
          'add it to the map or remove the folder',
      );
    }
    const images = await listImages(join(absoluteRoot, folder), extensions);
    if (images.length === 0)
      log.warning('datasets', `class folder '${join(root, folder)}' holds no image`);
    for (const path of images) {
      const id = `${folder}/${path}`;
      files.push({ path: join(absoluteRoot, ...id.split('/')), id, label });
    }
  }
  if (files.length === 0)
    throw emptyFolderError(root, extensions, 'its class sub-folders hold no image');

  const name = options.name ?? root;
  log.verbose(
    'datasets',
    () => `image folder ${name}: ${files.length} files, ${classes.length} classes`,
  );
  return listedDataset(name, absoluteRoot, classes, files);
}

function selectFolders(root: string, present: string[], wanted?: readonly string[]): string[] {
  if (wanted === undefined) return present;
  const have = new Set(present);
  const missing = wanted.find((f) => !have.has(f));
  if (missing !== undefined) {
    throw new Error(`class folder '${missing}' was asked for but '${root}' has no such folder`);
  }
  const keep = new Set(wanted);
  return present.filter((f) => keep.has(f));
}
