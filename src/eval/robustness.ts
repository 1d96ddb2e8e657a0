/**
 * Runs a robustness suite in Node: every split opened from the file system and scored through
 * one session (suite-run.ts), per-sample records checkpointed as they are computed, optionally
 * one shard of each split. The report is built from the records (report.ts), so a run, a resumed
 * run and merged shards give the same numbers.
 */
import { createHash } from 'node:crypto';
import { stat } from 'node:fs/promises';

import { openDataset } from '../runtime/datasets/open-dataset.js';
import { log } from '../runtime/logger.js';
import type { Dataset } from '../runtime/datasets/types.js';
import { resolvePreset, type Preset } from '../runtime/preprocess/presets.js';
import type { ProgressCallback } from '../runtime/progress.js';
import { sha256 } from '../runtime/run-config.js';
import type { Session } from '../runtime/session.js';
import { Checkpoint } from './checkpoint.js';
import { imagenetMapping } from './imagenet.js';
import type { SuiteConfig, SuiteSplit } from './suite-config.js';
import {
  checkSplit,
  fingerprintText,
  runKey,
  scoreSuite,
  type ResolvedSplit,
  type SuiteRun,
} from './suite-run.js';

export { shardRange } from './suite-run.js';
export type { RunKey, SplitRun, SuiteRun } from './suite-run.js';

/** Options of `runSuite`. */
export interface RobustnessOptions {
  /** Preprocessing preset; default the suite's, else `imagenet`. */
  preset?: string | Preset;
  /** Images per run (default 32). Shards and checkpoints are cut on multiples of it. */
  batchSize?: number;
  maxPixels?: number;
  /** Temperature of the energy score (default 1). */
  temperature?: number;
  /** A checkpoint file: results are appended as computed, and read back to resume. */
  checkpoint?: string;
  /** Evaluate only shard `index` of `count` (0-based) of every split. */
  shard?: { index: number; count: number };
  /**
   * The stamps the splits' data must have, in split order (a queued shard carries the
   * submitter's): a split that lists other samples here is refused before anything is scored.
   */
  expectData?: readonly DataStamp[];
  /**
   * Called with each split's dataset once it is listed, before anything is scored (a queue
   * worker checks that every file lies inside its roots); what it throws ends the run.
   */
  checkDataset?: (dataset: Dataset, split: SuiteSplit) => Promise<void>;
  onProgress?: ProgressCallback;
}

/**
 * What identifies a dataset's listing across machines: its size and the SHA-256 of its class
 * names and every sample's id and label, in order (see `fingerprintText`). The same files under
 * another root have the same stamp; a file added, removed, renamed or relabelled changes it.
 */
export interface DataStamp {
  size: number;
  fingerprint: string;
}

/** The stamp of `dataset`; lists every sample once, decodes nothing. */
export async function dataStamp(dataset: Dataset): Promise<DataStamp> {
  return { size: dataset.size, fingerprint: await fingerprint(dataset) };
}

/**
 * Throws when `found` is not `expected`.
 * @param what The data and where it was read, for the message (`data 'x' on this worker (h)`).
 * @param fix What must agree, for the message.
 */
export function checkDataStamp(
  found: DataStamp,
  expected: DataStamp,
  what: string,
  fix = "every worker must see the submitter's files, with the same names and class folders",
): void {
  if (found.fingerprint === expected.fingerprint && found.size === expected.size) return;
  const count = (n: number) => `${n.toLocaleString('en-US')} image${n === 1 ? '' : 's'}`;
  const names = found.size === expected.size ? ' under other names or labels' : '';
  throw new Error(
    `${what} lists ${count(found.size)}${names} (fingerprint ${found.fingerprint.slice(0, 12)}), ` +
      `not the ${count(expected.size)} it was submitted with ` +
      `(${expected.fingerprint.slice(0, 12)}): ${fix}`,
  );
}

/** The stamps of a suite's splits, in order, each split resolved as `runSuite` resolves it. */
export async function suiteDataStamps(suite: SuiteConfig): Promise<DataStamp[]> {
  const stamps = [];
  for (const split of suite.splits) {
    const r = await resolveSplit(split);
    stamps.push({ size: r.dataset.size, fingerprint: r.fingerprint });
  }
  return stamps;
}

