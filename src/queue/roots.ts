/**
 * The folders a worker may read. A job names models and data by path; the worker resolves each
 * path (following symbolic links) and refuses one that lands outside every root it was started
 * with, before anything opens it.
 */
import { realpath } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

import { bundledDatasets } from '../runtime/datasets/open-dataset.js';

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

  // TODO(#9): the files inside a checked folder and the entries of a file list are not checked one
  // by one (a link inside a root folder can still point out of it).
  /**
   * Checks a dataset spec: ortlab's bundled sets (`mnist`, `digits`, ...) are always readable;
   * anything else is a path checked like a file.
   */
  async checkData(spec: string, what: string): Promise<void> {
    if (bundledDatasets.includes(spec)) return;
    await this.check(spec, what);
  }
}
