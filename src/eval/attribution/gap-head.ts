/**
 * Finds a classifier's global-average-pooling head: the feature map that is averaged, and the
 * linear layer that scores its channels. There the gradient of a class score with respect to
 * the feature map is that class's linear weights divided by the map's area, so Grad-CAM is exact
 * without automatic differentiation.
 */
import { indexGraph, intAttribute, readFloatWeight } from '../../compress/graph-index.js';
import { tensorNames } from '../../runtime/onnx/edit.js';
import type { OnnxModel } from '../../runtime/onnx/model.js';
import { toNumber, type NodeProto } from '../../runtime/onnx/proto.js';

/** The head of a GAP classifier. */
export interface GapHead {
  /** The tensor averaged by the pooling: `[batch, channels, height, width]`. */
  feature: string;
  /** The output the linear layer writes (the logits). */
  logits: string;
  channels: number;
  classes: number;
  /** Class weights, row major `[classes, channels]`, with the linear layer's alpha applied. */
  weights: Float32Array;
}

const PASS = new Set(['Flatten', 'Reshape', 'Squeeze']);

/** Error for a model without the head, pointing to the forward-only methods. */
export class NoGapHeadError extends Error {
  constructor(reason: string) {
    super(
      `Grad-CAM needs a head of global average pooling then one linear layer, and ${reason}; ` +
        'use a forward-only method instead (occlusion, RISE, or Score-CAM with a feature tensor)',
    );
    this.name = 'NoGapHeadError';
  }
}

function isSpatialMean(node: NodeProto, model: OnnxModel): boolean {
  if (node.opType === 'GlobalAveragePool') return true;
  if (node.opType !== 'ReduceMean') return false;
  const attribute = node.attribute?.find((a) => a.name === 'axes');
  let axes = attribute ? (attribute.ints ?? []).map(toNumber) : undefined;
  if (!axes && node.input?.[1]) {
    const stored = model.weights().find((w) => w.name === node.input![1]);
    axes = stored ? Array.from(model.getWeight(stored.name)) : undefined;
  }
  return axes !== undefined && [...axes].sort().join() === '2,3';
}

/** The linear layer's weights as `[classes, channels]`, or why they cannot be read. */
function linearWeights(
  model: OnnxModel,
  node: NodeProto,
): { weights: Float32Array; classes: number; channels: number } | string {
  const name = node.input?.[1];
  const read = name ? readFloatWeight(model, name) : undefined;
  if (!read || read.dims.length !== 2) return `the linear layer's weight is not stored`;
  const { data, dims } = read;
  const transposed = node.opType === 'Gemm' && intAttribute(node, 'transB', 0) === 1;
  const [classes, channels] = transposed ? dims : [dims[1], dims[0]];
  const alpha =
    node.opType === 'Gemm' ? (node.attribute?.find((a) => a.name === 'alpha')?.f ?? 1) : 1;
  const weights = new Float32Array(classes * channels);
  for (let c = 0; c < classes; c++) {
    for (let k = 0; k < channels; k++) {
      weights[c * channels + k] =
        alpha * (transposed ? data[c * channels + k] : data[k * classes + c]);
    }
  }
  return { weights, classes, channels };
}

/**
 * Checks that `name` is a tensor of the model's graph (an input, a weight or a node output).
 *
 * @throws RangeError naming the tensor and the model, with the tensors averaged by a global
 * pooling as suggestions.
 */
export function requireTensor(model: OnnxModel, name: string): void {
  if (tensorNames(model.graph).has(name)) return;
  const pooled = model.graph.node
    .filter((n) => isSpatialMean(n, model))
    .map((n) => `'${n.input?.[0]}'`);
  throw new RangeError(
    `no tensor '${name}' in ${model.file ?? 'the model'}; ` +
      (pooled.length > 0
        ? `the feature map averaged by its pooling is ${pooled.join(', ')}`
        : 'name a node output of the graph (a feature map [batch, channels, height, width])'),
  );
}

/**
 * Finds the head: a GlobalAveragePool (or ReduceMean over height and width), then Flatten,
 * Reshape or Squeeze, then a Gemm or MatMul (with an Add for its bias) whose result is a graph
 * output. `feature` may name the pooled tensor explicitly.
 *
 * @throws RangeError when `feature` is not a tensor of the model; NoGapHeadError saying what is
 * missing.
 */
export function findGapHead(model: OnnxModel, feature?: string): GapHead {
  if (feature !== undefined) requireTensor(model, feature);
  const index = indexGraph(model.graph);
  const pools = model.graph.node.filter(
    (n) => isSpatialMean(n, model) && (feature === undefined || n.input?.[0] === feature),
  );
  if (pools.length === 0) {
    throw new NoGapHeadError(
      feature === undefined
        ? `${model.file ?? 'the model'} has no GlobalAveragePool`
        : `'${feature}' is not averaged by a GlobalAveragePool`,
    );
  }
  const reasons: string[] = [];
  for (const pool of pools) {
    let tensor = pool.output![0];
    let next = index.consumers.get(tensor) ?? [];
    while (next.length === 1 && PASS.has(next[0].opType ?? '')) {
      tensor = next[0].output![0];
      next = index.consumers.get(tensor) ?? [];
    }
    const linear = next.length === 1 ? next[0] : undefined;
    if (
      !linear ||
      (linear.opType !== 'Gemm' && linear.opType !== 'MatMul') ||
      linear.input?.[0] !== tensor
    ) {
      reasons.push(`the pooled features feed ${next.map((n) => n.opType).join(', ') || 'nothing'}`);
      continue;
    }
    let logits = linear.output![0];
    const after = index.consumers.get(logits) ?? [];
    if (linear.opType === 'MatMul' && after.length === 1 && after[0].opType === 'Add') {
      logits = after[0].output![0];
    }
    if (!index.outputs.has(logits)) {
      reasons.push(`the linear layer's result '${logits}' is not a graph output`);
      continue;
    }
    const read = linearWeights(model, linear);
    if (typeof read === 'string') {
      reasons.push(read);
      continue;
    }
    return { feature: pool.input![0], logits, ...read };
  }
  throw new NoGapHeadError(reasons.join('; '));
}
