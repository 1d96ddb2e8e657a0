/**
 * Symmetric per-channel int8 weight quantization: each kernel is stored as int8 with one float
 * scale per output channel (scale = max |w| / 127, zero point 0) and turned back into floats by
 * a DequantizeLinear node, the QDQ form ONNX Runtime reads. Weights take a quarter of the bytes;
 * activations stay float.
 */
import type { OnnxModel } from '../runtime/onnx/model.js';
import type { NodeProto, TensorProto } from '../runtime/onnx/proto.js';
import { constantsToInitializers } from '../runtime/onnx/edit.js';
import { intAttribute, kernels, type Kernel } from './graph-index.js';

/** What {@link quantizeInt8} did. */
export interface QuantizeResult {
  /** Kernels quantized, with the axis their scales run along. */
  weights: { name: string; dims: number[]; axis: number; maxError: number }[];
  /** Float weight entries before and after (biases and norms stay float). */
  floatParametersBefore: number;
  floatParametersAfter: number;
}

/** The axis of output channels: 0 for convolutions and Gemm with transB, the last otherwise. */
function channelAxis(kernel: Kernel): number {
  const uses = kernel.nodes.map((node) => {
    const op = node.opType;
    if (op === 'Conv') return 0;
    if (op === 'ConvTranspose') return 1;
    if (op === 'Gemm') return intAttribute(node, 'transB', 0) === 1 ? 0 : 1;
    return kernel.dims.length - 1;
  });
  return uses.every((a) => a === uses[0]) ? uses[0] : -1;
}

/** int8 values and per-channel scales of a kernel along `axis`. */
export function quantizeChannels(
  data: Float32Array,
  dims: readonly number[],
  axis: number,
): { values: Int8Array; scales: Float32Array; maxError: number } {
  const channels = dims[axis];
  const inner = dims.slice(axis + 1).reduce((a, b) => a * b, 1);
  const channelOf = (i: number): number => Math.floor(i / inner) % channels;
  const scales = new Float32Array(channels);
  for (let i = 0; i < data.length; i++) {
    const c = channelOf(i);
    scales[c] = Math.max(scales[c], Math.abs(data[i]));
  }
  for (let c = 0; c < channels; c++) scales[c] = scales[c] === 0 ? 1 : scales[c] / 127;
  const values = new Int8Array(data.length);
  let maxError = 0;
  for (let i = 0; i < data.length; i++) {
    const scale = scales[channelOf(i)];
    const q = Math.max(-127, Math.min(127, Math.round(data[i] / scale)));
    values[i] = q;
    maxError = Math.max(maxError, Math.abs(q * scale - data[i]));
  }
  return { values, scales, maxError };
}

function tensor(name: string, dataType: number, dims: number[], raw: Uint8Array): TensorProto {
  return { name, dataType, dims, rawData: raw };
}

/**
 * Quantizes every kernel (the weights of Conv, ConvTranspose, Gemm and MatMul) to int8, per
 * output channel. `Constant`-node weights are moved to initializers first. A kernel shared by
 * nodes that disagree on its channel axis is quantized per tensor.
 *
 * @throws Error for a model below opset 13 (per-channel DequantizeLinear needs 13) or without
 * kernels.
 * @example
 * ```ts
 * const model = await loadOnnxModel('models/mnist-cnn.onnx');
 * quantizeInt8(model).weights.length; // 6
 * ```
 */
export function quantizeInt8(model: OnnxModel): QuantizeResult {
  if (model.opset < 13) {
    throw new Error(
      `the model is opset ${model.opset}; per-channel DequantizeLinear needs opset 13 or later ` +
        '(re-export the model with a newer opset)',
    );
  }
  const floatParametersBefore = model.parameterCount();
  constantsToInitializers(model.graph);
  const found = kernels(model.graph);
  if (found.length === 0)
    throw new Error('the model has no kernel (Conv, Gemm or MatMul) to quantize');

  const graph = model.graph;
  const dequantize: NodeProto[] = [];
  const weights: QuantizeResult['weights'] = [];
  const replaced = new Set(found.map((k) => k.name));
  const added: TensorProto[] = [];
  for (const kernel of found) {
    const axis = channelAxis(kernel);
    const perTensor = axis < 0;
    const dims = perTensor ? [1, kernel.dims.reduce((a, b) => a * b, 1)] : kernel.dims;
    const data = model.getWeight(kernel.name);
    const { values, scales, maxError } = quantizeChannels(data, dims, perTensor ? 0 : axis);
    const base = kernel.name;
    const scaleDims = perTensor ? [] : [scales.length];
    added.push(
      tensor(`${base}_quantized`, 3, kernel.dims, new Uint8Array(values.buffer)),
      tensor(`${base}_scale`, 1, scaleDims, new Uint8Array(scales.buffer)),
      tensor(`${base}_zero_point`, 3, scaleDims, new Uint8Array(scales.length)),
    );
    dequantize.push({
      opType: 'DequantizeLinear',
      name: `${base}_DequantizeLinear`,
      input: [`${base}_quantized`, `${base}_scale`, `${base}_zero_point`],
      output: [base],
      attribute: perTensor ? [] : [{ name: 'axis', type: 2, i: axis }],
    });
    weights.push({ name: base, dims: kernel.dims, axis: perTensor ? -1 : axis, maxError });
  }
  graph.initializer = [...graph.initializer.filter((t) => !replaced.has(t.name ?? '')), ...added];
  graph.input = graph.input.filter((v) => !replaced.has(v.name ?? ''));
  graph.node = [...dequantize, ...graph.node];
  return { weights, floatParametersBefore, floatParametersAfter: model.parameterCount() };
}
