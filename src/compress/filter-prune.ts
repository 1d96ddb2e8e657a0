/**
 * Structured filter pruning by L1 norm (Li et al. 2017, "Pruning Filters for Efficient
 * ConvNets"): in each convolution, the filters with the smallest sum of absolute weights are
 * removed, with their bias, the matching batch-normalization channels and the matching input
 * channels of the layer that reads them. The pruned model is smaller and faster, not just
 * sparser.
 */
import type { Graph, OnnxModel } from '../runtime/onnx/model.js';
import type { NodeProto } from '../runtime/onnx/proto.js';
import { indexGraph, intAttribute, replaceWeight, type GraphIndex } from './graph-index.js';
import { checkRatio } from './magnitude-prune.js';

/** Operators that keep channels apart: they pass a pruned channel set through unchanged. */
const CHANNELWISE = new Set([
  'Relu',
  'LeakyRelu',
  'Elu',
  'Selu',
  'Sigmoid',
  'Tanh',
  'HardSigmoid',
  'HardSwish',
  'Clip',
  'MaxPool',
  'AveragePool',
  'Dropout',
  'Identity',
  'BatchNormalization',
]);

/** One convolution's outcome. */
export interface FilterPruneLayer {
  conv: string;
  weight: string;
  filtersBefore: number;
  filtersAfter: number;
  /** The filters kept, by their original index (all of them for a skipped layer). */
  kept: number[];
  /** Set when the layer was left whole, with the reason. */
  skipped?: string;
}

/** What {@link pruneFilters} did. */
export interface FilterPruneResult {
  layers: FilterPruneLayer[];
  parametersBefore: number;
  parametersAfter: number;
}

/** Where a convolution's output channels end up: the nodes to shrink along with it. */
interface Path {
  /** Batch normalizations on the way, whose parameters lose the same channels. */
  norms: NodeProto[];
  /** Tensors whose channel count changes. */
  tensors: string[];
  /** The reader: a Conv (input channels, axis 1) or a Gemm / MatMul after global pooling. */
  reader: { node: NodeProto; kind: 'conv' | 'gemm' | 'matmul' };
}

function single(index: GraphIndex, tensor: string): NodeProto | string {
  const readers = index.consumers.get(tensor) ?? [];
  if (index.outputs.has(tensor)) return `its output channels reach the graph output '${tensor}'`;
  if (readers.length !== 1) {
    const ops = readers.map((r) => r.opType).join(', ');
    return `'${tensor}' is read by ${readers.length} nodes (${ops})`;
  }
  return readers[0];
}

/** Follows a convolution's output to the one layer that reads its channels, or says why not. */
function tracePath(index: GraphIndex, conv: NodeProto): Path | string {
  const norms: NodeProto[] = [];
  const tensors: string[] = [];
  let tensor = conv.output![0];
  for (;;) {
    tensors.push(tensor);
    const next = single(index, tensor);
    if (typeof next === 'string') return next;
    const op = next.opType ?? '';
    if (next.input?.[0] !== tensor) return `'${tensor}' is not the data input of ${op}`;
    if (op === 'Conv') {
      if (intAttribute(next, 'group', 1) !== 1) return 'it feeds a grouped convolution';
      return { norms, tensors, reader: { node: next, kind: 'conv' } };
    }
    if (op === 'GlobalAveragePool' || op === 'GlobalMaxPool')
      return traceHead(index, next, norms, tensors);
    if (!CHANNELWISE.has(op)) return `it feeds ${op}, which mixes or reshapes channels`;
    if (op === 'BatchNormalization') norms.push(next);
    tensor = next.output![0];
  }
}

