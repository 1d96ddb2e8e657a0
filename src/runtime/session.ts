/**
 * Sessions: an ONNX model ready to run on the first execution provider that starts, with checked
 * feeds, plain tensors in and out, a batching helper and an idempotent `dispose()`.
 */
import type { InferenceSession as OrtSession, Tensor as OrtTensor } from 'onnxruntime-common';

import { getBackend } from './backend.js';
import {
  DEFAULT_EXECUTION_PROVIDERS,
  EXECUTION_PROVIDERS,
  parseExecutionProviders,
  type ExecutionProviderName,
  failureReason,
} from './execution-providers.js';
import { log } from './logger.js';
import { assertLocalExternalData } from './onnx/external-data.js';
import { OnnxModel } from './onnx/model.js';
import { concatBatch, sliceBatch, type Tensor, type TensorType } from './tensor.js';
import { checkFeeds } from './feeds.js';

/** Options of `Session.create`. Every field is optional. */
export interface SessionOptions {
  /**
   * Providers to try, in order (default `['cpu']` in Node, `['webgpu', 'wasm']` in the
   * browser).
   */
  executionProviders?: readonly ExecutionProviderName[] | string;
  /** Threads for one operator (default: ONNX Runtime's choice, one per core). */
  threads?: number;
  /** Graph optimizations (default `all`). */
  graphOptimizationLevel?: 'disabled' | 'basic' | 'extended' | 'all';
  /** ONNX Runtime's own log level (default `error`). */
  logLevel?: 'verbose' | 'info' | 'warning' | 'error' | 'fatal';
  /**
   * Whether ONNX Runtime's worker threads spin between runs (default true, its own default).
   * Spinning shortens the start of the next run but keeps the cores busy for a while after
   * each: false lets JavaScript work that follows a run (post-processing) have them.
   */
  spinning?: boolean;
}

/** A provider that did not start, and why. */
export interface ProviderFailure {
  name: ExecutionProviderName;
  reason: string;
}

/** Name, dims and type of a model input or output; symbolic dims are strings. */
export interface TensorInfo {
  name: string;
  dims: (number | string)[];
  type: string;
}

const OPTIMIZATION_LEVELS = ['disabled', 'basic', 'extended', 'all'] as const;
const ORT_LOG_LEVELS = ['verbose', 'info', 'warning', 'error', 'fatal'] as const;

/** ONNX Runtime's session configuration entries for these options and this model. */
function sessionConfig(
  options: SessionOptions,
  model: Parameters<typeof weightOnlyQuantized>[0],
): { extra?: Record<string, unknown> } {
  const session: Record<string, unknown> = {};
  if (weightOnlyQuantized(model)) session.disable_quant_qdq = '1';
  if (options.spinning === false) {
    session.intra_op = { allow_spinning: '0' };
    session.inter_op = { allow_spinning: '0' };
  }
  return Object.keys(session).length ? { extra: { session } } : {};
}

function validateOptions(options: SessionOptions): void {
  const { threads, graphOptimizationLevel: level, logLevel, spinning } = options;
  if (spinning !== undefined && typeof spinning !== 'boolean') {
    throw new TypeError(`spinning must be true or false, got ${String(spinning)}`);
  }
  if (threads !== undefined && !(Number.isInteger(threads) && threads >= 1 && threads <= 1024)) {
    throw new RangeError(`threads must be an integer from 1 to 1024, got ${String(threads)}`);
  }
  if (level !== undefined && !OPTIMIZATION_LEVELS.includes(level)) {
    throw new RangeError(
      `graphOptimizationLevel '${String(level)}' is not one of ${OPTIMIZATION_LEVELS.join(', ')}`,
    );
  }
  if (logLevel !== undefined && !ORT_LOG_LEVELS.includes(logLevel)) {
    throw new RangeError(
      `logLevel '${String(logLevel)}' is not one of ${ORT_LOG_LEVELS.join(', ')}`,
    );
  }
}

/**
 * True for a model whose int8 weights are turned back into floats by DequantizeLinear nodes on
 * initializers, with no QuantizeLinear anywhere (what `quantizeInt8` writes). ONNX Runtime keeps
 * such DequantizeLinear nodes for QDQ fusion, which needs quantized activations too, and so would
 * dequantize every weight on every run; with QDQ handling off it folds them once at load.
 */
