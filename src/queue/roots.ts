/**
 * The folders a worker may read. A job names models and data by path; the worker resolves each
 * path (following symbolic links), and each file a dataset lists, and refuses one that lands
 * outside every root it was started with, before anything opens it.
 */
import { lstatSync, realpathSync, type Stats } from 'node:fs';
import { realpath } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

import { bundledDatasets } from '../runtime/datasets/open-dataset.js';
import type { Dataset } from '../runtime/datasets/types.js';

// Synchronous on purpose: a dataset's files are checked one by one, and the synchronous calls
// cost a few microseconds each where the promise-based ones cost tens.
const lstatOr = (file: string): Stats | undefined => {
  try {
    return lstatSync(file);
  } catch {
    return undefined;
  }
};
const realpathOr = (file: string): string => {
  try {
    return realpathSync.native(file);
  } catch {
    return file;
  }
};

/** The files a dataset reads, in order; none for a set held in memory. */
async function* filesOf(dataset: Dataset): AsyncGenerator<string> {
  for await (const sample of dataset.samples()) {
    if (sample.source.kind !== 'file') return; // a dataset has one kind of source
    yield sample.source.path;
  }
}

/** The roots of one worker, resolved once. */
export class WorkerRoots {
  private constructor(readonly dirs: readonly string[]) {}

  /**
   * Resolves `dirs` (relative to the current directory).
   * @throws Error naming a root that does not exist or is not readable.
   */
  static async create(dirs: readonly string[]): Promise<WorkerRoots> {
    if (dirs.length === 0) throw new RangeError('a worker needs at least one root folder');
    const resolved = [];
    for (const dir of dirs) {
      resolved.push(
        await realpath(dir).catch(() => {
          throw new Error(`root '${dir}' does not exist on this worker; check --root`);
        }),
      );
    }
    return new WorkerRoots(resolved);
  }

  /** These roots and `dirs` (resolved folders), for files the worker may read besides. */
  including(dirs: readonly string[]): WorkerRoots {
    return new WorkerRoots([...this.dirs, ...dirs]);
  }

  /** True when `file` (already resolved) is a root or lies inside one. */
  contains(file: string): boolean {
    return this.dirs.some((root) => {
      const relative = path.relative(root, file);
      return relative === '' || (!relative.startsWith('..') && !path.isAbsolute(relative));
    });
  }

  /**
   * Checks that `file` exists inside a root, following links; returns its resolved path.
   * @param what What the file is, for the message (`model`, `data of split 'clean'`).
   * @throws Error naming the file and the roots when it is outside them or missing.
   */
  async check(file: string, what: string): Promise<string> {
    const resolved = await realpath(file).catch(() => {
      throw new Error(`${what} '${file}' not found on this worker (${os.hostname()})`);
    });
    if (!this.contains(resolved)) {
      throw new Error(
        `${what} '${file}'${resolved === file ? '' : ` (${resolved})`} is outside this worker's ` +
          `roots (${this.dirs.join(', ')}); start the worker with --root for its folder`,
      );
    }
    return resolved;
  }

  /**
   * Checks every file a dataset will read (the files of a folder, the entries of a file list),
   * following links: a link inside a root folder, or a list entry, that leads out of the roots
   * is refused before anything is read. Bundled sets and sets held in memory read no files.
   * @param what What the data is, for the message (`data`, `data of split 'clean'`).
   * @throws Error naming the first file outside the roots.
   */
  async checkDataset(dataset: Dataset, what: string): Promise<void> {
    await this.checkFiles(filesOf(dataset), what);
  }

  /** Checks `files` as `checkDataset` checks a dataset's. */
  async checkFiles(files: Iterable<string> | AsyncIterable<string>, what: string): Promise<void> {
    const folders = new Map<string, boolean>();
    for await (const file of files) {
      if (!this.fileInside(file, folders)) {
        const resolved = realpathOr(file);
        throw new Error(
          `${what}: '${file}'${resolved === file ? '' : ` (${resolved})`} is outside this ` +
            `worker's roots (${this.dirs.join(', ')}); a link or list entry leads out of them: ` +
            'start the worker with --root for its folder',
        );
      }
    }
  }

  /**
   * Whether `file` resolves inside the roots; a file that is not a link is judged by its
   * folder, resolved once per folder in `folders`. A missing file passes: the dataset reports
   * it when it reads it.
   */
  private fileInside(file: string, folders: Map<string, boolean>): boolean {
    const info = lstatOr(file);
    if (info === undefined) return true;
    if (info.isSymbolicLink()) return this.contains(realpathOr(file));
    const folder = path.dirname(path.resolve(file));
    let inside = folders.get(folder);
    if (inside === undefined) {
      inside = this.contains(realpathOr(folder));
      folders.set(folder, inside);
    }
    return inside;
  }

  /**
   * Checks a dataset spec: ortlab's bundled sets (`mnist`, `digits`, ...) are always readable;
   * anything else is a path checked like a file.
   */
  async checkData(spec: string, what: string): Promise<void> {
    if (bundledDatasets.includes(spec)) return;
    await this.check(spec, what);
  }
}