async function resolveSplit(split: SuiteSplit): Promise<ResolvedSplit> {
  const kind = split.kind ?? 'folder';
  const folders = split.classFolders;
  const isFolder = (await stat(split.data).catch(() => undefined))?.isDirectory() ?? false;
  if ((split.classMap !== undefined || folders !== undefined) && !isFolder) {
    throw new RangeError(
      `split '${split.name}': classMap and classFolders name the class folders of an image ` +
        `folder, but '${split.data}' is not a folder; its own labels are used as they are ` +
        '(give classIndices to choose which model outputs are scored)',
    );
  }
  if (kind === 'folder') {
    const dataset = await openDataset(split.data, {
      classMap: split.classMap,
      name: split.name,
      folders,
    });
    return {
      split,
      dataset,
      classes: [...dataset.classes],
      classIndices: split.classIndices,
      fingerprint: await fingerprint(dataset),
    };
  }
  const mapping = await imagenetMapping(split.data, kind, folders);
  const dataset = await openDataset(split.data, {
    classMap: mapping.classMap,
    name: split.name,
    folders,
  });
  return {
    split,
    dataset,
    classes: mapping.classes,
    classIndices: split.classIndices ?? mapping.classIndices,
    width: 1000,
    fingerprint: await fingerprint(dataset),
  };
}

async function fingerprint(dataset: Dataset): Promise<string> {
  const hash = createHash('sha256');
  for await (const text of fingerprintText(dataset)) hash.update(text);
  return hash.digest('hex');
}

/**
 * Opens the datasets of a run's splits again, by split name. A split whose data is not where the
 * run found it (shards merged on another machine) is left out with a warning.
 */
export async function openRunDatasets(run: SuiteRun): Promise<Map<string, Dataset>> {
  const map = new Map<string, Dataset>();
  for (const split of run.splits) {
    try {
      map.set(split.name, (await resolveSplit(split.source)).dataset);
    } catch (error) {
      log.warning(
        'robustness',
        `split '${split.name}': its data is not at '${split.data}' here ` +
          `(${(error as Error).message}); the report shows its mistakes without images`,
      );
    }
  }
  return map;
}

/**
 * Scores every split of `suite` (or one shard of each) with `session`.
 * @throws Error for an empty split, a model of the wrong width, or a checkpoint of another run.
 */
export async function runSuite(
  session: Session,
  suite: SuiteConfig,
  options: RobustnessOptions = {},
): Promise<SuiteRun> {
  const batchSize = options.batchSize ?? 32;
  const preset = resolvePreset(
    options.preset ?? suite.preset ?? 'imagenet',
    session.inputs[0].dims,
  );
  const temperature = options.temperature ?? 1;
  const resolved: ResolvedSplit[] = [];
  const expect = options.expectData;
  if (expect !== undefined && expect.length !== suite.splits.length) {
    throw new Error(
      `the suite has ${suite.splits.length} splits here; it was submitted with ${expect.length}`,
    );
  }
  for (const [k, split] of suite.splits.entries()) {
    const r = await resolveSplit(split);
    if (expect !== undefined) {
      const found = { size: r.dataset.size, fingerprint: r.fingerprint };
      checkDataStamp(found, expect[k], `split '${split.name}': data '${split.data}'`);
    }
    await options.checkDataset?.(r.dataset, split);
    checkSplit(session, r);
    resolved.push(r);
  }
  const scoring = {
    preset,
    batchSize,
    temperature,
    modelSha256: sha256(session.modelBytes),
    maxPixels: options.maxPixels,
    shard: options.shard,
    onProgress: options.onProgress,
  };
  const key = runKey(resolved, scoring);
  const checkpoint = options.checkpoint
    ? Checkpoint.open(options.checkpoint, { ...key, shard: options.shard ?? null })
    : undefined;
  try {
    return await scoreSuite(session, suite, resolved, { ...scoring, store: checkpoint });
  } finally {
    checkpoint?.close();
  }
}
