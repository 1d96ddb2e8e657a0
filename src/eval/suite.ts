/**
 * Suite configuration files in Node: read from disk, data paths resolved against the file's
 * folder (bundled dataset names are kept). The checks themselves live in suite-config.ts.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';

import { bundledDatasets } from '../runtime/datasets/open-dataset.js';
import { checkSuite, type SuiteConfig } from './suite-config.js';

export { SPLIT_KINDS, checkSuite } from './suite-config.js';
export type { SplitKind, SplitRole, SuiteConfig, SuiteSplit } from './suite-config.js';

/**
 * Checks a suite configuration and makes its data paths absolute (relative to `baseDir`).
 * @throws RangeError or TypeError naming the split and field that is wrong, and `source`.
 */
export function validateSuite(config: unknown, source: string, baseDir: string): SuiteConfig {
  return checkSuite(config, source, (p) =>
    bundledDatasets.includes(p) ? p : path.resolve(baseDir, p),
  );
}

/** Reads and checks a suite configuration file. */
export async function loadSuite(file: string): Promise<SuiteConfig> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    throw new Error(`suite configuration '${file}' not found; check the path`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new Error(`suite configuration '${file}' is not valid JSON: ${(error as Error).message}`);
  }
  return validateSuite(parsed, file, path.dirname(path.resolve(file)));
}
