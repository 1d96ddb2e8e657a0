/**
 * What the compression passes need to know about a graph: which node produces and which nodes
 * consume each tensor, which weights are the kernels of convolutions and matrix products, and
 * how to give a weight new data and new dims.
 */
import type { Graph, OnnxModel } from '../runtime/onnx/model.js';
import { FLOAT_TYPES, toNumber, type NodeProto, type TensorProto } from '../runtime/onnx/proto.js';
import { weightTensors } from '../runtime/onnx/weights.js';

/** Producer and consumers of every tensor name. */
export interface GraphIndex {
  producer: Map<string, NodeProto>;
  consumers: Map<string, NodeProto[]>;
  outputs: Set<string>;
}

/** Indexes the graph's nodes by the tensors they read and write. */
export function indexGraph(graph: Graph): GraphIndex {
  const producer = new Map<string, NodeProto>();
  const consumers = new Map<string, NodeProto[]>();
  for (const node of graph.node) {
    for (const output of node.output ?? []) producer.set(output, node);
    for (const input of node.input ?? []) {
      if (!input) continue;
      if (!consumers.has(input)) consumers.set(input, []);
      consumers.get(input)!.push(node);
    }
  }
  return { producer, consumers, outputs: new Set(graph.output.map((o) => o.name ?? '')) };
}

/** An integer attribute of a node, or `fallback` when it is absent. */
export function intAttribute(node: NodeProto, name: string, fallback: number): number {
  const attribute = node.attribute?.find((a) => a.name === name);
  return attribute?.i === undefined || attribute.i === null ? fallback : toNumber(attribute.i);
}

/** The operators whose second input is a kernel that compression may prune or quantize. */
export const KERNEL_OPS: ReadonlySet<string> = new Set(['Conv', 'ConvTranspose', 'Gemm', 'MatMul']);

/** A floating-point kernel of rank 2 or more, with the nodes that use it. */
export interface Kernel {
  name: string;
  dims: number[];
  tensor: TensorProto;
  nodes: NodeProto[];
}

/**
 * The kernels of the graph: weights (initializers or `Constant` values) of rank 2 or more that
 * are the second input of a Conv, ConvTranspose, Gemm or MatMul. Biases, normalization
 * parameters and graph constants are not kernels.
 */
export function kernels(graph: Graph): Kernel[] {
  const weights = weightTensors(graph);
  const found = new Map<string, Kernel>();
  for (const node of graph.node) {
    if (!KERNEL_OPS.has(node.opType ?? '')) continue;
    const name = node.input?.[1];
    const located = name ? weights.get(name) : undefined;
    if (!name || !located || !FLOAT_TYPES.has(located.tensor.dataType ?? 0)) continue;
    const dims = (located.tensor.dims ?? []).map(toNumber);
    if (dims.length < 2) continue;
    const kernel = found.get(name) ?? { name, dims, tensor: located.tensor, nodes: [] };
    kernel.nodes.push(node);
    found.set(name, kernel);
  }
  return [...found.values()];
}

/**
 * Gives a float32 weight new data and new dims (filter pruning shrinks weights).
 * @throws RangeError when the data does not fill the dims; TypeError for a non-float32 weight.
 */
export function replaceWeight(graph: Graph, name: string, data: Float32Array, dims: number[]) {
  const located = weightTensors(graph).get(name);
  if (!located) throw new RangeError(`no weight named '${name}' in the model`);
  const size = dims.reduce((a, b) => a * b, 1);
  if (size !== data.length) {
    throw new RangeError(
      `weight '${name}': ${data.length} values do not fill [${dims.join(', ')}]`,
    );
  }
  if (located.tensor.dataType !== 1) {
    throw new TypeError(`weight '${name}' is not float32; only float32 weights can be reshaped`);
  }
  const tensor = located.tensor;
  tensor.dims = dims;
  tensor.rawData = new Uint8Array(data.slice().buffer);
  tensor.floatData = [];
}

/**
 * A float view of a weight: stored as it is, or stored as int8 and turned into floats by a
 * DequantizeLinear node on initializers (as `quantizeInt8` writes it). Undefined otherwise.
 */
export function readFloatWeight(
  model: OnnxModel,
  name: string,
): { data: Float32Array; dims: number[] } | undefined {
  const stored = model.weights().find((w) => w.name === name);
  if (stored) return { data: model.getWeight(name), dims: stored.dims };
  const node = model.graph.node.find((n) => n.output?.[0] === name);
  if (node?.opType !== 'DequantizeLinear') return undefined;
  const [q, s, z] = node.input ?? [];
  const quantized = model.weights().find((w) => w.name === q);
  if (!quantized || !model.weights().some((w) => w.name === s)) return undefined;
  const values = model.getWeight(q);
  const scales = model.getWeight(s);
  const zeros = z ? model.getWeight(z) : new Float32Array(scales.length);
  const dims = quantized.dims;
  const axis = (intAttribute(node, 'axis', 1) + dims.length) % dims.length;
  const inner = dims.slice(axis + 1).reduce((a, b) => a * b, 1);
  const data = new Float32Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const c = scales.length === 1 ? 0 : Math.floor(i / inner) % dims[axis];
    data[i] = (values[i] - zeros[c]) * scales[c];
  }
  return { data, dims };
}