/** Global pooling, then Flatten (or a Reshape / Squeeze), then the linear layer. */
function traceHead(index: GraphIndex, pool: NodeProto, norms: NodeProto[], tensors: string[]) {
  let tensor = pool.output![0];
  for (;;) {
    tensors.push(tensor);
    const next = single(index, tensor);
    if (typeof next === 'string') return next;
    const op = next.opType ?? '';
    if (op === 'Flatten' || op === 'Reshape' || op === 'Squeeze') {
      tensor = next.output![0];
      continue;
    }
    if (op === 'Gemm' && next.input?.[0] === tensor && intAttribute(next, 'transA', 0) === 0) {
      return { norms, tensors, reader: { node: next, kind: 'gemm' as const } };
    }
    if (op === 'MatMul' && next.input?.[0] === tensor) {
      return { norms, tensors, reader: { node: next, kind: 'matmul' as const } };
    }
    return `after global pooling it feeds ${op}, not a linear layer`;
  }
}

/** The `keep` filters of largest L1 norm, in their original order. */
function filtersToKeep(weight: Float32Array, filters: number, keep: number): number[] {
  const size = weight.length / filters;
  const norms = Array.from({ length: filters }, (_, f) => {
    let sum = 0;
    for (let i = f * size; i < (f + 1) * size; i++) sum += Math.abs(weight[i]);
    return sum;
  });
  const order = norms.map((n, f) => [n, f] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1]);
  return order
    .slice(0, keep)
    .map(([, f]) => f)
    .sort((a, b) => a - b);
}

/** Keeps the `kept` entries of `axis` of a tensor of `dims`. */
function select(data: Float32Array, dims: number[], axis: number, kept: number[]): Float32Array {
  const outer = dims.slice(0, axis).reduce((a, b) => a * b, 1);
  const inner = dims.slice(axis + 1).reduce((a, b) => a * b, 1);
  const out = new Float32Array(outer * kept.length * inner);
  let o = 0;
  for (let a = 0; a < outer; a++) {
    for (const k of kept) {
      const from = (a * dims[axis] + k) * inner;
      out.set(data.subarray(from, from + inner), o);
      o += inner;
    }
  }
  return out;
}

function shrink(model: OnnxModel, name: string, axis: number, kept: number[]): void {
  const dims = model.weights().find((w) => w.name === name)!.dims;
  const data = select(model.getWeight(name), dims, axis, kept);
  replaceWeight(
    model.graph,
    name,
    data,
    dims.map((d, i) => (i === axis ? kept.length : d)),
  );
}

function isWeight(model: OnnxModel, name: string | undefined): name is string {
  return name !== undefined && model.weights().some((w) => w.name === name);
}

/** Options of {@link pruneFilters}. */
export interface FilterPruneOptions {
  /**
   * Round the filters kept in each layer to the nearest multiple of this (ties up, at least one
   * multiple, never more than the layer has). Default 1: exactly as {@link filtersKept}. ONNX
   * Runtime's CPU convolutions work on blocks of 8 channels; other counts take a slower path
   * (see the attribution benchmark), so 8 gives faster models at about the same ratio.
   */
  channelMultiple?: number;
}

/** `x` rounded to the nearest integer, halves to the even one, as Python's `round` does. */
function roundHalfEven(x: number): number {
  const whole = Math.floor(x);
  const fraction = x - whole;
  if (fraction !== 0.5) return fraction < 0.5 ? whole : whole + 1;
  return whole % 2 === 0 ? whole : whole + 1;
}

/**
 * Filters kept in a layer of `filters` at `ratio`: `round(ratio x filters)` filters are removed,
 * the rule of `torch.nn.utils.prune.ln_structured` for a fractional amount (Python's `round`,
 * halves to the even count; 30 % of 16 removes 5), and at least one filter is kept.
 */
export function filtersKept(filters: number, ratio: number, multiple = 1): number {
  const keep = Math.max(1, filters - roundHalfEven(ratio * filters));
  if (multiple <= 1) return keep;
  return Math.min(filters, Math.max(multiple, Math.round(keep / multiple) * multiple));
}

