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
import { emptyTopK, type TopKState } from './top-k.js';

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
 * const result = await evaluateClassifier(session, await openDataset('mnist'), { preset: 'mnist' });
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
  const rate = (k: number): number => (counts.n === 0 ? NaN : counts.correct[k - 1] / counts.n);
  return {
    n: counts.n,
    top1: rate(1),
    top5: rate(5),
    counts,
    skipped: skipped.map(({ id, reason }) => ({ id, reason })),
    preset,
    batchSize,
    output,
  };
}
