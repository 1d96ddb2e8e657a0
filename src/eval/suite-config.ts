/**
 * Suite configurations: the splits of a robustness evaluation (clean, shifted, out of
 * distribution), where their data is, how their folders map to classes and which model outputs
 * they score. The ImageNet variants are protocols of a split; a user's own sets are first-class.
 * Pure checks, shared by the Node and browser builds (suite.ts reads files, suite-web.ts URLs).
 */
import type { Preset } from '../runtime/preprocess/presets.js';

export type SplitRole = 'clean' | 'shifted' | 'ood';

/**
 * How a split's data is read. `folder`: a dataset as `openDataset` reads it. The ImageNet
 * protocols read a folder per class: `imagenet` and `imagenet-a`, `-r`, `-o` have wnid folders
 * and score only those classes' logits; `imagenet-v2` has folders `0..999`.
 */
export type SplitKind =
  'folder' | 'imagenet' | 'imagenet-v2' | 'imagenet-a' | 'imagenet-r' | 'imagenet-o';

export const SPLIT_KINDS: readonly SplitKind[] = Object.freeze([
  'folder',
  'imagenet',
  'imagenet-v2',
  'imagenet-a',
  'imagenet-r',
  'imagenet-o',
]);

/** One split of a suite. */
export interface SuiteSplit {
  name: string;
  role: SplitRole;
  /** A bundled dataset name, a folder, an IDX file or a file list; relative to the config. */
  data: string;
  /** Default `folder`. */
  kind?: SplitKind;
  /** Folder name to class index, or a JSON file holding one (folder kind). */
  classMap?: Record<string, number> | string[] | string;
  /** Model outputs to score, in order, before softmax (default all). */
  classIndices?: number[];
  /** Read only these class folders of `data` (default all), e.g. a 200-class subset of val. */
  classFolders?: string[];
  /** For an `ood` split: the split whose samples are the in-distribution side. */
  inDistribution?: string;
  description?: string;
  /** How the split is scored and what it measures, in words, for the report. */
  protocol?: string;
}

/** A suite configuration file's contents. */
export interface SuiteConfig {
  name: string;
  description?: string;
  /** Preprocessing preset for every split (the CLI's `--preset` overrides it). */
  preset?: string | Preset;
  /** Class names, for reports. */
  classes?: string[];
  splits: SuiteSplit[];
}

const ROLES: readonly SplitRole[] = ['clean', 'shifted', 'ood'];

/**
 * Checks a suite configuration and resolves its data paths (and class map files) with
 * `resolveData`: against a folder in Node, against the suite's URL in the browser.
 * @throws RangeError naming the split and field that is wrong, and `source`.
 */
export function checkSuite(
  config: unknown,
  source: string,
  resolveData: (data: string) => string,
): SuiteConfig {
  const fail = (message: string): never => {
    throw new RangeError(`${source}: ${message}`);
  };
  if (!config || typeof config !== 'object') fail('a suite is a JSON object with "splits"');
  const suite = config as SuiteConfig;
  if (typeof suite.name !== 'string' || !suite.name) fail('"name" must be a non-empty string');
  if (!Array.isArray(suite.splits) || suite.splits.length === 0) {
    fail('"splits" must be a non-empty array');
  }
  const names = new Set<string>();
  const splits = suite.splits.map((split, n) => {
    const where = `split ${n + 1}${typeof split?.name === 'string' ? ` '${split.name}'` : ''}`;
    if (typeof split?.name !== 'string' || !split.name) fail(`${where}: "name" is required`);
    if (names.has(split.name)) fail(`${where}: the name is used twice`);
    names.add(split.name);
    if (!ROLES.includes(split.role)) {
      fail(`${where}: "role" must be one of ${ROLES.join(', ')}, got ${String(split.role)}`);
    }
    if (typeof split.data !== 'string' || !split.data) fail(`${where}: "data" is required`);
    const kind = split.kind ?? 'folder';
    if (!SPLIT_KINDS.includes(kind)) {
      fail(`${where}: "kind" must be one of ${SPLIT_KINDS.join(', ')}, got ${kind}`);
    }
    if (split.role === 'ood' && typeof split.inDistribution !== 'string') {
      fail(`${where}: an ood split needs "inDistribution", the name of a clean or shifted split`);
    }
    if (
      split.classFolders !== undefined &&
      !(
        Array.isArray(split.classFolders) &&
        split.classFolders.length > 0 &&
        split.classFolders.every((f) => typeof f === 'string' && f)
      )
    ) {
      fail(`${where}: "classFolders" must be a non-empty list of folder names`);
    }
    if (split.classIndices !== undefined && !isIndexList(split.classIndices)) {
      fail(`${where}: "classIndices" must be a list of distinct non-negative integers`);
    }
    return {
      ...split,
      kind,
      data: resolveData(split.data),
      classMap: typeof split.classMap === 'string' ? resolveData(split.classMap) : split.classMap,
    };
  });
  for (const split of splits) {
    if (split.role !== 'ood') continue;
    const target = splits.find((s) => s.name === split.inDistribution);
    if (!target || target.role === 'ood') {
      fail(
        `split '${split.name}': inDistribution '${split.inDistribution}' must name a clean or ` +
          `shifted split of this suite (${splits
            .filter((s) => s.role !== 'ood')
            .map((s) => s.name)
            .join(', ')})`,
      );
    }
  }
  return { ...suite, splits };
}

function isIndexList(value: unknown): value is number[] {
  return (
    Array.isArray(value) &&
    value.every((v) => Number.isInteger(v) && v >= 0) &&
    new Set(value).size === value.length
  );
}
