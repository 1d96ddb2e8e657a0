/**
 * A validation set held in memory as preprocessed batches, so that the many passes of a
 * flatness measurement or a search decode each image once.
 */
import { loadBatch, type SkippedSample } from '../runtime/preprocess/batch.js';
import type { ResolvedPreset } from '../runtime/preprocess/presets.js';
import type { Dataset, Sample } from '../runtime/datasets/types.js';
import { nll } from '../eval/metrics/calibration.js';
import type { Session } from '../runtime/session.js';
import type { Tensor } from '../runtime/tensor.js';

/** Preprocessed batches with their labels. */
export interface ValidationSet {
  name: string;
  batches: { data: Float32Array; dims: number[]; labels: Int32Array }[];
  /** Samples held. */
  n: number;
  skipped: SkippedSample[];
  preset: ResolvedPreset;
  /**
   * Classes the dataset names; a model scored on the set must score as many. Unset (a set built
   * by hand): only the labels are checked against the model's outputs.
   */
  classes?: number;
}

/**
 * Decodes the first `limit` samples of `dataset` (default all) into batches of `batchSize`
 * (default 256). Memory: `n x channels x height x width` floats.
 */
export async function loadValidationSet(
  dataset: Dataset,
  preset: ResolvedPreset,
  options: { limit?: number; batchSize?: number } = {},
): Promise<ValidationSet> {
  const batchSize = options.batchSize ?? 256;
  const end = Math.min(dataset.size, options.limit ?? dataset.size);
  const set: ValidationSet = {
    name: dataset.name,
    batches: [],
    n: 0,
    skipped: [],
    preset,
    classes: dataset.classes.length,
  };
  let chunk: Sample[] = [];
  const flush = async (): Promise<void> => {
    const batch = await loadBatch(chunk, preset);
    set.skipped.push(...batch.skipped);
    if (batch.labels.length > 0) {
      set.batches.push({ data: batch.data.slice(), dims: batch.dims, labels: batch.labels });
      set.n += batch.labels.length;
    }
    chunk = [];
  };
  for await (const sample of dataset.samples({ end })) {
    chunk.push(sample);
    if (chunk.length === batchSize) await flush();
  }
  if (chunk.length > 0) await flush();
  if (set.n === 0) throw new Error(`validation data '${dataset.name}' holds no usable sample`);
  return set;
}

/**
 * Mean cross-entropy of the labels under the softmax of the model's first output, over the
 * whole set. `extraFeeds` are added to every run (weights fed as inputs).
 * @throws RangeError when the model's output width differs from the set's class count, or is
 * smaller than a label.
 */
export async function meanCrossEntropy(
  session: Session,
  set: ValidationSet,
  extraFeeds: Readonly<Record<string, Tensor>> = {},
): Promise<number> {
  const input = session.inputs.find((i) => !(i.name in extraFeeds))?.name ?? session.inputs[0].name;
  const output = session.outputs[0].name;
  let total = 0;
  for (const batch of set.batches) {
    const feeds = {
      ...extraFeeds,
      [input]: { type: 'float32' as const, data: batch.data, dims: batch.dims },
    };
    const logits = (await session.run(feeds, [output]))[output];
    const classes = logits.dims[logits.dims.length - 1];
    if (set.classes !== undefined && set.classes !== classes) {
      throw new RangeError(
        `the data '${set.name}' has ${set.classes} classes but the model's output '${output}' ` +
          `scores ${classes}; pass data labelled with the model's ${classes} classes`,
      );
    }
    const maxLabel = batch.labels.reduce((a, b) => Math.max(a, b), 0);
    if (maxLabel >= classes) {
      throw new RangeError(
        `the data has label ${maxLabel} but the model's output '${output}' scores ${classes} ` +
          'classes; pass data whose labels match the model',
      );
    }
    total += nll(logits.data as Float32Array, batch.labels, classes) * batch.labels.length;
  }
  return total / set.n;
}