function pruneLayer(
  model: OnnxModel,
  conv: NodeProto,
  path: Path,
  ratio: number,
  multiple: number,
) {
  const weight = conv.input![1];
  const dims = model.weights().find((w) => w.name === weight)!.dims;
  const filters = dims[0];
  const keep = filtersKept(filters, ratio, multiple);
  const kept = filtersToKeep(model.getWeight(weight), filters, keep);
  shrink(model, weight, 0, kept);
  if (isWeight(model, conv.input?.[2])) shrink(model, conv.input[2], 0, kept);
  for (const norm of path.norms) for (const p of norm.input!.slice(1)) shrink(model, p, 0, kept);

  const { node, kind } = path.reader;
  const readerWeight = node.input![1];
  const transB = kind === 'gemm' && intAttribute(node, 'transB', 0) === 1;
  shrink(model, readerWeight, kind === 'conv' || transB ? 1 : 0, kept);
  return { filtersBefore: filters, filtersAfter: keep, kept };
}

function checkable(model: OnnxModel, conv: NodeProto, path: Path): string | undefined {
  if (!isWeight(model, conv.input?.[1])) return 'its kernel is not a stored weight';
  if (intAttribute(conv, 'group', 1) !== 1) return 'it is a grouped convolution';
  for (const norm of path.norms) {
    if (!norm.input!.slice(1).every((p) => isWeight(model, p))) {
      return `batch normalization '${norm.name}' has parameters that are not stored weights`;
    }
  }
  if (!isWeight(model, path.reader.node.input?.[1])) return 'the next layer has no stored kernel';
  return undefined;
}

function dropShapes(graph: Graph, tensors: readonly string[]): void {
  const changed = new Set(tensors);
  graph.valueInfo = (graph.valueInfo ?? []).filter((v) => !changed.has(v.name ?? ''));
}

/**
 * Removes the `ratio` fraction of filters (`round(ratio x filters)` as PyTorch's pruning rounds
 * it, at least one kept; see {@link filtersKept}) from every convolution whose output channels
 * can be followed to the one layer that reads them: another convolution, or global pooling and
 * a linear layer. Convolutions whose output is added to
 * another tensor, concatenated, read twice or returned by the graph are left whole and listed
 * with the reason. Filters are ranked by their L1 norm after the input channels removed by the
 * previous layer.
 *
 * @throws RangeError for a ratio outside [0, 1); Error when no convolution can be pruned.
 * @example
 * ```ts
 * const model = await loadOnnxModel('models/mnist-cnn.onnx');
 * // { conv: '/conv1/Conv', filtersBefore: 16, filtersAfter: 8, ... }
 * pruneFilters(model, 0.5).layers[0];
 * ```
 */
export function pruneFilters(
  model: OnnxModel,
  ratio: number,
  options: FilterPruneOptions = {},
): FilterPruneResult {
  checkRatio(ratio, 'the filter prune ratio');
  const multiple = options.channelMultiple ?? 1;
  if (!(Number.isInteger(multiple) && multiple >= 1)) {
    throw new RangeError(`channelMultiple must be a positive integer, got ${String(multiple)}`);
  }
  const parametersBefore = model.parameterCount();
  const layers: FilterPruneLayer[] = [];
  const convs = model.graph.node.filter((n) => n.opType === 'Conv');
  if (convs.length === 0) throw new Error('the model has no Conv node: no filter to prune');
  for (const conv of convs) {
    const entry = { conv: conv.name || conv.output![0], weight: conv.input?.[1] ?? '' };
    const filters = model.weights().find((w) => w.name === entry.weight)?.dims[0] ?? 0;
    const path = tracePath(indexGraph(model.graph), conv);
    const why = typeof path === 'string' ? path : checkable(model, conv, path);
    if (typeof path === 'string' || why !== undefined) {
      const kept = Array.from({ length: filters }, (_, f) => f);
      layers.push({ ...entry, filtersBefore: filters, filtersAfter: filters, kept, skipped: why });
      continue;
    }
    layers.push({ ...entry, ...pruneLayer(model, conv, path, ratio, multiple) });
    dropShapes(model.graph, path.tensors);
  }
  if (layers.every((l) => l.skipped !== undefined)) {
    const reasons = layers.map((l) => `${l.conv}: ${l.skipped}`).join('; ');
    throw new Error(`no convolution of the model can lose filters (${reasons})`);
  }
  return { layers, parametersBefore, parametersAfter: model.parameterCount() };
}
