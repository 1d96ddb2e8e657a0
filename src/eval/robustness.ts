/**
 * Runs a robustness suite: every split through one session, per-sample records checkpointed as
 * they are computed, optionally one shard of each split. The report is built from the records
 * (report.ts), so a run, a resumed run and merged shards give the same numbers.
 */
import { createHash } from 'node:crypto';
import { stat } from 'node:fs/promises';

import { openDataset } from '../runtime/datasets/open-dataset.js';
import { log } from '../runtime/logger.js';
import type { Dataset } from '../runtime/datasets/types.js';
import { resolvePreset, type Preset, type ResolvedPreset } from '../runtime/preprocess/presets.js';
import type { ProgressCallback } from '../runtime/progress.js';
import { sha256 } from '../runtime/run-config.js';
import type { Session } from '../runtime/session.js';
import { Checkpoint, type SkippedEntry } from './checkpoint.js';
import { imagenetMapping } from './imagenet.js';
import type { SampleRecord } from './records.js';
import { scoreSplit } from './score-split.js';
import type { SplitKind, SplitRole, SuiteConfig, SuiteSplit } from './suite.js';

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

/** One split's results. */
export interface SplitRun {
  name: string;
  role: SplitRole;
  kind: SplitKind;
  data: string;
  inDistribution?: string;
  description?: string;
  /** Samples in the whole split. */
  size: number;
  /** The range this run covered. */
  range: [number, number];
  classes: string[];
  classIndices?: number[];
  records: SampleRecord[];
  skipped: SkippedEntry[];
  /** The split as configured, to open its data again (thumbnails, merging on another machine). */
  source: SuiteSplit;
}

/** What a suite run produced: enough to build its report, or to merge with other shards. */
export interface SuiteRun {
  suite: { name: string; description?: string };
  /** Everything that must agree for results to be combined. */
  key: RunKey;
  splits: SplitRun[];
}

/** The identity of a run: results with different keys are never mixed. */
export interface RunKey {
  modelSha256: string;
  preset: ResolvedPreset;
  batchSize: number;
  temperature: number;
  /** The pixel limit above which an image is skipped; null for the default. */
  maxPixels: number | null;
  splits: {
    name: string;
    role: SplitRole;
    kind: SplitKind;
    size: number;
    /**
     * sha256 of the class names and every sample's id and label, in order: the same data on
     * another machine, at another path, has the same fingerprint; relabelled data does not.
     */
    fingerprint: string;
    classIndices?: number[];
  }[];
}

interface ResolvedSplit {
  split: SuiteSplit;
  dataset: Dataset;
  classes: string[];
  classIndices?: number[];
  /** Output width the kind requires (ImageNet: 1000). */
  width?: number;
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
    return { split, dataset, classes: [...dataset.classes], classIndices: split.classIndices };
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
  };
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

/** See `RunKey.splits[].fingerprint`. O(size): lists every sample once, decodes nothing. */
async function datasetFingerprint(dataset: Dataset): Promise<string> {
  const hash = createHash('sha256').update(JSON.stringify(dataset.classes));
  let lines: string[] = [];
  for await (const sample of dataset.samples()) {
    lines.push(`${sample.id}\t${sample.label}\n`);
    if (lines.length === 4096) {
      hash.update(lines.join(''));
      lines = [];
    }
  }
  return hash.update(lines.join('')).digest('hex');
}

/** The shard's range of a split: whole batches, so that batches never straddle shards. */
export function shardRange(
  size: number,
  batchSize: number,
  shard?: { index: number; count: number },
): [number, number] {
  if (!shard) return [0, size];
  const { index, count } = shard;
  if (!(
    Number.isInteger(count) &&
    count >= 1 &&
    Number.isInteger(index) &&
    index >= 0 &&
    index < count
  )) {
    throw new RangeError(`shard ${index}/${count} is not valid; use i/n with 0 <= i < n`);
  }
  const blocks = Math.ceil(size / batchSize);
  const from = Math.floor((index * blocks) / count) * batchSize;
  const to = Math.min(size, Math.floor(((index + 1) * blocks) / count) * batchSize);
  return [from, to];
}

function checkSameClasses(ood: ResolvedSplit, inSide: ResolvedSplit): void {
  const a = ood.classIndices;
  const b = inSide.classIndices;
  if (
    a === undefined ||
    (b !== undefined && a.length === b.length && a.every((x, i) => x === b[i]))
  )
    return;
  throw new RangeError(
    `ood split '${ood.split.name}' scores ${a.length} classes but its in-distribution split ` +
      `'${inSide.split.name}' scores ${b?.length ?? 'all'}: both sides must be scored on the same ` +
      `classes. Give '${inSide.split.name}' "classFolders" with the ood split's class folders ` +
      '(the ImageNet flags do this for --val and --o)',
  );
}

