/**
 * Classification accuracy of a session over a dataset: streamed in batches, the next batch
 * decoding while the current one runs, unusable images counted and listed.
 */
import { loadBatch, type Batch, type SkippedSample } from '../runtime/preprocess/batch.js';
import { resolvePreset, type Preset, type ResolvedPreset } from '../runtime/preprocess/presets.js';
import type { Dataset, Sample } from '../runtime/datasets/types.js';
import type { ProgressCallback } from '../runtime/progress.js';
import type { Session } from '../runtime/session.js';
import { addTopK, emptyTopK, type TopKState } from './top-k.js';

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

async function* batches(dataset: Dataset, size: number): AsyncGenerator<Sample[]> {
  let chunk: Sample[] = [];
  for await (const sample of dataset.samples()) {
    chunk.push(sample);
    if (chunk.length === size) {
      yield chunk;
      chunk = [];
    }
  }
  if (chunk.length > 0) yield chunk;
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
  const input = session.inputs[0];
  const preset = resolvePreset(options.preset ?? 'imagenet', input.dims);
  const output = options.output ?? session.outputs[0].name;
  if (!session.outputs.some((o) => o.name === output)) {
    throw new RangeError(
      `output '${output}' is not an output of the model; outputs: ` +
        session.outputs.map((o) => o.name).join(', '),
    );
  }
  const counts = emptyTopK(Math.max(5, options.maxK ?? 5));
  const skipped: SkippedSample[] = [];
  const task = `eval ${dataset.name}`;
  options.onProgress?.({ status: 'initiate', task, total: dataset.size });

  const source = batches(dataset, batchSize);
  const load = async (): Promise<Batch | undefined> => {
    const next = await source.next();
    return next.done ? undefined : loadBatch(next.value, preset, { maxPixels: options.maxPixels });
  };
  let pending = load();
  let done = 0;
  try {
    for (let batch = await pending; batch; batch = await pending) {
      pending = load();
      skipped.push(...batch.skipped);
      done += batch.labels.length + batch.skipped.length;
      if (batch.labels.length > 0) {
        const { scores, classes } = await scoreBatch(session, input.name, output, batch);
        if (classes < dataset.classes.length) {
          throw new RangeError(
            `the model scores ${classes} classes but the dataset '${dataset.name}' has ` +
              `${dataset.classes.length}; pass a class map or a matching model`,
          );
        }
        addTopK(counts, scores, batch.labels, classes);
      }
      const total = dataset.size;
      options.onProgress?.({ status: 'progress', task, done, total, skipped: skipped.length });
    }
  } catch (error) {
    // The next batch may be decoding; its outcome no longer matters.
    pending.catch(() => undefined);
    throw error;
  }
  options.onProgress?.({
    status: 'done',
    task,
    done,
    total: dataset.size,
    skipped: skipped.length,
  });
  const rate = (k: number): number => (counts.n === 0 ? NaN : counts.correct[k - 1] / counts.n);
  return { n: counts.n, top1: rate(1), top5: rate(5), counts, skipped, preset, batchSize, output };
}

/** Runs one batch and returns its class scores `[rows, classes]`. */
async function scoreBatch(
  session: Session,
  inputName: string,
  output: string,
  batch: Batch,
): Promise<{ scores: Float32Array; classes: number }> {
  const fetched = await session.run(
    { [inputName]: { type: 'float32', data: batch.data, dims: batch.dims } },
    [output],
  );
  const t = fetched[output];
  const classes = t.dims[t.dims.length - 1];
  if (!(classes >= 1) || t.data.length !== batch.labels.length * classes) {
    throw new RangeError(
      `output '${output}' has dims [${t.dims.join(', ')}]; expected [batch, classes]`,
    );
  }
  return { scores: toFloat32(t.data), classes };
}

function toFloat32(data: unknown): Float32Array {
  if (data instanceof Float32Array) return data;
  if (data instanceof Float64Array || data instanceof Uint16Array) {
    throw new TypeError('class scores must be float32; convert the model output to float32');
  }
  throw new TypeError('class scores must be a float32 tensor');
}
