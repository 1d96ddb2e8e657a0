/**
 * Scores the splits of a robustness suite once their datasets are open: the part of a suite run
 * that needs no file system, shared by Node (`runSuite`, with checkpoints and shards) and the
 * browser (`runSuiteWeb`). The report is built from the records (report.ts), so a run, a resumed
 * run, merged shards and a run in the browser give the same numbers.
 */
import type { Dataset } from '../runtime/datasets/types.js';
import type { ResolvedPreset } from '../runtime/preprocess/presets.js';
import type { ProgressCallback } from '../runtime/progress.js';
import type { Session } from '../runtime/session.js';
import type { SampleRecord } from './records.js';
import { scoreSplit } from './score-split.js';
import type { SplitKind, SplitRole, SuiteConfig, SuiteSplit } from './suite-config.js';

/** A sample that could not be used, with its index in the split. */
export interface SkippedEntry {
  i: number;
  id: string;
  reason: string;
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
    /** See {@link ResolvedSplit.fingerprint}. */
    fingerprint: string;
    classIndices?: number[];
  }[];
}

/** A split with its dataset open and its classes known. */
export interface ResolvedSplit {
  split: SuiteSplit;
  dataset: Dataset;
  classes: string[];
  classIndices?: number[];
  /** Output width the kind requires (ImageNet: 1000). */
  width?: number;
  /**
   * SHA-256 (hex) of {@link fingerprintText}: the same data on another machine, at another
   * path, has the same fingerprint; relabelled data does not.
   */
  fingerprint: string;
}

/**
 * What a dataset's fingerprint hashes, in pieces: its class names, then every sample's id and
 * label in order. O(size): lists every sample once, decodes nothing.
 */
export async function* fingerprintText(dataset: Dataset): AsyncGenerator<string> {
  yield JSON.stringify(dataset.classes);
  let lines: string[] = [];
  for await (const sample of dataset.samples()) {
    lines.push(`${sample.id}\t${sample.label}\n`);
    if (lines.length === 4096) {
      yield lines.join('');
      lines = [];
    }
  }
  yield lines.join('');
}

/** Where earlier results come from and new ones go (Node's checkpoint file). */
export interface ResultStore {
  readonly contents: {
    records: ReadonlyMap<string, SampleRecord[]>;
    skipped: ReadonlyMap<string, SkippedEntry[]>;
  };
  /** Sample indices of the split already done. */
  done(split: string): ReadonlySet<number>;
  append(split: string, records: SampleRecord[], skipped: SkippedEntry[]): void;
}

/** Options of {@link scoreSuite}. */
export interface ScoreSuiteOptions {
  preset: ResolvedPreset;
  batchSize: number;
  temperature: number;
  /** The model's SHA-256, hex: part of the run's key. */
  modelSha256: string;
  maxPixels?: number;
  shard?: { index: number; count: number };
  store?: ResultStore;
  onProgress?: ProgressCallback;
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

/**
 * Checks a resolved split against the model: an empty split, an ImageNet split on a model that
 * is not 1000 wide, class indices outside the model, or more classes than outputs.
 * @throws Error for an empty split; RangeError naming the split for the others.
 */
export function checkSplit(session: Session, resolved: ResolvedSplit): void {
  const { split } = resolved;
  if (resolved.dataset.size === 0)
    throw new Error(`split '${split.name}' (${split.data}) is empty`);
  const dims = session.outputs[0]?.dims ?? [];
  const width = dims[dims.length - 1];
  const need = resolved.width;
  if (need !== undefined && typeof width === 'number' && width !== need) {
    throw new RangeError(
      `split '${split.name}' (${split.kind}) needs a model with ${need} ` +
        `outputs, one per ImageNet-1k class; the model's output '${session.outputs[0].name}' has ` +
        `${width}`,
    );
  }
  const outside = resolved.classIndices?.find((i) => typeof width === 'number' && i >= width);
  if (outside !== undefined) {
    throw new RangeError(
      `split '${split.name}' scores class index ${outside}, outside the model's ` +
        `${String(width)} outputs; fix its classIndices`,
    );
  }
  if (
    need === undefined &&
    !resolved.classIndices &&
    typeof width === 'number' &&
    split.role !== 'ood' &&
    width < resolved.classes.length
  ) {
    throw new RangeError(
      `split '${split.name}' has ${resolved.classes.length} classes but the model ` +
        `scores ${width}; give the split a classMap or classIndices that fit the model`,
    );
  }
}

/**
 * Scores every resolved split (or one shard of each) with `session`, in order. Each split must
 * have passed {@link checkSplit}.
 */
export async function scoreSuite(
  session: Session,
  suite: Pick<SuiteConfig, 'name' | 'description'>,
  resolved: ResolvedSplit[],
  options: ScoreSuiteOptions,
): Promise<SuiteRun> {
  // An OOD split's predictions are classes of its in-distribution side, and both sides must be
  // scored on the same logits, or their confidences are not comparable.
  for (const r of resolved) {
    if (r.split.role !== 'ood') continue;
    const inSide = resolved.find((t) => t.split.name === r.split.inDistribution);
    if (!inSide) continue;
    checkSameClasses(r, inSide);
    r.classes = inSide.classes;
  }
  const key = runKey(resolved, options);
  const splits: SplitRun[] = [];
  for (const r of resolved) splits.push(await runSplit(session, r, options));
  return { suite: { name: suite.name, description: suite.description }, key, splits };
}

/** The key of a run over these splits with these options. */
export function runKey(resolved: readonly ResolvedSplit[], options: ScoreSuiteOptions): RunKey {
  return {
    modelSha256: options.modelSha256,
    preset: options.preset,
    batchSize: options.batchSize,
    temperature: options.temperature,
    maxPixels: options.maxPixels ?? null,
    splits: resolved.map((r) => ({
      name: r.split.name,
      role: r.split.role,
      kind: r.split.kind ?? 'folder',
      size: r.dataset.size,
      fingerprint: r.fingerprint,
      classIndices: r.classIndices,
    })),
  };
}

function checkSameClasses(ood: ResolvedSplit, inSide: ResolvedSplit): void {
  const a = ood.classIndices;
  const b = inSide.classIndices;
  const same = b !== undefined && a?.length === b.length && a.every((x, i) => x === b[i]);
  if (a === undefined || same) return;
  throw new RangeError(
    `ood split '${ood.split.name}' scores ${a.length} classes but its in-distribution split ` +
      `'${inSide.split.name}' scores ${b?.length ?? 'all'}: ` +
      'both sides must be scored on the same classes. ' +
      `Give '${inSide.split.name}' "classFolders" with the ood split's class folders ` +
      '(the ImageNet flags do this for --val and --o)',
  );
}

async function runSplit(
  session: Session,
  r: ResolvedSplit,
  options: ScoreSuiteOptions,
): Promise<SplitRun> {
  const { split, dataset } = r;
  const { store } = options;
  const range = shardRange(dataset.size, options.batchSize, options.shard);
  const earlier = {
    records: store?.contents.records.get(split.name) ?? [],
    skipped: store?.contents.skipped.get(split.name) ?? [],
  };
  const result = await scoreSplit(session, dataset, {
    preset: options.preset,
    batchSize: options.batchSize,
    maxPixels: options.maxPixels,
    temperature: options.temperature,
    classIndices: r.classIndices,
    labelled: split.role !== 'ood',
    start: range[0],
    end: range[1],
    done: store?.done(split.name),
    onBatch: (records, skipped) => store?.append(split.name, records, skipped),
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