function weightOnlyQuantized(model: OnnxModel): boolean {
  const nodes = model.graph.node;
  if (nodes.some((n) => n.opType === 'QuantizeLinear')) return false;
  const stored = new Set(model.graph.initializer.map((t) => t.name));
  return nodes.some((n) => n.opType === 'DequantizeLinear' && stored.has(n.input?.[0]));
}

/** The useful part of onnxruntime's message for a provider that did not start. */
function reasonOf(name: ExecutionProviderName, error: unknown): string {
  const text = (error instanceof Error ? error.message : String(error)).split('\n')[0].trim();
  if (name === 'cuda' && /shared library|cannot open shared object/i.test(text)) {
    return (
      'the CUDA provider libraries are not installed (npm skips them by default); install them ' +
      'with ONNXRUNTIME_NODE_INSTALL=cuda12 npm rebuild onnxruntime-node on a machine with CUDA 12'
    );
  }
  return failureReason(text);
}

function toInfo(meta: OrtSession.ValueMetadata): TensorInfo {
  return meta.isTensor
    ? { name: meta.name, dims: [...meta.shape], type: meta.type }
    : { name: meta.name, dims: [], type: 'non-tensor' };
}

/**
 * An inference session.
 *
 * @example
 * ```ts
 * const session = await Session.create('models/mnist-cnn.onnx', {
 *   executionProviders: 'cuda,cpu',
 * });
 * session.executionProvider; // 'cpu' on a machine without CUDA, with a warning saying why
 * const { logits } = await session.run({ input: { type: 'float32', data, dims: [1, 1, 28, 28] } });
 * await session.dispose();
 * ```
 */
export class Session {
  private released = false;
  private inputInfo?: TensorInfo[];
  private outputInfo?: TensorInfo[];

  private constructor(
    private readonly ort: OrtSession,
    /** The provider that runs this session. */
    readonly executionProvider: ExecutionProviderName,
    /** Providers asked for before it that did not start, with reasons. */
    readonly failedProviders: readonly ProviderFailure[],
    /** The decoded model, for hashing, reports and graph edits. */
    readonly model: OnnxModel,
    /** The bytes the session was created from. */
    readonly modelBytes: Uint8Array,
    readonly options: Readonly<SessionOptions>,
  ) {}

  /**
   * Creates a session from a model path (a URL in the browser) or its bytes.
   * @throws Error naming the file when it is missing or not ONNX; RangeError for a bad option;
   * Error listing every provider and its reason when none starts.
   */
  static async create(model: string | Uint8Array, options: SessionOptions = {}): Promise<Session> {
    const backend = getBackend();
    validateOptions(options);
    const providers = parseExecutionProviders(
      options.executionProviders ?? DEFAULT_EXECUTION_PROVIDERS[backend.kind],
    );
    const location = typeof model === 'string' ? model : undefined;
    const bytes = typeof model === 'string' ? await backend.readModel(model) : model;
    const decoded = OnnxModel.fromBytes(bytes, { file: location });
    const references = decoded.externalData();
    for (const ref of references) assertLocalExternalData(ref, location ?? 'model bytes');
    if (references.length > 0) await backend.checkExternalData(location, references);
    const external = references.length > 0 ? location : undefined;

    const failures: ProviderFailure[] = [];
    for (const name of providers) {
      const ortName = EXECUTION_PROVIDERS[name][backend.kind];
      if (ortName === null) {
        failures.push({ name, reason: `not available in onnxruntime-${backend.kind}` });
        continue;
      }
      const unavailable = await backend.probeProvider?.(name);
      if (unavailable !== undefined) {
        failures.push({ name, reason: unavailable });
        continue;
      }
      try {
        const ort = await backend.createSession(bytes, external, {
          executionProviders: [ortName],
          ...(options.threads === undefined ? {} : { intraOpNumThreads: options.threads }),
          graphOptimizationLevel: options.graphOptimizationLevel ?? 'all',
          logSeverityLevel: ORT_LOG_LEVELS.indexOf(options.logLevel ?? 'error') as
            0 | 1 | 2 | 3 | 4,
          ...sessionConfig(options, decoded),
        });
        for (const f of failures) {
          log.warning('session', `execution provider '${f.name}' did not start: ${f.reason}`);
        }
        log.info('session', () => `running on '${name}'`);
        return new Session(ort, name, failures, decoded, bytes, { ...options });
      } catch (error) {
        failures.push({ name, reason: reasonOf(name, error) });
      }
    }
    const list = failures.map((f) => `  ${f.name}: ${f.reason}`).join('\n');
    const fallback = backend.kind === 'web' ? 'wasm' : 'cpu';
    throw new Error(
      `no execution provider could run ${location ?? 'the model'}:\n${list}\n` +
        `Add '${fallback}' to the list to fall back to ${fallback === 'cpu' ? 'the CPU' : 'wasm'}.`,
    );
  }

