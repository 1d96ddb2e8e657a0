/**
 * Streams a dataset through a session and turns every batch of logits into per-sample records:
 * the one evaluation loop behind `eval`, the robustness suites, resuming and sharding. The next
 * batch decodes while the current one runs; unusable images are set aside with their reasons.
 */
import {
  BatchBuffers,
  loadBatch,
  type Batch,
  type SkippedSample,
} from '../runtime/preprocess/batch.js';
import type { ResolvedPreset } from '../runtime/preprocess/presets.js';
import type { Dataset, Sample } from '../runtime/datasets/types.js';
import type { ProgressCallback } from '../runtime/progress.js';
import type { Session, SessionOptions } from '../runtime/session.js';
import { recordsFromLogits, type RecordOptions, type SampleRecord } from './records.js';

/**
 * Options for a session that scores a dataset: decoding and preprocessing run in JavaScript and
 * worker threads between and beside the runs, so ONNX Runtime's threads do not spin after a
 * run (they would hold the cores the next batch is prepared on).
 */
export function scoringSessionOptions(options: SessionOptions = {}): SessionOptions {
  return { spinning: false, ...options };
}

/** Options of `scoreSplit`. */
export interface ScoreOptions extends RecordOptions {
  preset: ResolvedPreset;
  /** Images per run (default 32). */
  batchSize?: number;
  /** The output holding the logits (default the model's first output). */
  output?: string;
  /** Largest image accepted, in pixels (default PIL's 89,478,485). */
  maxPixels?: number;
  /** Only samples `[start, end)` (a shard). Default the whole dataset. */
  start?: number;
  end?: number;
  /** Sample indices already done (from a checkpoint): not decoded, not scored. */
  done?: ReadonlySet<number>;
  /** Called with each batch's results as soon as they exist (a checkpoint appends them). */
  onBatch?: (records: SampleRecord[], skipped: (SkippedSample & { i: number })[]) => void;
  onProgress?: ProgressCallback;
  /** Name of the task in progress events (default `eval <dataset>`). */
  task?: string;
  /** False for an OOD split: its labels are ignored and records carry `y = -1`. Default true. */
  labelled?: boolean;
  /**
   * Whether the result keeps every record (default true). A caller that consumes them in
   * `onBatch` passes false, and memory no longer grows with the dataset.
   */
  keepRecords?: boolean;
}

/** What `scoreSplit` produced in this call (not counting samples in `done`). */
export interface ScoreResult {
  records: SampleRecord[];
  skipped: (SkippedSample & { i: number })[];
  /** Width of the model's output. */
  width: number;
}

/**
 * Batches are the blocks `[k * size, (k + 1) * size)` of the dataset, whatever range or resumed
 * run asks for them, so that every sample is always scored in the same company: a shard, a
 * resumed run and an uninterrupted run give bit-identical logits.
 */
async function* batches(
  dataset: Dataset,
  size: number,
  range: { start?: number; end?: number },
  done: ReadonlySet<number> | undefined,
): AsyncGenerator<Sample[]> {
  let chunk: Sample[] = [];
  let block = -1;
  for await (const sample of dataset.samples(range)) {
    if (done?.has(sample.index)) continue;
    const b = Math.floor(sample.index / size);
    if (b !== block && chunk.length > 0) {
      yield chunk;
      chunk = [];
    }
    block = b;
    chunk.push(sample);
  }
  if (chunk.length > 0) yield chunk;
}

/** Checks the options against the session and returns the input and output names. */
function resolveIo(session: Session, options: ScoreOptions): { input: string; output: string } {
  const batchSize = options.batchSize ?? 32;
  if (!(Number.isInteger(batchSize) && batchSize >= 1)) {
    throw new RangeError(`batchSize must be a positive integer, got ${String(batchSize)}`);
  }
  const output = options.output ?? session.outputs[0].name;
  if (!session.outputs.some((o) => o.name === output)) {
    throw new RangeError(
      `output '${output}' is not an output of the model; outputs: ` +
        session.outputs.map((o) => o.name).join(', '),
    );
  }
  return { input: session.inputs[0].name, output };
}

/**
 * Scores the samples of `dataset` (or of a range of it) with `session`.
 */
export async function scoreSplit(
  session: Session,
  dataset: Dataset,
  options: ScoreOptions,
): Promise<ScoreResult> {
  const { input, output } = resolveIo(session, options);
  const batchSize = options.batchSize ?? 32;
  const start = options.start ?? 0;
  const end = Math.min(options.end ?? dataset.size, dataset.size);
  const total = Math.max(0, end - start);
  const task = options.task ?? `eval ${dataset.name}`;
  const result: ScoreResult = { records: [], skipped: [], width: 0 };
  let done = options.done ? [...options.done].filter((i) => i >= start && i < end).length : 0;
  options.onProgress?.({ status: 'initiate', task, total });

  const source = batches(dataset, batchSize, { start, end }, options.done);
  const buffers = new BatchBuffers();
  const load = async (): Promise<{ batch: Batch; samples: Sample[] } | undefined> => {
    const next = await source.next();
    if (next.done) return undefined;
    const { preset, maxPixels } = options;
    const batch = await loadBatch(next.value, preset, { maxPixels, buffers });
    return { batch, samples: next.value };
  };
  let pending = load();
  try {
    for (let item = await pending; item; item = await pending) {
      pending = load();
      const records = await scoreBatch(session, input, output, item.batch, item.samples, options);
      buffers.release(item.batch.data);
      result.width = records.width;
      const skipped = indexSkipped(item.batch.skipped, item.samples);
      if (options.keepRecords !== false) result.records.push(...records.records);
      result.skipped.push(...skipped);
      options.onBatch?.(records.records, skipped);
      done += item.samples.length;
      options.onProgress?.({
        status: 'progress',
        task,
        done,
        total,
        skipped: result.skipped.length,
      });
    }
  } catch (error) {
    // The next batch may be decoding; its outcome no longer matters.
    pending.catch(() => undefined);
    throw error;
  }
  options.onProgress?.({ status: 'done', task, done, total, skipped: result.skipped.length });
  return result;
}

function indexSkipped(
  skipped: SkippedSample[],
  samples: Sample[],
): (SkippedSample & { i: number })[] {
  if (skipped.length === 0) return [];
  const byId = new Map(samples.map((s) => [s.id, s.index]));
  return skipped.map((s) => ({ i: byId.get(s.id) ?? -1, ...s }));
}

async function scoreBatch(
  session: Session,
  input: string,
  output: string,
  batch: Batch,
  samples: Sample[],
  options: ScoreOptions,
): Promise<{ records: SampleRecord[]; width: number }> {
  if (batch.labels.length === 0) return { records: [], width: 0 };
  const fetched = await session.run(
    { [input]: { type: 'float32', data: batch.data, dims: batch.dims } },
    [output],
  );
  const t = fetched[output];
  const width = t.dims[t.dims.length - 1];
  if (!(width >= 1) || t.data.length !== batch.labels.length * width) {
    throw new RangeError(
      `output '${output}' has dims [${t.dims.join(', ')}]; expected [batch, classes]`,
    );
  }
  if (!(t.data instanceof Float32Array)) {
    throw new TypeError(`output '${output}' is ${t.type}; class scores must be float32`);
  }
  const byId = new Map(samples.map((s) => [s.id, s]));
  const labelled = options.labelled ?? true;
  const scored = batch.ids.map((id) => {
    const s = byId.get(id) as Sample;
    return { index: s.index, id: s.id, label: labelled ? s.label : -1 };
  });
  return { records: recordsFromLogits(t.data, width, scored, options), width };
}