function checkWidth(session: Session, resolved: ResolvedSplit): void {
  const dims = session.outputs[0]?.dims ?? [];
  const width = dims[dims.length - 1];
  const need = resolved.width;
  if (need !== undefined && typeof width === 'number' && width !== need) {
    throw new RangeError(
      `split '${resolved.split.name}' (${resolved.split.kind}) needs a model with ${need} ` +
        `outputs, one per ImageNet-1k class; the model's output '${session.outputs[0].name}' has ` +
        `${width}`,
    );
  }
  const outside = resolved.classIndices?.find((i) => typeof width === 'number' && i >= width);
  if (outside !== undefined) {
    throw new RangeError(
      `split '${resolved.split.name}' scores class index ${outside}, outside the model's ` +
        `${String(width)} outputs; fix its classIndices`,
    );
  }
  if (
    need === undefined &&
    !resolved.classIndices &&
    typeof width === 'number' &&
    resolved.split.role !== 'ood' &&
    width < resolved.classes.length
  ) {
    throw new RangeError(
      `split '${resolved.split.name}' has ${resolved.classes.length} classes but the model ` +
        `scores ${width}; give the split a classMap or classIndices that fit the model`,
    );
  }
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
    if (r.dataset.size === 0) throw new Error(`split '${split.name}' (${split.data}) is empty`);
    checkWidth(session, r);
    resolved.push(r);
  }
  // An OOD split's predictions are classes of its in-distribution side, and both sides must be
  // scored on the same logits, or their confidences are not comparable.
  for (const r of resolved) {
    if (r.split.role !== 'ood') continue;
    const inSide = resolved.find((t) => t.split.name === r.split.inDistribution);
    if (!inSide) continue;
    checkSameClasses(r, inSide);
    r.classes = inSide.classes;
  }
  const splitKeys: RunKey['splits'] = [];
  for (const r of resolved) {
    splitKeys.push({
      name: r.split.name,
      role: r.split.role,
      kind: r.split.kind ?? 'folder',
      size: r.dataset.size,
      fingerprint: await datasetFingerprint(r.dataset),
      classIndices: r.classIndices,
    });
  }
  const key: RunKey = {
    modelSha256: sha256(session.modelBytes),
    preset,
    batchSize,
    temperature,
    maxPixels: options.maxPixels ?? null,
    splits: splitKeys,
  };
  const checkpoint = options.checkpoint
    ? Checkpoint.open(options.checkpoint, { ...key, shard: options.shard ?? null })
    : undefined;
  try {
    const splits: SplitRun[] = [];
    for (const r of resolved) {
      splits.push(
        await runSplit(session, r, { ...options, batchSize, temperature }, preset, checkpoint),
      );
    }
    return { suite: { name: suite.name, description: suite.description }, key, splits };
  } finally {
    checkpoint?.close();
  }
}

async function runSplit(
  session: Session,
  r: ResolvedSplit,
  options: RobustnessOptions & { batchSize: number; temperature: number },
  preset: ResolvedPreset,
  checkpoint: Checkpoint | undefined,
): Promise<SplitRun> {
  const { split, dataset } = r;
  const range = shardRange(dataset.size, options.batchSize, options.shard);
  const earlier = {
    records: checkpoint?.contents.records.get(split.name) ?? [],
    skipped: checkpoint?.contents.skipped.get(split.name) ?? [],
  };
  const result = await scoreSplit(session, dataset, {
    preset,
    batchSize: options.batchSize,
    maxPixels: options.maxPixels,
    temperature: options.temperature,
    classIndices: r.classIndices,
    labelled: split.role !== 'ood',
    start: range[0],
    end: range[1],
    done: checkpoint?.done(split.name),
    onBatch: (records, skipped) => checkpoint?.append(split.name, records, skipped),
    onProgress: options.onProgress,
    task: split.name,
  });
  return {
    name: split.name,
    role: split.role,
    kind: split.kind ?? 'folder',
    data: dataset.location,
    inDistribution: split.inDistribution,
    description: split.description,
    size: dataset.size,
    range,
    classes: r.classes,
    classIndices: r.classIndices,
    records: [...earlier.records, ...result.records],
    skipped: [...earlier.skipped, ...result.skipped],
    source: split,
  };
}
