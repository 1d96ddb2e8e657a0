/**
 * Finds ortlab's installed folder, where the bundled `data/` and `models/` live, from the
 * location of this module: the same code runs from `src/` under tsx and from `dist/` once built,
 * at different depths. Node only.
 */

import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const PACKAGE_NAME = 'ortlab';

let cached: string | undefined;

function isOurPackage(folder: string): boolean {
  const manifest = join(folder, 'package.json');
  if (!existsSync(manifest)) return false;
  try {
    const parsed = JSON.parse(readFileSync(manifest, 'utf8')) as { name?: unknown };
    return parsed.name === PACKAGE_NAME;
  } catch {
    return false;
  }
}

/**
 * The folder holding ortlab's `package.json`, found by walking up from `from` (default: this
 * module's folder). The default result is cached.
 *
 * @throws Error when no folder above `from` holds a `package.json` named `ortlab`.
 *
 * @example
 * ```ts
 * packageRoot(); // '/home/me/project/node_modules/ortlab'
 * ```
 */
export function packageRoot(from?: string): string {
  if (from === undefined && cached !== undefined) return cached;
  const start = from ?? dirname(fileURLToPath(import.meta.url));

  for (let folder = start; ; folder = dirname(folder)) {
    if (isOurPackage(folder)) {
      if (from === undefined) cached = folder;
      return folder;
    }
    if (dirname(folder) === folder) break;
  }
  throw new Error(
    `cannot find ortlab's package folder above '${start}': no package.json named ` +
      `'${PACKAGE_NAME}'; pass the data folder explicitly (options.dataDir)`,
  );
}
