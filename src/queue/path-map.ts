/**
 * Where a worker sees the submitter's folders. `submit` makes every path absolute on the
 * submitting machine; a worker that mounts the same files elsewhere (`/home/ana/data` there,
 * `/mnt/data` here) is started with `--map /home/ana/data=/mnt/data`, and every path of a job
 * under a mapped folder is rewritten before it is checked against the roots and opened. The
 * stamps and hashes a job carries still decide whether the files are the same.
 */
import path from 'node:path';

/** One submitter's folder and this worker's folder for it. */
export interface PathMapping {
  from: string;
  to: string;
}

/**
 * Parses `--map FROM=TO`.
 * @throws RangeError naming the value when it is not two absolute paths joined by `=`.
 */
export function parsePathMapping(spec: string): PathMapping {
  const at = spec.indexOf('=');
  const from = at < 0 ? '' : spec.slice(0, at);
  const to = at < 0 ? '' : spec.slice(at + 1);
  if (!path.isAbsolute(from) || !path.isAbsolute(to)) {
    throw new RangeError(
      `--map takes FROM=TO, the submitter's folder and this worker's, both absolute ` +
        `(--map /home/ana/data=/mnt/data), got '${spec}'`,
    );
  }
  return { from: path.resolve(from), to: path.resolve(to) };
}

/** Rewrites absolute paths under a mapped folder; the longest matching folder wins. */
export class PathMap {
  private readonly mappings: readonly PathMapping[];

  constructor(mappings: readonly PathMapping[] = []) {
    this.mappings = [...mappings].sort((a, b) => b.from.length - a.from.length);
  }

  get size(): number {
    return this.mappings.length;
  }

  /** The map the other way: this worker's folders back to the submitter's. */
  reversed(): PathMap {
    return new PathMap(this.mappings.map(({ from, to }) => ({ from: to, to: from })));
  }

  /** `file` under this worker's folder, or `file` itself when no mapping covers it. */
  path(file: string): string {
    if (!path.isAbsolute(file)) return file;
    for (const { from, to } of this.mappings) {
      const relative = path.relative(from, file);
      if (relative === '') return to;
      if (!relative.startsWith('..') && !path.isAbsolute(relative)) return path.join(to, relative);
    }
    return file;
  }

  /**
   * A copy of `value` (a job's task, a suite read from its file) with every string that is an
   * absolute path mapped; hashes, names and numbers are left as they are.
   */
  apply<T>(value: T): T {
    if (this.mappings.length === 0) return value;
    const walk = (v: unknown): unknown => {
      if (typeof v === 'string') return this.path(v);
      if (Array.isArray(v)) return v.map(walk);
      if (v !== null && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) {
        return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
      }
      return v;
    };
    return walk(value) as T;
  }
}