  /** The model's inputs, as ONNX Runtime reports them. */
  get inputs(): TensorInfo[] {
    this.inputInfo ??= this.ort.inputMetadata.map(toInfo);
    return this.inputInfo;
  }

  /** The model's outputs, as ONNX Runtime reports them. */
  get outputs(): TensorInfo[] {
    this.outputInfo ??= this.ort.outputMetadata.map(toInfo);
    return this.outputInfo;
  }

  /**
   * Runs the model once. Feeds are checked against the model's inputs first: a wrong name,
   * dims or type is an error that says what was expected.
   * @param fetches output names to return (default all).
   */
  async run(
    feeds: Readonly<Record<string, Tensor>>,
    fetches?: readonly string[],
  ): Promise<Record<string, Tensor>> {
    if (this.released) throw new Error('session.run() called after dispose()');
    checkFeeds(feeds, this.inputs);
    const backend = getBackend();
    const ortFeeds: Record<string, OrtTensor> = {};
    for (const [name, t] of Object.entries(feeds)) ortFeeds[name] = backend.toOrtTensor(t);
    const results = fetches
      ? await this.ort.run(ortFeeds, [...fetches])
      : await this.ort.run(ortFeeds);
    const out: Record<string, Tensor> = {};
    for (const [name, value] of Object.entries(results)) {
      out[name] = {
        type: value.type as TensorType,
        dims: [...value.dims],
        data: value.data,
      };
    }
    return out;
  }

  /**
   * Runs the model over feeds of any batch size, `batchSize` rows at a time, and concatenates
   * the outputs along the batch axis. Every feed must have the same first dimension.
   */
  async runBatched(
    feeds: Readonly<Record<string, Tensor>>,
    options: { batchSize: number; fetches?: readonly string[] },
  ): Promise<Record<string, Tensor>> {
    const { batchSize } = options;
    if (!(Number.isInteger(batchSize) && batchSize >= 1)) {
      throw new RangeError(`batchSize must be a positive integer, got ${String(batchSize)}`);
    }
    const entries = Object.entries(feeds);
    const rows = entries[0]?.[1].dims[0] ?? 0;
    for (const [name, t] of entries) {
      if (t.dims[0] !== rows) {
        throw new RangeError(
          `feed '${name}' has ${t.dims[0]} rows but '${entries[0][0]}' has ${rows}; ` +
            'every feed of runBatched must share the batch size',
        );
      }
    }
    const parts: Record<string, Tensor>[] = [];
    for (let start = 0; start < rows; start += batchSize) {
      const end = Math.min(rows, start + batchSize);
      const chunk: Record<string, Tensor> = {};
      for (const [name, t] of entries) chunk[name] = sliceBatch(t, start, end);
      parts.push(await this.run(chunk, options.fetches));
    }
    if (parts.length === 0) throw new RangeError('runBatched was given feeds with 0 rows');
    const out: Record<string, Tensor> = {};
    for (const name of Object.keys(parts[0])) out[name] = concatBatch(parts.map((p) => p[name]));
    return out;
  }

  /** Frees the native session. Safe to call more than once. */
  async dispose(): Promise<void> {
    if (this.released) return;
    this.released = true;
    await this.ort.release();
  }
}
