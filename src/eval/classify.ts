/**
 * Top-1 and top-5 accuracy of a session over a dataset, the quick check behind `ortlab eval`.
 * Unusable images are counted and listed; the robustness suites report everything else.
 */
import type { SkippedSample } from '../runtime/preprocess/batch.js';
import { resolvePreset, type Preset, type ResolvedPreset } from '../runtime/preprocess/presets.js';
import type { Dataset } from '../runtime/datasets/types.js';
import type { ProgressCallback } from '../runtime/progress.js';
import type { Session } from '../runtime/session.js';
import { scoreSplit } from './score-split.js';
import { emptyTopK, mergeTopK, type TopKState } from './top-k.js';

/** Options of `evaluateClassifier`. */
export interface ClassifyOptions {
  /** Preprocessing preset, by name or as an object (default `imagenet`). */
  preset?: string | Preset;
  /** Images per run (default 32). */
  batchSize?: number;
  /** The output holding the class scores (default the model's first output). */
  output?: string;
  /** Largest k reported (default 5). */
  maxK?: number;
  /** Largest image accepted, in pixels (default PIL's 89,478,485). */
  maxPixels?: number;
  /**
   * Only samples `[start, end)`: one shard (default the whole dataset). Cut shards on multiples
   * of `batchSize` (see `shardRange`) so that every sample is scored in the company it has in one
   * run, and the merged shards give the counts of one run (`mergeClassifyResults`).
   */
  start?: number;
  end?: number;
  onProgress?: ProgressCallback;
}

/** What `evaluateClassifier` measured. */
export interface ClassifyResult {
  /** Samples scored. */
  n: number;
  top1: number;
  top5: number;
  /** Top-k counts, mergeable across shards. */
  counts: TopKState;
  /** Samples that could not be used, with reasons. */
  skipped: SkippedSample[];
  /** The preset as run, every field decided. */
  preset: ResolvedPreset;
  batchSize: number;
  output: string;
}

/**
 * Scores every sample of `dataset` with `session` and counts top-k accuracy.
 *
 * @example
 * ```ts
 * const session = await Session.create('models/mnist-cnn.onnx');
 * const result = await evaluateClassifier(session, await openDataset('mnist'), {
 *   preset: 'mnist',
 * });
 * result.top1; // 0.9887
 * ```
 */
export async function evaluateClassifier(
  session: Session,
  dataset: Dataset,
  options: ClassifyOptions = {},
): Promise<ClassifyResult> {
  const batchSize = options.batchSize ?? 32;
  if (!(Number.isInteger(batchSize) && batchSize >= 1)) {
    throw new RangeError(`batchSize must be a positive integer, got ${String(batchSize)}`);
  }
  const preset = resolvePreset(options.preset ?? 'imagenet', session.inputs[0].dims);
  const output = options.output ?? session.outputs[0].name;
  const counts = emptyTopK(Math.max(5, options.maxK ?? 5));
  // Counted batch by batch: nothing per sample outlives its batch.
  let seen = 0;
  const { skipped, width } = await scoreSplit(session, dataset, {
    preset,
    batchSize,
    output,
    maxPixels: options.maxPixels,
    start: options.start,
    end: options.end,
    onProgress: options.onProgress,
    keepRecords: false,
    onBatch: (records) => {
      seen += records.length;
      for (const r of records) {
        if (!r.finite) continue;
        counts.n++;
        for (let k = r.rank; k < counts.correct.length; k++) counts.correct[k]++;
      }
    },
  });
  if (seen > 0 && width < dataset.classes.length) {
    throw new RangeError(
      `the model scores ${width} classes but the dataset '${dataset.name}' has ` +
        `${dataset.classes.length}; pass a class map or a matching model`,
    );
  }
  return {
    ...rates(counts),
    counts,
    skipped: skipped.map(({ id, reason }) => ({ id, reason })),
    preset,
    batchSize,
    output,
  };
}

function rates(counts: TopKState): { n: number; top1: number; top5: number } {
  const rate = (k: number): number => (counts.n === 0 ? NaN : counts.correct[k - 1] / counts.n);
  return { n: counts.n, top1: rate(1), top5: rate(5) };
}

/**
 * Combines the results of disjoint shards of one dataset, given in sample order, into the
 * result of one run over all of them: counts are summed, skipped samples listed in order.
 * @throws Error when the shards were run with different presets, batch sizes or outputs.
 */
export function mergeClassifyResults(results: readonly ClassifyResult[]): ClassifyResult {
  if (results.length === 0) throw new RangeError('mergeClassifyResults needs at least one result');
  const [first] = results;
  const setting = (r: ClassifyResult): string => JSON.stringify([r.preset, r.batchSize, r.output]);
  const other = results.findIndex((r) => setting(r) !== setting(first));
  if (other >= 0) {
    throw new Error(
      `shard ${other + 1} was scored with another preset, batch size or output than shard 1; ` +
        'only shards of the same command can be merged',
    );
  }
  const counts = results.map((r) => r.counts).reduce((a, b) => mergeTopK(a, b));
  return {
    ...first,
    ...rates(counts),
    counts,
    skipped: results.flatMap((r) => r.skipped),
  };
}
