/**
 * How a compressed model compares with its original: bytes, parameters, sparsity, latency on
 * the same batch, and how often the two predict the same class.
 */
import { OnnxModel } from '../runtime/onnx/model.js';
import { Session, type SessionOptions } from '../runtime/session.js';
import type { ValidationSet } from '../search/validation-set.js';
import { kernels } from './graph-index.js';

/** Size and sparsity of one model. */
export interface ModelFigures {
  bytes: number;
  /** Weight entries of every stored type (int8 kernels included), and those that are not 0. */
  parameters: number;
  nonzeroParameters: number;
  /** Fraction of kernel entries that are zero (after dequantization for int8 kernels). */
  sparsity: number;
  /** Median milliseconds per run of the latency batch. */
  latencyMs: number;
  accuracy: number;
}

/** Result of {@link compareModels}. */
export interface CompressionComparison {
  original: ModelFigures;
  compressed: ModelFigures;
  /** Fraction of samples on which both predict the same class. */
  top1Agreement: number;
  /** compressed / original. */
  latencyRatio: number;
  sizeRatio: number;
  samples: number;
  latencyBatch: number;
  executionProvider: string;
}

/** Options of {@link compareModels}. */
export interface CompareOptions {
  session?: SessionOptions;
  /** Timed runs of the first batch per model, alternating (default 20). */
  rounds?: number;
}

function figures(bytes: Uint8Array): Omit<ModelFigures, 'latencyMs' | 'accuracy'> {
  const model = OnnxModel.fromBytes(bytes);
  let parameters = 0;
  let nonzero = 0;
  for (const weight of model.weights()) {
    if (!/^(float|int8|uint8)/.test(weight.type) || weight.external) continue;
    const data = model.getWeight(weight.name);
    parameters += data.length;
    for (let i = 0; i < data.length; i++) if (data[i] !== 0) nonzero++;
  }
  let zeros = 0;
  let total = 0;
  const quantized = new Set(
    model.graph.node.filter((n) => n.opType === 'DequantizeLinear').map((n) => n.output![0]),
  );
  const kernelNames = [
    ...kernels(model.graph).map((k) => k.name),
    ...[...quantized].map((name) => `${name}_quantized`),
  ];
  for (const name of kernelNames) {
    if (!model.weights().some((w) => w.name === name)) continue;
    const data = model.getWeight(name);
    for (let i = 0; i < data.length; i++) if (data[i] === 0) zeros++;
    total += data.length;
  }
  const sparsity = total === 0 ? 0 : zeros / total;
  return { bytes: bytes.length, parameters, nonzeroParameters: nonzero, sparsity };
}

async function predictions(session: Session, set: ValidationSet): Promise<Int32Array> {
  const input = session.inputs[0].name;
  const output = session.outputs[0].name;
  const out = new Int32Array(set.n);
  let offset = 0;
  for (const batch of set.batches) {
    const feeds = { [input]: { type: 'float32' as const, data: batch.data, dims: batch.dims } };
    const logits = (await session.run(feeds, [output]))[output];
    const classes = logits.dims[logits.dims.length - 1];
    const data = logits.data as Float32Array;
    for (let b = 0; b < batch.labels.length; b++) {
      let best = 0;
      for (let c = 1; c < classes; c++)
        if (data[b * classes + c] > data[b * classes + best]) best = c;
      out[offset + b] = best;
    }
    offset += batch.labels.length;
  }
  return out;
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

/**
 * Scores both models on `set`: accuracy of each and their top-1 agreement; sizes, parameter
 * counts and sparsity from the bytes; latency as the median time of `rounds` runs of the set's
 * first batch, the two models alternating so that both see the same machine load.
 */
export async function compareModels(
  originalBytes: Uint8Array,
  compressedBytes: Uint8Array,
  set: ValidationSet,
  options: CompareOptions = {},
): Promise<CompressionComparison> {
  const rounds = options.rounds ?? 20;
  const sessions = [
    await Session.create(originalBytes, options.session),
    await Session.create(compressedBytes, options.session),
  ];
  try {
    const [a, b] = [await predictions(sessions[0], set), await predictions(sessions[1], set)];
    const labels = set.batches.flatMap((batch) => Array.from(batch.labels));
    let agree = 0;
    const right = [0, 0];
    for (let i = 0; i < set.n; i++) {
      if (a[i] === b[i]) agree++;
      if (a[i] === labels[i]) right[0]++;
      if (b[i] === labels[i]) right[1]++;
    }
    const first = set.batches[0];
    const times: number[][] = [[], []];
    for (let r = 0; r < rounds + 1; r++) {
      for (const [i, session] of sessions.entries()) {
        const feeds = {
          [session.inputs[0].name]: {
            type: 'float32' as const,
            data: first.data,
            dims: first.dims,
          },
        };
        const start = performance.now();
        await session.run(feeds);
        if (r > 0) times[i].push(performance.now() - start);
      }
    }
    const original = {
      ...figures(originalBytes),
      latencyMs: median(times[0]),
      accuracy: right[0] / set.n,
    };
    const compressed = {
      ...figures(compressedBytes),
      latencyMs: median(times[1]),
      accuracy: right[1] / set.n,
    };
    return {
      original,
      compressed,
      top1Agreement: agree / set.n,
      latencyRatio: compressed.latencyMs / original.latencyMs,
      sizeRatio: compressed.bytes / original.bytes,
      samples: set.n,
      latencyBatch: first.labels.length,
      executionProvider: sessions[0].executionProvider,
    };
  } finally {
    await Promise.all(sessions.map((s) => s.dispose()));
  }
}
