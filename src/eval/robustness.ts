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
  onProgress?: ProgressCallback;
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
  for (const split of suite.splits) {
    const r = await resolveSplit(split);
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
